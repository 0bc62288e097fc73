"""``moodgrade grade IN OUT``: grade a video into a new file."""

import click

from render.cli import cli
from render.cli.reporting import make_reporter, reporter_options
from render.io.sink import AUDIO_CODECS, VIDEO_CODECS, EncodeSettings
from render.job import render_file


def encode_options(command):
    """The output options shared by every command that writes video."""
    options = [
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
    ]
    for option in reversed(options):
        command = option(command)
    return command


def encode_settings(codec, crf, bitrate_kbps, speed_preset, pix_fmt, audio_codec) -> EncodeSettings:
    """EncodeSettings from the values of :func:`encode_options`."""
    return EncodeSettings(codec=codec, crf=crf, bitrate_bps=bitrate_kbps * 1000 if bitrate_kbps else None,
                          speed_preset=speed_preset, pix_fmt=pix_fmt, audio=audio_codec)


@cli.command()
@click.argument("input_path", metavar="IN", type=click.Path())
@click.argument("output_path", metavar="OUT", type=click.Path())
@encode_options
@click.option("--threads", "workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Frames processed at once.")
@reporter_options
def grade(input_path, output_path, codec, crf, bitrate_kbps, speed_preset, pix_fmt, audio_codec,
          overwrite, workers, quiet, log_json) -> None:
    """Grade IN and write the result to OUT (written atomically; IN is never modified)."""
    reporter = make_reporter(quiet, log_json)
    settings = encode_settings(codec, crf, bitrate_kbps, speed_preset, pix_fmt, audio_codec)
    with reporter.task("grading", total=0):
        result = render_file(input_path, output_path, settings, overwrite=overwrite,
                             workers=workers, on_progress=reporter.progress)
    reporter.result(f"wrote {result.output} ({result.frames} frames, {result.duration_s:.2f} s, "
                    f"audio {result.audio})", output=str(result.output), frames=result.frames,
                    duration_s=round(result.duration_s, 3), audio=result.audio)
