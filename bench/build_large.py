"""B7's build-time figure: a full build of a generated 1,000-product shop, 3 runs, the median.

Run: python bench/build_large.py [--products N] [--runs N]   (needs hyperfine: apt-get install hyperfine)
Times `micromall build` as a process with hyperfine, cold (no image cache, no output) and as a full
build into a new output folder with the image cache warm. The plan's bound is 60 s on 2 cores;
this prints the times and does not judge them.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from conftest import MINI_SITE, write_site  # noqa: E402


def make_shop(root: Path, products: int) -> Path:
    files = dict(MINI_SITE)
    lines = ["collection:", "  id: tea", "  title: Tea", "products:"]
    for i in range(products):
        lines += [f"  - id: p{i}", f"    title: Product {i}", f"    price: {10 + i % 90}.{i % 100:02d}",
                  f"    summary: Summary of product {i}.", f"    description: A **fine** product, number {i}.",
                  f"    images: [images/p{i % 20}.jpg]", f"    tags: [t{i % 15}]"]  # fmt: skip
    files["content/catalog/tea.yml"] = "\n".join(lines) + "\n"
    files["content/stories/harvest.md"] = (
        files["content/stories/harvest.md"]
        .replace("[green]", "[p1]")
        .replace("{{ product green }}", "{{ product p1 }}")
    )
    site = write_site(root, files)
    for i in range(20):
        Image.new("RGB", (800, 600), (i * 10, 120, 90)).save(site / f"content/images/p{i}.jpg")
    return site


def hyperfine(name: str, command: str, prepare: str, runs: int, export: Path) -> dict[str, float]:
    """One hyperfine measurement (the plan's tool for B7); its JSON gives median, min and max."""
    subprocess.run(["hyperfine", "--runs", str(runs), "--prepare", prepare, "--command-name", name,
                    "--export-json", str(export), "--style", "basic", command], check=True)  # fmt: skip
    result = json.loads(export.read_text())["results"][0]
    return {"median": result["median"], "min": result["min"], "max": result["max"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site = make_shop(root / "site", args.products)
        cache, out = root / "cache", root / "public"
        build_cmd = (f"env MICROMALL_CACHE={shlex.quote(str(cache))} PYTHONPATH={shlex.quote(str(REPO))} "
                     f"{shlex.quote(sys.executable)} -m generator build {shlex.quote(str(site))} "
                     f"--out {shlex.quote(str(out))}")  # fmt: skip
        if shutil.which("hyperfine") is None:
            sys.exit("hyperfine is not installed (apt-get install hyperfine)")
        # cold: no cached images and no output; warm: the image cache kept, the output folder new
        cold = hyperfine("cold", build_cmd, f"rm -rf {shlex.quote(str(cache))} {shlex.quote(str(out))}",
                         args.runs, root / "cold.json")  # fmt: skip
        warm = hyperfine("warm", build_cmd, f"rm -rf {shlex.quote(str(out))}", args.runs, root / "warm.json")
        load = os.getloadavg()[0]
    for name, t in (("cold (nothing cached)", cold), ("full build, image cache warm", warm)):
        print(f"{args.products} products, {name}: median {t['median']:.1f} s "
              f"(min {t['min']:.1f}, max {t['max']:.1f}) over {args.runs} runs; load {load:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
