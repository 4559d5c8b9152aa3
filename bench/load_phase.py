"""Time the load phase (generator/load.py `load_site`) of a large shop, as the CLI and the preview
run it. Issue #6: reading 10,000 products must not cost seconds when nothing changed.

    python bench/load_phase.py SITE_DIR [--runs 5] [--edits 5] [--work DIR]

SITE_DIR is copied (one of its catalog files is edited) and its images measured once first
(measured.json), so that every figure times parsing, not decoding photos:

- cold: a new process, no parsed files in the cache folder (`parsed/` removed first);
- warm CLI: a new process, the cache folder as the cold run left it: its wall time inside
  `load_site`, the whole process's, and its peak memory (ru_maxrss);
- preview: one process loads the shop twice, then after each edit of one catalog file (a price
  changed) loads it again, as `micromall serve` does: the time of those reloads.

Each figure is the median of its runs with min and max, and the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from generator.load import load_site

site, cache, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
started = time.perf_counter()
shop, _ = load_site(site, cache)
first = time.perf_counter() - started
reloads = []
if mode == "preview":
    load_site(site, cache)
    target = sorted((site / "content/catalog").glob("*.yml"))[len(shop.products) % 7]
    for n in range(int(sys.argv[4])):
        text = target.read_text("utf-8")
        # one price in the file changes (the first 'price: ' line), as a shop owner edits one product
        head, sep, tail = text.partition("\n    price: ")
        value, rest = tail.split("\n", 1)
        target.write_text(f"{head}{sep}{int(float(value)) + 1 + n}.00\n{rest}", "utf-8")
        started = time.perf_counter()
        load_site(site, cache)
        reloads.append(time.perf_counter() - started)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"load": first, "reloads": reloads, "peak_mb": peak, "products": len(shop.products)}))
"""


def child(site: Path, cache: Path, mode: str, edits: int = 0) -> tuple[dict[str, object], float]:
    """Run one child process; what it printed and its wall time."""
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", str(REPO)))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(site), str(cache), mode, str(edits)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def line(name: str, values: list[float], unit: str = "s") -> str:
    scale = 1000 if unit == "ms" else 1
    med, lo, hi = (scale * statistics.median(values), scale * min(values), scale * max(values))
    load = os.getloadavg()[0]
    return f"{name:<34} {med:8.3f} {unit} (min {lo:.3f}, max {hi:.3f}, n={len(values)})  load {load:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--work", type=Path, help="a folder for the copy (default: a temporary one)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="micromall-load-"))
    site, cache = work / "site", work / "cache"
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(args.site, site, ignore=shutil.ignore_patterns(".micromall-cache"))
    cache.mkdir(parents=True, exist_ok=True)
    try:
        info, _ = child(site, cache, "cli")  # measures every image once: measured.json
        print(f"{info['products']} products, {os.cpu_count()} cores")
        cold, warm, warm_wall, peaks, reloads = [], [], [], [], []
        for _ in range(args.runs):
            shutil.rmtree(cache / "parsed", ignore_errors=True)
            info, _ = child(site, cache, "cli")
            cold.append(float(info["load"]))  # type: ignore[arg-type]
        for _ in range(args.runs):
            info, wall = child(site, cache, "cli")
            warm.append(float(info["load"]))  # type: ignore[arg-type]
            warm_wall.append(wall)
            peaks.append(float(info["peak_mb"]))  # type: ignore[arg-type]
        for _ in range(max(1, args.runs // 2)):
            info, _ = child(site, cache, "preview", args.edits)
            reloads.extend(float(r) for r in info["reloads"])  # type: ignore[union-attr]
        print(line("cold load_site (no parsed files)", cold))
        print(line("warm CLI load_site", warm))
        print(line("warm CLI process (start to exit)", warm_wall))
        print(line("warm CLI peak memory", peaks, "MB"))
        print(line("preview reload after 1-file edit", reloads, "ms"))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
