"""Time the demo shop's build: a first build into an empty folder, and a rebuild with nothing changed.

Prints medians of several runs; the rebuild/first ratio is the number to compare across machines.
Run: python bench/build_demo.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from generator.build import build

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    first, again = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "public"
            started = time.perf_counter()
            result = build(REPO, out)
            first.append(time.perf_counter() - started)
            started = time.perf_counter()
            build(REPO, out)
            again.append(time.perf_counter() - started)
    f, a = statistics.median(first), statistics.median(again)
    print(f"demo: {result.pages} pages, {result.files} files; median of {runs} runs")
    print(f"first build      {f * 1000:7.1f} ms")
    print(f"unchanged rebuild {a * 1000:6.1f} ms  ({a / f:.2f}x the first build)")


if __name__ == "__main__":
    main()
