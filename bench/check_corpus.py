"""B6's time figure as a shop owner meets it: `micromall check` as a real process on each broken
site of the golden corpus (tests/reliability/test_bad_input_build.py), interpreter start and
imports included, N runs each; prints each site's median and the slowest median.

Run: python bench/check_corpus.py [--runs N]
The plan's bound is 2 s per site; this prints the times and does not judge them (the test
checks the bound in-process, where start-up is not counted).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "reliability")]
from conftest import MINI_SITE, write_site  # noqa: E402
from test_bad_input_build import CORPUS, RAW_BYTES  # noqa: E402


def time_check(site: Path, runs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "generator", "check", str(site)], capture_output=True, env=env)
        times.append(time.perf_counter() - started)
        if proc.returncode != 1:
            raise SystemExit(f"{site}: exit {proc.returncode}, expected 1\n{proc.stderr.decode()}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    medians: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, (files, _)) in enumerate(CORPUS.items()):
            site = write_site(Path(tmp) / f"site-{n}", {**MINI_SITE, **files})
            for rel, raw in RAW_BYTES.get(name, {}).items():
                (site / rel).write_bytes(raw)
            medians[name] = statistics.median(time_check(site, args.runs))
            print(f"{medians[name]:.2f} s  {name}")
    slowest = max(medians, key=medians.__getitem__)
    print(f"{len(medians)} broken sites, {args.runs} runs each: slowest median {medians[slowest]:.2f} s ({slowest}), "
          f"median of medians {statistics.median(medians.values()):.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
