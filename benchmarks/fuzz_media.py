"""The long fuzz run of the media layer: damaged files through probe, decode and a short grade.

    python -m benchmarks.fuzz_media [--files 10000] [--start 0] [--timeout 20]

Prints the counts (files, kinds, ok, refused with a MoodgradeError, and the findings:
tracebacks, hangs, leftovers, modified inputs, multi-line messages) and the first
findings; figures go to benchmarks/RESULTS.md. The CI run (tests/fuzz) is the first
1,200 cases of the same sequence.
"""

import argparse
import datetime
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine
from render.io.damaged import cases, make_case, write_seeds
from tests.fuzz.media_runner import FINDINGS, Tally, run_case


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--start", type=int, default=0, help="first case number (runs are resumable)")
    parser.add_argument("--timeout", type=int, default=20, help="seconds one case may take")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="moodgrade-fuzz-") as work:
        work = Path(work)
        seeds = write_seeds(work / "seeds")
        by_name = {seed.name: seed for seed in seeds}
        inputs = work / "in"
        inputs.mkdir()
        tally = Tally()
        started = time.perf_counter()
        for case in cases(args.files, seeds, start=args.start):
            path = make_case(case, by_name, inputs, work / "seeds")
            run_case(path, work / "out", case.number, case.kind, tally, timeout_s=args.timeout)
            path.unlink()
        elapsed = time.perf_counter() - started
    print(f"moodgrade fuzz_media, {datetime.date.today()}, {machine()}")
    print(f"files {tally.files} in {elapsed:.0f} s ({tally.files / elapsed:.0f}/s), kinds {len(tally.kinds)}, "
          f"seeds {len(seeds)}")
    print("kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(tally.kinds.items())))
    print(f"ok {tally.outcomes['ok']}, refused (MoodgradeError) {tally.outcomes['error']}; "
          + ", ".join(f"{f} {tally.outcomes[f]}" for f in FINDINGS))
    for detail in tally.details[:20]:
        print("  " + detail)
    return 1 if tally.findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
