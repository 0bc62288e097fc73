"""``moodgrade grade IN OUT``: grade a video into a new file."""

import math

import click

from render.cli import cli
from render.cli.reporting import make_reporter, reporter_options
from render.errors import MoodgradeError
from render.audio.soundtrack import LOUDNESS_RANGE_LUFS, TRUE_PEAK_RANGE_DBTP
from render.io.audio_file import AUDIO_CODECS
from render.io.sink import RATE_CONTROLLED, VIDEO_CODECS, EncodeSettings
from render.mood_grade import GradeOptions, grade_video


def stack_options(command, options):
    """Apply click decorators in the order listed (as if written top to bottom)."""
    for option in reversed(options):
        command = option(command)
    return command


def encode_options(command):
    """The output options shared by every command that writes video."""
    return stack_options(command, [
        click.option("--codec", type=click.Choice(VIDEO_CODECS), default="libx264", show_default=True,
                     help="Video encoder."),
        click.option("--crf", type=click.FloatRange(0, 51), default=18.0, show_default=True,
                     help="Constant rate factor for libx264/libx265 (0 = lossless)."),
        click.option("--bitrate", "bitrate_kbps", type=click.IntRange(1), default=None,
                     help="Target video bitrate in kbit/s (replaces --crf)."),
        click.option("--speed-preset", default="medium", show_default=True,
                     type=click.Choice(["ultrafast", "superfast", "veryfast", "faster", "fast", "medium",
                                        "slow", "slower", "veryslow"]),
                     help="x264/x265 speed preset."),
        click.option("--pix-fmt", default=None, help="Output pixel format (default: keeps the source's depth)."),
        click.option("--audio-codec", type=click.Choice(["copy", *AUDIO_CODECS, "none"]), default="copy",
                     show_default=True, help="Soundtrack: copy untouched, re-encode, or drop."),
        click.option("--overwrite", is_flag=True, help="Replace OUT if it exists."),
    ])


def encode_settings(codec, crf, bitrate_kbps, speed_preset, pix_fmt, audio_codec) -> EncodeSettings:
    """EncodeSettings from the values of :func:`encode_options`; rate options given for a codec
    that ignores them (ffv1, png, prores_ks) are refused in one line."""
    if codec not in RATE_CONTROLLED:
        ignored = [f"--{name.replace('_kbps', '').replace('_', '-')}"
                   for name in ("crf", "bitrate_kbps", "speed_preset") if _given(name)]
        if ignored:
            raise MoodgradeError(f"{', '.join(ignored)}: no effect with --codec {codec} (only "
                                 f"{' and '.join(RATE_CONTROLLED)} take {'it' if len(ignored) == 1 else 'them'})")
    return EncodeSettings(codec=codec, crf=crf, bitrate_bps=bitrate_kbps * 1000 if bitrate_kbps else None,
                          speed_preset=speed_preset, pix_fmt=pix_fmt, audio=audio_codec)


def look_options(command):
    """The picture options of every command that grades (grade, serve, farm)."""
    return stack_options(command, [
        click.option("--preset", default=None, help="A look: a built-in name, a user preset name or a .toml path."),
        click.option("--mood", default="auto", show_default=True,
                     help="auto (analyse), an emotion (happy, sad, ...) or a timeline .json / override .csv."),
        click.option("--intensity", type=click.FloatRange(0, 1), default=1.0, show_default=True,
                     help="How strongly the mood changes the look and sound, 0..1."),
        click.option("--lut", type=click.Path(dir_okay=False), default=None,
                     help="A .cube LUT applied first (e.g. a camera log to Rec.709 LUT)."),
        click.option("--lut-interp", "lut_interpolation", type=click.Choice(["tetrahedral", "trilinear"]),
                     default="tetrahedral", show_default=True),
        click.option("--cdl", type=click.Path(dir_okay=False), default=None, help="An ASC CDL (.cdl/.cc/.ccc)."),
        click.option("--cdl-id", default=None, help="Which correction of a .ccc/.cdl file."),
        click.option("--grade-file", type=click.Path(dir_okay=False), default=None,
                     help="A TOML file of ops ([[op]] tables) applied after the CDL and LUT."),
        click.option("--op", "assignments", multiple=True, metavar="OP.KEY=VALUE",
                     help="Set an op value, e.g. exposure.exposure_ev=0.5 (repeatable)."),
        click.option("--backend", type=click.Choice(["auto", "cuda", "opencl", "numpy"]), default="auto",
                     show_default=True, help="Where the kernels run."),
        click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
                     help="Where mood timelines are cached (default: $XDG_CACHE_HOME/moodgrade)."),
    ])


def sound_options(command):
    """The soundtrack options of every command that writes a file (grade, farm)."""
    return stack_options(command, [
        click.option("--no-audio", is_flag=True, help="Drop the soundtrack."),
        click.option("--loudness", "loudness_lufs", type=click.FloatRange(*LOUDNESS_RANGE_LUFS), default=-14.0,
                     show_default=True, help="Soundtrack loudness target in LUFS (-23 for broadcast)."),
        click.option("--true-peak", "true_peak_dbtp", type=click.FloatRange(*TRUE_PEAK_RANGE_DBTP), default=-1.0,
                     show_default=True, help="Soundtrack true-peak ceiling in dBTP (4x oversampled)."),
    ])


def grade_options(params: dict) -> GradeOptions:
    """GradeOptions from a command's :func:`look_options` (and :func:`sound_options`) values,
    which are taken out of ``params``."""
    fields = {name: params.pop(name) for name in (
        "preset", "mood", "intensity", "lut", "lut_interpolation", "cdl", "cdl_id", "grade_file",
        "cache_dir", "loudness_lufs", "true_peak_dbtp") if name in params}
    backend = params.pop("backend")
    options = GradeOptions(**fields, assignments=tuple(params.pop("assignments")),
                           audio=not params.pop("no_audio", False), backend=None if backend == "auto" else backend)
    if options.preset is None:
        _refuse_options_without_a_look()
    return options


MOOD_OPTIONS = {"mood": "--mood", "intensity": "--intensity", "loudness_lufs": "--loudness",
                "true_peak_dbtp": "--true-peak"}


def _refuse_options_without_a_look() -> None:
    """The mood, intensity and soundtrack options drive a preset's look and sound: given without
    --preset they would do nothing, so they are refused (one line) instead of ignored."""
    given = [flag for name, flag in MOOD_OPTIONS.items() if _given(name)]
    if given:
        raise MoodgradeError(f"{', '.join(given)} {'needs' if len(given) == 1 else 'need'} a look to drive: "
                             "add --preset NAME (for instance --preset natural; `moodgrade presets` lists them)")


def _given(name: str) -> bool:
    """True when the running command's option ``name`` was set by the user (not its default)."""
    context = click.get_current_context(silent=True)
    return context is not None and name in context.params and context.get_parameter_source(name) in (
        click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)


def has_look(options: GradeOptions) -> bool:
    """True when ``options`` change the picture at all."""
    return bool(options.preset or options.assignments or options.lut or options.cdl or options.grade_file)


@cli.command()
@click.argument("input_path", metavar="IN", type=click.Path())
@click.argument("output_path", metavar="OUT", type=click.Path())
@look_options
@sound_options
@encode_options
@click.option("--threads", "workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Frames processed at once.")
@reporter_options
def grade(input_path, output_path, **params) -> None:
    """Grade IN to its moods and write OUT (written atomically; IN is never modified)."""
    reporter = make_reporter(params.pop("quiet"), params.pop("log_json"))
    options = grade_options(params)
    overwrite, workers = params.pop("overwrite"), params.pop("workers")
    settings = encode_settings(**params)
    with reporter.task("grading"):
        report = grade_video(input_path, output_path, options, settings, overwrite=overwrite, workers=workers,
                             on_analysis=reporter.analysis_progress, on_progress=reporter.progress,
                             on_phase=reporter.begin)
    result, sound = report.render, report.soundtrack
    text = (f"wrote {result.output} ({result.frames} frames, {result.duration_s:.2f} s"
            + (f", preset {report.preset}" if report.preset else "") + f", audio {result.audio}"
            + (f" as {result.audio_codec}" if result.audio_codec else ""))
    fields = dict(output=str(result.output), frames=result.frames, duration_s=round(result.duration_s, 3),
                  audio=result.audio, audio_codec=result.audio_codec, preset=report.preset,
                  picture_notes=list(report.picture_notes))
    for note in report.picture_notes:
        reporter.warning(f"picture: {note}")
    if not has_look(options):
        reporter.warning("no look given (--preset, --op, --lut, --cdl or --grade-file): the picture was copied "
                         "unchanged; --preset natural is the plainest mood-driven look")
    if sound is not None:
        lufs = sound.measured_lufs if sound.measured_lufs is not None and math.isfinite(sound.measured_lufs) else None
        peak = sound.measured_true_peak_dbtp if math.isfinite(sound.measured_true_peak_dbtp) else None
        if lufs is not None:
            text += f", {lufs:.1f} LUFS, {peak:.1f} dBTP"
        fields.update(loudness_lufs=lufs, true_peak_dbtp=peak, soundtrack_notes=list(sound.notes))
        for note in sound.notes:
            reporter.warning(f"soundtrack: {note}")
    reporter.result(text + ")", **fields)
