"""Time the responsive images: every content photo in several widths, WebP and JPEG.

For the demo shop:

- make ms/source: one ResizeSpec rendered in this process (decode once, resize to every
  width, encode WebP and JPEG), median over the demo's content images;
- cold ms/source: the images phase of a build with an empty cache (every photo size and every
  share picture made on all cores), divided by the number of content images;
- warm ms/source: the same for a rebuild with nothing changed (looked up in the cache,
  nothing drawn);
- WebP methods: time and size of each `method` at 720 px, the measurement behind WEBP_METHOD.

Run: python bench/images.py [--runs N] [--methods]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image

from generator.build import build
from generator.cache import ImageCache
from generator.load import load_site
from generator.responsive import ResizeSpec, content_images, height_for, plan_pictures

REPO = Path(__file__).resolve().parent.parent


def make_each(site_dir: Path, cache_dir: Path) -> list[float]:
    site, _ = load_site(site_dir)
    plan = plan_pictures(site, site_dir, ImageCache(cache_dir))
    times = []
    for job in plan.jobs:
        assert isinstance(job.spec, ResizeSpec)
        started = time.perf_counter()
        job.spec.render()
        times.append(time.perf_counter() - started)
    return times


def builds(site_dir: Path, runs: int) -> tuple[int, list[float], list[float], int]:
    cold, warm = [], []
    sources = 0
    drawn = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            out, cache = Path(tmp) / "public", Path(tmp) / "cache"
            first = build(site_dir, out, cache_dir=cache)
            cold.append(first.timings["images"])
            again = build(site_dir, out, cache_dir=cache)
            warm.append(again.timings["images"])
            assert again.images_drawn == 0, again.images_drawn
            sources = len(content_images(first.site))
            drawn = first.images_drawn
    return sources, cold, warm, drawn


def methods(site_dir: Path) -> None:
    site, _ = load_site(site_dir)
    photos = []
    for image in content_images(site)[:12]:
        with Image.open(site_dir / "content" / image.path) as img:
            img.draft("RGB", (720, height_for((image.width, image.height), 720)))
            rgb = img.convert("RGB")
        photos.append(rgb.resize((720, height_for(rgb.size, 720)), Image.Resampling.LANCZOS))
    print("WebP at 720 px, quality 80, by method (median of", len(photos), "photos):")
    for method in range(7):
        times, sizes = [], []
        for photo in photos:
            buf = io.BytesIO()
            started = time.perf_counter()
            photo.save(buf, "WEBP", quality=80, method=method)
            times.append(time.perf_counter() - started)
            sizes.append(len(buf.getvalue()))
        print(
            f"  method {method}: {statistics.median(times) * 1000:6.1f} ms  {statistics.median(sizes) / 1024:6.1f} KB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--methods", action="store_true", help="compare WebP methods")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        each = make_each(REPO, Path(tmp))
    print(f"make one source (all widths, WebP + JPEG, in process): median {statistics.median(each) * 1000:.1f} ms "
          f"over {len(each)} sources")  # fmt: skip
    sources, cold, warm, drawn = builds(REPO, args.runs)
    print(
        f"images phase, cold (empty cache, {drawn} files incl. share pictures): "
        f"{statistics.median(cold) * 1000 / sources:.1f} ms per source image ({statistics.median(cold):.2f} s)"
    )
    print(f"images phase, warm (nothing drawn): {statistics.median(warm) * 1000 / sources:.2f} ms per source image "
          f"({statistics.median(warm) * 1000:.0f} ms)")  # fmt: skip
    if args.methods:
        methods(REPO)


if __name__ == "__main__":
    main()
