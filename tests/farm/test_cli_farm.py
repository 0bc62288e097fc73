"""The farm commands as a user runs them: interrupted and resumed, driven chunk by chunk by a
farm manager, and clear one-line errors."""

import importlib.util
import json
import os
import signal
import subprocess
import sys

import pytest

from render.errors import MoodgradeError
from render.farm.job_dir import load_job
from tests.farm.media import assert_same_render

# The lead registers render.cli.farm in render/cli/__init__.py; importing it first keeps these
# tests independent of that wiring.
_MAIN = "import sys, render.cli.farm; from render.cli import main; sys.exit(main(sys.argv[1:]))"
LOSSLESS_ARGS = ("--codec", "ffv1", "--pix-fmt", "bgr0")
needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="Ray (the farm extra) is not installed")


def farm_cli(*args) -> list[str]:
    return [sys.executable, "-c", _MAIN, *map(str, args)]


def run_main(capsys, *args) -> tuple[int, str, str]:
    """Run the command line in this process: (exit status, stdout, stderr)."""
    import render.cli.farm  # noqa: F401 - registers the farm commands
    from render.cli import main

    capsys.readouterr()
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _events(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _crash_session(session_id: int) -> None:
    """SIGKILL every process of a session (Ray workers leave the driver's process group, not its session)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == session_id:
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            continue


@needs_ray
def test_interrupted_job_resumes_and_redoes_only_missing_chunks(farm_clip, single_render, tmp_path):
    out, job_dir = tmp_path / "farm.mkv", tmp_path / "job"
    command = farm_cli("farm", "render", farm_clip, out, *LOSSLESS_ARGS, "--chunks", "8", "--workers", "1",
                       "--job-dir", job_dir, "--keep-job-dir", "--log-json")
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             start_new_session=True)
    try:
        done = 0
        for line in first.stdout:
            event = json.loads(line)
            done += event["event"] == "chunk" and event["state"] == "done"
            if done == 3:
                break
    finally:
        _crash_session(first.pid)     # the driver, its local Ray instance and its workers all die
        first.wait()
    assert not out.exists()
    job = load_job(job_dir)
    kept = {c["index"]: job.chunk_path(c["index"]).stat().st_mtime_ns
            for c in job.chunks if job.is_done(c["index"])}
    assert 3 <= len(kept) < 8

    second = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    events = _events(second.stdout)
    skipped = {e["index"] for e in events if e["event"] == "chunk" and e["state"] == "skipped"}
    rendered = {e["index"] for e in events if e["event"] == "chunk" and e["state"] == "done"}
    assert skipped == set(kept) and rendered == set(range(8)) - set(kept)
    result = events[-1]
    assert (result["chunks_skipped"], result["chunks_rendered"]) == (len(kept), 8 - len(kept))
    progress = [e for e in events if e["event"] == "progress"]
    assert progress and progress[-1]["frames_done"] == progress[-1]["frames_total"] == 80
    job = load_job(job_dir)
    for c in job.chunks:
        mtime = job.chunk_path(c["index"]).stat().st_mtime_ns
        if c["index"] in kept:
            assert mtime == kept[c["index"]], f"chunk {c['index']} was rendered again"
            assert c["attempts"] == 1
        else:
            assert mtime > max(kept.values())
    assert_same_render(out, single_render, frame_rate=25)


def test_farm_manager_renders_chunks_then_joins(farm_clip, single_render, tmp_path, capsys):
    out, job_dir = tmp_path / "farm.mkv", tmp_path / "job"
    status, stdout, stderr = run_main(capsys, "farm", "plan", farm_clip, out, *LOSSLESS_ARGS, "--chunk-seconds", "0.8",
                                      "--job-dir", job_dir, "--log-json")
    assert status == 0, stderr
    chunks = _events(stdout)[-1]["chunks"]
    assert [(c["start"], c["stop"]) for c in chunks] == [(0, 20), (20, 40), (40, 60), (60, 80)]
    status, _, stderr = run_main(capsys, "join", job_dir)
    assert status == 2
    assert stderr.strip().count("\n") == 0 and "chunks not rendered yet: 0, 1, 2, 3" in stderr
    for c in reversed(chunks):     # a farm manager may run them in any order
        status, _, stderr = run_main(capsys, "render-chunk", job_dir, c["index"], "-q")
        assert status == 0, stderr
    status, stdout, _ = run_main(capsys, "render-chunk", job_dir, 1, "--log-json")
    assert _events(stdout)[-1]["skipped"] is True
    status, stdout, stderr = run_main(capsys, "join", job_dir)
    assert status == 0, stderr
    assert "80 frames" in stdout
    assert_same_render(out, single_render, frame_rate=25)


@pytest.mark.parametrize("args, message", [
    (("render-chunk", "{tmp}/nothing", "0"), "not a farm job directory"),
    (("join", "{tmp}/nothing"), "not a farm job directory"),
    (("farm", "plan", "{clip}", "{tmp}/o.mkv", "--chunks", "2", "--chunk-seconds", "1"), "not both"),
    (("farm", "plan", "{tmp}/missing.mp4", "{tmp}/o.mkv"), "missing.mp4: no such file"),
    (("farm", "plan", "{clip}", "{tmp}/o"), "file extension"),
    (("farm", "plan", "{clip}", "{tmp}/o.mkv", "--preset", "nonesuch"), "unknown preset 'nonesuch'"),
    pytest.param(("farm", "render", "{clip}", "{tmp}/o.mkv", "--address", "127.0.0.1:1"),
                 "cannot reach the Ray cluster at 127.0.0.1:1", marks=needs_ray),
])
def test_bad_requests_are_one_line_errors(farm_clip, tmp_path, capsys, args, message):
    status, _, stderr = run_main(capsys, *(a.format(tmp=tmp_path, clip=farm_clip) for a in args))
    assert status == 2
    assert stderr.startswith("moodgrade: error: ") and stderr.count("\n") == 1
    assert message in stderr


def test_job_dir_of_another_job_is_refused(farm_clip, make_clip, tmp_path):
    from render.farm.plan import plan_job

    plan_job(farm_clip, tmp_path / "o.mkv", job_dir=tmp_path / "job", chunks=2)
    other = make_clip("farm-other.mp4", frames=20, gop=10)
    with pytest.raises(MoodgradeError, match="holds a different job"):
        plan_job(other, tmp_path / "o.mkv", job_dir=tmp_path / "job", chunks=2)


def test_changed_input_stops_a_chunk(make_clip, tmp_path):
    from render.farm.chunk_render import render_chunk
    from render.farm.plan import plan_job
    from render.io.synthetic import ClipSpec, write_clip

    clip = write_clip(tmp_path / "in.mp4", ClipSpec(frames=20, gop=10, audio_channels=0))
    job = plan_job(clip, tmp_path / "o.mkv", chunks=2)
    os.utime(clip, ns=(0, 0))
    with pytest.raises(MoodgradeError, match="changed since the job was planned"):
        render_chunk(job.dir, 0)


def test_missing_ray_is_one_clear_line(monkeypatch):
    from render.farm.ray_cluster import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MoodgradeError, match=r"needs Ray: pip install 'moodgrade\[farm\]'"):
        import_ray()


def test_removing_a_finished_job_keeps_files_it_did_not_write(make_clip, tmp_path):
    from render.farm.chunk_render import render_chunk
    from render.farm.job_dir import remove_job
    from render.farm.join import join_chunks
    from render.farm.plan import plan_job
    from render.io.synthetic import ClipSpec, write_clip

    clip = write_clip(tmp_path / "in.mp4", ClipSpec(frames=20, gop=10, audio_channels=0))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    job = plan_job(clip, tmp_path / "o.mkv", chunks=2, job_dir=mine)
    for c in job.chunks:
        render_chunk(job.dir, c["index"])
    assert join_chunks(job.dir).frames == 20
    remove_job(job)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
