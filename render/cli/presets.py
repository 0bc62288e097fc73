"""``moodgrade presets list | show NAME | validate FILE``."""

import click

from render.cli import cli
from render.looks.preset import list_presets, load_preset, op_key


@cli.group()
def presets() -> None:
    """The looks: built-in, in $MOODGRADE_PRESETS folders, or any .toml file."""


@presets.command("list")
def list_command() -> None:
    """Every preset found, with its one-line description."""
    names = list_presets()
    width = max(map(len, names), default=0)
    for name in names:
        click.echo(f"{name:<{width}}  {load_preset(name).description}")


@presets.command()
@click.argument("name")
def show(name: str) -> None:
    """What a preset does: its base look and what each mood changes."""
    preset = load_preset(name)
    click.echo(f"{preset.name}: {preset.description}\nfile: {preset.path}")
    click.echo("look: " + " -> ".join(op_key(op) for op in preset.look))
    for driver, changes in sorted(preset.deltas.items()):
        parts = [f"{op}.{field} {'+' if v[0] >= 0 else ''}{', '.join(f'{x:g}' for x in v)}"
                 for (op, field), v in changes.items()]
        click.echo(f"  {driver:8s} " + "; ".join(parts))
    if preset.faces:
        click.echo("faces: " + ", ".join(f"{k} {v:g}" for k, v in preset.faces.items()))
    click.echo("expect (happy vs sad): " + ", ".join(f"{k} {v}" for k, v in preset.expect.items()))


@presets.command()
@click.argument("path")
def validate(path: str) -> None:
    """Check a preset file (or name); prints OK or the first mistake."""
    from render.audio.style import SoundtrackStyle

    preset = load_preset(path)
    SoundtrackStyle.from_mapping(preset.soundtrack, f"{preset.path} [soundtrack]")
    click.echo(f"{preset.path}: OK ({len(preset.look)} ops, moods: {', '.join(sorted(preset.deltas))})")
