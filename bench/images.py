"""Time the image work: per product, cold, on one core and on all cores.

The issue's budget is about one product's pictures, drawn cold: its share card (1200x630), its
two posters (1080x1080, 1080x1920), its QR code (SVG + PNG) and its photo in the three
responsive widths (360, 720, 1080; WebP and JPEG each). This script measures exactly that on a
synthetic shop from bench/make_catalog.py whose products each get a photo of their own (the
demo's product photos, each marked so that its bytes, and so its cache key, differ):

- per product, 1 core: the image jobs of every product made through the build's ImageMaker
  with one worker and an empty cache (QR codes first, then the rest, as a build does),
  divided by the number of products; median, min and max of --runs runs;
- per output: each drawing rendered alone in this process (after a first untimed pass, so
  fonts are loaded; the photo is decoded by the first drawing of each product that needs it);
- 2 cores against 1: the same jobs with two workers (process pool start-up included), and
  the speed-up of the median wall times; and, as wall time says little on a busy machine,
  the speed-up from CPU time: the 1-core pass's CPU time over that of the busiest process of
  the 2-core pass (the build's process plus the busier worker), which is what the 2-core
  pass would take on idle cores, where the two workers run side by side. (On Linux with
  sched_autogroup, a busy machine gives the whole session one share of the CPU however many
  processes it starts, so the wall-time speed-up there stays near 1.)
- warm: the same jobs again with the cache filled (nothing may be drawn).

With --methods it also compares WebP methods at 720 px (the measurement behind WEBP_METHOD).
The machine's load average (uptime) is printed with the figures: the machine may be shared.

Run: python bench/images.py [--products 30] [--runs 5] [--photo-width 1000] [--methods]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_catalog import make_catalog

from generator import draw, qr
from generator.build import collect_static
from generator.cache import ImageCache
from generator.draw import prime
from generator.imaging import ImageMaker, Job, photo_need
from generator.load import load_site
from generator.responsive import content_images, height_for, plan_pictures
from generator.share import plan_share
from generator.themes import load_theme

REPO = Path(__file__).resolve().parent.parent


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def shop(root: Path, count: int, photo_width: int) -> Path:
    """A synthetic shop of `count` products, each with its own photo `photo_width` wide."""
    make_catalog(count, root)
    demo = sorted((REPO / "content/images/products").glob("*.jpg"))
    photos = root / "content/images/products"
    for n in range(count):
        with Image.open(demo[n % len(demo)]) as img:
            rgb = img.convert("RGB")
        if rgb.width != photo_width:
            rgb = rgb.resize((photo_width, height_for(rgb.size, photo_width)), Image.Resampling.LANCZOS)
        ImageDraw.Draw(rgb).rectangle((8, 8, 8 + n % 50, 12), fill=(n % 256, 40, 90))  # bytes of its own
        rgb.save(photos / f"own-{n}.jpg", quality=90)
    for catalog in (root / "content/catalog").glob("*.yml"):
        text = catalog.read_text("utf-8")
        lines = []
        for line in text.split("\n"):
            if line.startswith("  - id: p-"):
                current = int(line.rsplit("-", 1)[1])
            if line.startswith("    images: ["):
                line = f"    images: [images/products/own-{current}.jpg]"
            lines.append(line)
        catalog.write_text("\n".join(lines), "utf-8")
    return root


def product_jobs(site_dir: Path, cache: Path) -> tuple[int, list[Job], list[Job]]:
    """The QR jobs and the other image jobs of the products (not the shop's, collections' or
    stories' cards, which a per-product figure leaves out)."""
    site, _ = load_site(site_dir)
    theme = load_theme(site.config.theme, site_dir)
    image_cache = ImageCache(cache)
    share = plan_share(site, theme, collect_static(theme, site_dir), site_dir, image_cache)
    pictures = plan_pictures(site, site_dir, image_cache)
    ids = {p.id for p in site.products}
    own = {p.image.path for p in site.products if p.image is not None}

    def of_product(job: Job) -> bool:
        first = job.outputs[0]
        name = first.rsplit("/", 1)[-1]
        if first.startswith("share/products/"):
            return True
        if first.startswith("posters/") and name.rsplit("-", 1)[0] in ids and first.count("/") == 1:
            return True
        return any(first.startswith(f"media/{Path(path).with_suffix('')}.") for path in own)

    images = [j for j in share.image_jobs + pictures.jobs if of_product(j)]
    return len(site.products), share.qr_jobs, images


def cpu() -> float:
    """CPU seconds used by this process and its ended children (the workers, once shut down)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def worker_cpu() -> list[float]:
    """CPU seconds of each live worker process so far (from /proc: Linux only)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = []
    for child in multiprocessing.active_children():
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
            found.append((int(fields[11]) + int(fields[12])) / tick)  # utime + stime
    return found


def make_all(site_dir: Path, workers: int) -> tuple[float, int, float, float, float]:
    """Seconds to make every product's pictures cold with `workers`, the files drawn, the
    seconds of a warm pass, the CPU seconds of the cold pass (all processes), and the CPU
    seconds of the busiest process: on otherwise idle cores, the cold pass would take about
    that long (the work of the others runs beside it)."""
    with tempfile.TemporaryDirectory() as tmp:
        _, qrs, images = product_jobs(site_dir, Path(tmp))
        used = cpu()
        own = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        with ImageMaker(ImageCache(Path(tmp)), workers) as maker:
            maker.make(qrs)
            maker.make(images)
            per_worker = worker_cpu()
        cold = time.perf_counter() - started
        used = cpu() - used
        after = resource.getrusage(resource.RUSAGE_SELF)
        main = after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime
        busiest = max([main, *per_worker]) if workers < 2 else main + max(per_worker, default=0.0)
        started = time.perf_counter()
        with ImageMaker(ImageCache(Path(tmp)), workers) as again:
            again.make(qrs)
            again.make(images)
        warm = time.perf_counter() - started
        assert again.drawn == 0, again.drawn
        return cold, maker.drawn, warm, used, busiest


def kind(job: Job) -> str:
    first = job.outputs[0]
    if first.startswith("qr/"):
        return "QR code (SVG + PNG)"
    if first.startswith("share/"):
        return "card 1200x630"
    if first.endswith("-square.jpg"):
        return "poster 1080x1080"
    if first.endswith("-story.jpg"):
        return "poster 1080x1920"
    return "photo 3 widths, WebP + JPEG"


def per_output(site_dir: Path) -> dict[str, float]:
    """Median CPU ms (time.process_time, which a busy machine inflates less than wall time) of
    each step of a product's pictures, one product after the other in this process, as a
    worker makes them: its photo decoded once (at the largest size needed), its
    QR code (the posters then reuse the code), its card, posters and photo sizes."""
    with tempfile.TemporaryDirectory() as tmp:
        _, qrs, images = product_jobs(site_dir, Path(tmp))
    by_output = {job.outputs[0]: job for job in qrs + images}
    by_group: dict[str, list[Job]] = defaultdict(list)
    for job in images:
        by_group[job.group].append(job)
    times: dict[str, list[float]] = defaultdict(list)
    for rounds in range(2):  # the first round untimed: fonts loaded, as in a worker that has drawn before
        for qr_job in qrs:
            product = qr_job.outputs[0].removeprefix("qr/").removesuffix(".svg")
            card = by_output[f"share/products/{product}.jpg"]
            jobs = [card] + [j for j in by_group[card.group] if j is not card]
            draw._PHOTOS.clear()
            qr.make.cache_clear()
            started = time.process_time()
            needs = [n for n in (photo_need(j.spec) for j in jobs) if n is not None]
            prime(needs[0][0], (max(n[1][0] for n in needs), max(n[1][1] for n in needs)))
            steps = [("decode the photo once", time.process_time() - started)]
            for job in [qr_job, *jobs]:
                started = time.process_time()
                job.spec.render()
                steps.append((kind(job), time.process_time() - started))
            if rounds:
                for name, seconds in steps:
                    times[name].append(seconds)
    return {k: statistics.median(v) * 1000 for k, v in times.items()}


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


def spread(values: list[float], scale: float) -> str:
    return (
        f"median {statistics.median(values) * scale:7.1f}  "
        f"min {min(values) * scale:7.1f}  max {max(values) * scale:7.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--photo-width", type=int, default=1000, help="width of each product photo (px)")
    parser.add_argument("--methods", action="store_true", help="compare WebP methods")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site_dir = shop(Path(tmp) / "shop", args.products, args.photo_width)
        count = args.products
        print(f"{count} products, each with its own {args.photo_width}px photo; {args.runs} runs; {load()}")
        steps = per_output(site_dir)
        for name, ms in steps.items():
            print(f"  {name:28} {ms:7.1f} ms")
        print(f"  {'sum of the steps':28} {sum(steps.values()):7.1f} ms per product, in process")
        one, two, warm, cpu_one, cpu_two, busiest = [], [], [], [], [], []
        drawn = 0
        for _ in range(args.runs):  # interleaved, so that a change of load hits both alike
            cold, drawn, again, used, _ = make_all(site_dir, 1)
            one.append(cold)
            warm.append(again)
            cpu_one.append(used)
            cold, _, _, used, most = make_all(site_dir, 2)
            two.append(cold)
            cpu_two.append(used)
            busiest.append(most)
        print(f"cold, 1 core:  {spread(one, 1000 / count)} ms per product ({drawn // count} files each)")
        print(f"  CPU time:    {spread(cpu_one, 1000 / count)} ms per product (less than wall time when others wait)")
        print(f"cold, 2 cores: {spread(two, 1000 / count)} ms per product (wall time / products)")
        print(f"  CPU time:    {spread(cpu_two, 1000 / count)} ms per product, both workers and this process")
        print(f"speed-up of 2 cores over 1: {statistics.median(one) / statistics.median(two):.2f}x (wall time)")
        print(
            f"  busiest process of the 2-core pass (build's process + the busier worker): "
            f"{spread(busiest, 1000 / count)} ms per product"
        )
        print(
            f"  speed-up on idle cores, from CPU time (1-core CPU / busiest): "
            f"{statistics.median(cpu_one) / statistics.median(busiest):.2f}x"
        )
        print(f"warm (all cached, nothing drawn): {spread(warm, 1000 / count)} ms per product")
        print(f"after: {load()}")
        if args.methods:
            methods(site_dir)


if __name__ == "__main__":
    main()
