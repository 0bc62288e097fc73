"""Watch a clip graded live in mpv or ffplay, the way an editor's viewer would.

Start the server first (it prints its address):

    moodgrade serve --root ~/footage

then:

    python examples/preview_player.py unix:/run/user/1000/moodgrade/preview.sock shot01.mp4 --mood sad
    python examples/preview_player.py tcp://127.0.0.1:7700 shot01.mp4 --token "$MOODGRADE_TOKEN"

The script opens the clip, applies the look you name, asks the server for a y4m
stream of graded frames and hands its URL to the player, which reads it as it is
(as it would read VapourSynth's vspipe). Without mpv or ffplay it prints the command
to run, or with ``--save OUT.mkv`` records the stream with FFmpeg (lossless FFV1).
"""

import argparse
import shutil
import subprocess
import sys

from render.client import PreviewClient


def player_command(url: str, save: str | None) -> list[str] | None:
    """The command that reads ``url``: mpv, else ffplay, else FFmpeg recording to ``save``."""
    if save:
        import imageio_ffmpeg
        return [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", url, "-c:v", "ffv1", save]
    if shutil.which("mpv"):
        return ["mpv", "--really-quiet", url]
    if shutil.which("ffplay"):
        return ["ffplay", "-v", "error", "-autoexit", url]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("address", help="unix:PATH or tcp://127.0.0.1:PORT, as `moodgrade serve` printed it")
    parser.add_argument("clip", help="a file under one of the server's --root folders")
    parser.add_argument("--token", default=None, help="the server's token (TCP only)")
    parser.add_argument("--start", type=int, default=0, help="first frame")
    parser.add_argument("--stop", type=int, default=None, help="frame after the last (default: the end)")
    parser.add_argument("--preset", default=None)
    parser.add_argument("--intensity", type=float, default=None, help="0..1")
    parser.add_argument("--mood", default=None, help="override the clip's mood (happy, sad, ...)")
    parser.add_argument("--chroma", default="420jpeg", choices=["444", "420jpeg", "420mpeg2"])
    parser.add_argument("--save", default=None, help="record the stream to this file instead of playing it")
    args = parser.parse_args()

    with PreviewClient.connect(args.address, token=args.token) as client:
        info = client.open(args.clip)["info"]["video"]
        print(f"{args.clip}: {info['width']}x{info['height']}, {info['frame_count']} frames at "
              f"{info['frame_rate_fps']:g} fps", file=sys.stderr)
        look = {k: v for k, v in (("preset", args.preset), ("intensity", args.intensity), ("mood", args.mood))
                if v is not None}
        if look:
            print(f"look: {client.set(**look)}", file=sys.stderr)
        stream = client.y4m(args.start, args.stop, chroma=args.chroma)
        command = player_command(stream["url"], args.save)
        if command is None:
            print(f"no mpv or ffplay found; within 30 s run:  mpv {stream['url']}", file=sys.stderr)
            return 1
        return subprocess.run(command).returncode


if __name__ == "__main__":
    sys.exit(main())
