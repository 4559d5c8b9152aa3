"""Time the share images: cards, posters and QR codes, cold and warm.

For the demo shop and for a synthetic catalog of 200 products (the demo's photos, reused):

- draw ms/product: card + square poster + story poster + QR code (SVG and PNG) of one product,
  drawn one after the other in this process (the CPU cost of a product);
- cold build ms/product: a whole build with an empty cache, divided by the number of products
  (images drawn on all cores, plus everything else a build does);
- images phases: the time of the plan (QR codes) and images phases of that cold build;
- warm rebuild: the same build again, nothing changed (nothing drawn).

The demo has two promoters (content/promoters.yml), so its builds also make their kits: per
product and promoter, two posters (drawn with the product's own, see posters.py) and a QR code.
The synthetic shop has none. For the demo, "draw, one core" includes the promoters' posters of
the product (they are one drawing with its own), but not their QR codes.

Medians of --runs runs (default 3). With --formats, also compares JPEG (what the build writes)
with PNG for the demo's cards and posters: size and encoding time.

Run: python bench/share_images.py [--runs N] [--formats]
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image

from generator.build import build
from generator.imaging import worker_count
from generator.qr import QrSpec

REPO = Path(__file__).resolve().parent.parent


def synthetic_site(root: Path, count: int) -> Path:
    """A shop of `count` products: the demo's settings and photos, varied titles and prices."""
    shutil.copy(REPO / "site.yml", root / "site.yml")
    shutil.copytree(REPO / "content/images", root / "content/images")
    found = (root / "content/images/products").glob("*.jpg")
    photos = sorted(p.relative_to(root / "content").as_posix() for p in found)
    lines = ["collection:", "  id: all", "  title: Everything", "products:"]
    for n in range(count):
        title = f"西湖龙井 第{n}批 明前特级" if n % 10 == 0 else f"Hand-picked spring green tea, batch {n}"
        lines += [f"  - id: tea-{n}", f"    title: {title}", f"    price: {30 + n % 170}.90",
                  "    summary: Picked before dawn on the terraces and pan-fired the same afternoon.",
                  f"    images: [{photos[n % len(photos)]}]"]  # fmt: skip
        if n % 4 == 0:
            lines.append(f"    compare_at_price: {240 + n % 170}")
    (root / "content/catalog").mkdir(parents=True)
    (root / "content/catalog/all.yml").write_text("\n".join(lines) + "\n", "utf-8")
    return root


def measure(site: Path, runs: int) -> dict[str, float]:
    cold, warm, phases, draw = [], [], [], []
    products = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            out, cache = Path(tmp) / "public", Path(tmp) / "cache"
            started = time.perf_counter()
            result = build(site, out, cache_dir=cache)
            cold.append(time.perf_counter() - started)
            phases.append(result.timings["plan"] + result.timings["images"])
            started = time.perf_counter()
            again = build(site, out, cache_dir=cache)
            warm.append(time.perf_counter() - started)
            assert again.images_drawn == 0, again.images_drawn
            products = len(result.site.products)
            draw.append(_draw_one_product(site, Path(tmp) / "cache2"))
    return {
        "products": products,
        "draw_ms": statistics.median(draw) * 1000,
        "cold_ms_per_product": statistics.median(cold) / products * 1000,
        "cold_s": statistics.median(cold),
        "image_phases_s": statistics.median(phases),
        "warm_s": statistics.median(warm),
    }


def _draw_one_product(site: Path, cache: Path) -> float:
    """Seconds to draw the card, both posters and the QR code of the first few products."""
    loaded, plan = _plan(site, cache)
    sample = 5
    wanted = {
        f"{kind}{p.id}{end}"
        for p in loaded.products[:sample]
        for kind, end in (("share/products/", ".jpg"), ("posters/", "-square.jpg"), ("posters/", "-story.jpg"))
    }
    specs = [job.spec for job in plan.image_jobs if job.outputs[0] in wanted]
    assert len(specs) == 3 * sample
    qrs = [QrSpec(loaded.config.base_url + p.url) for p in loaded.products[:sample]]
    started = time.perf_counter()
    for spec in [*specs, *qrs]:
        spec.render()
    return (time.perf_counter() - started) / sample


def compare_formats(site: Path, cache: Path) -> None:
    """JPEG (quality 88, optimised, progressive) against PNG (level 6, and optimised) for the
    demo's cards and posters, encoded from the same freshly drawn pictures."""
    from generator import cards, posters

    _, plan = _plan(site, cache)
    drawn: dict[str, list[Image.Image]] = {"cards": [], "posters": []}
    for job in plan.image_jobs:
        spec = job.spec
        if isinstance(spec, cards.CardSpec):
            drawn["cards"].append(cards.draw_card(spec))
        elif isinstance(spec, posters.PosterSpec):
            drawn["posters"].append(posters.draw_square(spec) if spec.layout == "square" else posters.draw_story(spec))
    formats = [("JPEG q88", "JPEG", {"quality": 88, "optimize": True, "progressive": True}),
               ("PNG", "PNG", {}), ("PNG opt", "PNG", {"optimize": True})]  # fmt: skip
    print(f"\n{'images':8} {'format':9} {'median KB':>10} {'max KB':>8} {'encode ms':>10}")
    for name, images in drawn.items():
        for label, fmt, options in formats:
            sizes, times = [], []
            for img in images:
                buf = io.BytesIO()
                started = time.perf_counter()
                img.save(buf, fmt, **options)
                times.append(time.perf_counter() - started)
                sizes.append(len(buf.getvalue()))
            median, largest, ms = statistics.median(sizes) / 1000, max(sizes) / 1000, statistics.median(times) * 1000
            print(f"{name:8} {label:9} {median:10.1f} {largest:8.1f} {ms:10.1f}")


def _plan(site: Path, cache: Path):  # type: ignore[no-untyped-def]
    from generator.build import collect_static
    from generator.cache import ImageCache
    from generator.load import load_site
    from generator.share import plan_share
    from generator.themes import load_theme

    loaded, _ = load_site(site)
    theme = load_theme(loaded.config.theme, site)
    return loaded, plan_share(loaded, theme, collect_static(theme, site), site, ImageCache(cache))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", action="store_true", help="also compare JPEG with PNG")
    args = parser.parse_args()
    print(f"{worker_count()} worker processes; medians of {args.runs} runs")
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = synthetic_site(Path(tmp), 200)
        for name, site in (("demo", REPO), ("synthetic", synthetic)):
            m = measure(site, args.runs)
            print(f"\n{name}: {m['products']:.0f} products")
            print(f"  draw, one core      {m['draw_ms']:7.1f} ms per product (card, 2 posters, QR)")
            print(f"  cold build          {m['cold_ms_per_product']:7.1f} ms per product ({m['cold_s']:.2f} s in all, "
                  f"{m['image_phases_s']:.2f} s of it making images)")  # fmt: skip
            print(f"  warm rebuild        {m['warm_s'] * 1000:7.1f} ms (nothing drawn)")
    if args.formats:
        with tempfile.TemporaryDirectory() as tmp:
            compare_formats(REPO, Path(tmp))


if __name__ == "__main__":
    main()
