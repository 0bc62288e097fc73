"""Damaged media through the commands' code: only MoodgradeError may escape, one line, no hang,
nothing left behind, the input unchanged (benchmarks/fuzz_media.py runs the long version)."""

import os

from render.io.damaged import DAMAGE, Case, cases, make_case
from tests.fuzz.media_runner import Tally, run_case

CI_CASES = int(os.environ.get("MOODGRADE_FUZZ_CASES", "1200"))


def test_seeds_are_clean_and_cover_the_containers(seeds, tmp_path):
    """The undamaged seeds all open and grade (so damage, not the seed, is what fails)."""
    assert {"mp4_moov_end", "mp4_moov_start", "mkv", "mov"} <= set(seeds)
    assert seeds["mp4_moov_start"].data.index(b"moov") < seeds["mp4_moov_start"].data.index(b"mdat")
    assert seeds["mp4_moov_end"].data.index(b"moov") > seeds["mp4_moov_end"].data.index(b"mdat")
    tally = Tally()
    for number, seed in enumerate(seeds.values()):
        path = tmp_path / f"{seed.name}{seed.suffix}"
        path.write_bytes(seed.data)
        assert run_case(path, tmp_path / "out", number, "seed", tally) == "ok", seed.name


def test_damage_is_deterministic_and_changes_the_file(seeds, tmp_path, seed_dir):
    for kind in DAMAGE:
        first = make_case(Case(kind, "mp4_moov_end", 7), seeds, tmp_path, seed_dir).read_bytes()
        again = make_case(Case(kind, "mp4_moov_end", 7), seeds, tmp_path, seed_dir).read_bytes()
        assert first == again, kind
        assert first != seeds["mp4_moov_end"].data, kind


def test_damaged_media_fail_cleanly(seeds, seed_dir, tmp_path):
    todo = cases(CI_CASES, list(seeds.values()))
    tally = Tally()
    inputs = tmp_path / "in"
    inputs.mkdir()
    for case in todo:
        path = make_case(case, seeds, inputs, seed_dir)
        run_case(path, tmp_path / "out", case.number, case.kind, tally, timeout_s=20)
        path.unlink()
    assert tally.files >= min(CI_CASES, 1000)
    assert len(tally.kinds) >= 12, tally.kinds
    assert not list(inputs.iterdir())
    assert tally.findings == 0, "\n".join(tally.details[:30])
    # the damage must matter: a good share of the files are refused, and some still grade
    assert tally.outcomes["error"] > tally.files // 5 and tally.outcomes["ok"] > tally.files // 10, tally.outcomes
