"""``moodgrade probe IN``: stream information as a table or JSON."""

import json

import click

from render.cli import cli
from render.io.source import open_source


@cli.command()
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=True))
@click.option("--json", "as_json", is_flag=True, help="Print the information as JSON.")
def probe(input_path: str, as_json: bool) -> None:
    """Show what IN contains: size, frame rate, frame count, colour tags, audio."""
    with open_source(input_path) as source:
        info = source.info.to_dict()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    rows = [("file", info["path"]), ("container", info["container"]),
            ("duration", f"{info['duration_s']:.3f} s")]
    for kind in ("video", "audio"):
        section = info[kind]
        if section is None:
            rows.append((kind, "none"))
            continue
        rows += [(f"{kind} {key}", str(value)) for key, value in section.items()]
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        click.echo(f"{key:<{width}}  {value}")
