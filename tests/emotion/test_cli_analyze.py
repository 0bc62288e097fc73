"""`moodgrade analyze`: the files it writes, the summary it prints, one-line errors."""

import json
import os
import stat

import cv2
import pytest

import render.cli.analyze  # noqa: F401  (registers the command until render/cli/__init__.py imports it)
from render.cli import main
from tests.emotion import clips


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "cuts.mp4"
    return clips.write_clip(path, clips.hard_cut_frames((24, 60), 90), audio=clips.tone(90 / clips.FPS))


def test_writes_json_csv_and_plot(clip, tmp_path, capsys):
    out = {k: tmp_path / f"t.{k}" for k in ("json", "csv", "png")}
    status = main(["analyze", str(clip), "--json", str(out["json"]), "--csv", str(out["csv"]),
                   "--plot", str(out["png"]), "--cache-dir", str(tmp_path / "cache")])
    assert status == 0
    printed = capsys.readouterr().out
    assert "90 frames, 3 shots" in printed and "absent: faces" in printed
    doc = json.loads(out["json"].read_text())
    assert doc["schema"] == "moodgrade.timeline/2" and doc["cuts"] == [24, 60]
    assert len(out["csv"].read_text().splitlines()) == 2 + 90
    picture = cv2.imread(str(out["png"]))
    assert picture.shape[1] == 1200 and picture.shape[0] > 400
    assert (picture < 250).mean() > 0.2                       # something was drawn


def test_written_files_follow_the_umask_as_videos_do(clip, tmp_path, capsys):
    mask = os.umask(0o022)
    os.umask(mask)
    out = {k: tmp_path / f"t.{k}" for k in ("json", "csv")}
    assert main(["analyze", str(clip), "--json", str(out["json"]), "--csv", str(out["csv"]),
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    written = [*out.values(), *(tmp_path / "cache").glob("*.json")]
    assert len(written) == 3
    assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o666 & ~mask}


def test_log_json_and_no_cache(clip, tmp_path, capsys):
    assert main(["analyze", str(clip), "--no-cache", "--log-json", "--cache-dir", str(tmp_path / "c")]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[-1]["event"] == "result" and events[-1]["cuts"] == [24, 60]
    assert not (tmp_path / "c").exists()


def test_errors_are_one_line(clip, tmp_path, capsys):
    bad = tmp_path / "o.csv"
    bad.write_text("0,1,happy,2\n")
    assert main(["analyze", str(clip), "--override", str(bad), "--no-cache"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "o.csv:1: intensity '2' is outside 0..1" in err
    assert main(["analyze", str(clip), "--json", str(clip)]) == 2
    assert "would overwrite the input" in capsys.readouterr().err
    assert main(["analyze", str(clip), "--plot", str(tmp_path / "p.jpg")]) == 2          # refused before analysing
    assert "PNG" in capsys.readouterr().err
