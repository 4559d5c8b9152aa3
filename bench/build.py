"""Time whole builds of synthetic shops, against a lean baseline timed in the same run.

    python bench/build.py [--sizes 1000 10000] [--runs 5] [--cold-runs 1] [--jobs N] [--work DIR]

For each size N (a shop written by bench/make_catalog.py):

- cold: `micromall build` with an empty image cache and no output folder;
- warm: the same build again (image cache filled, output present: nothing to draw or write);
- incremental: one product's title is edited and the preview's rebuild (build with the last
  build's state, as `serve` runs it) is timed from the file write to the page on disk; with
  --serve, also in a running `micromall serve` (its first build draws every picture again for
  the preview address, so this takes as long as a cold build);
- baseline: a lean script in a child process: the YAML loaded with the C safe loader, the
  Markdown descriptions rendered with markdown-it, one Jinja2 template rendered per product on
  the same number of processes, files written only when their bytes changed; no images.

Each figure is the median of its runs with min and max; peak memory is the child's ru_maxrss
(the build process; image workers are counted separately by the kernel). The ratio warm /
baseline is the number that survives a noisy machine. If `hugo` is on PATH, Hugo is timed on the
same products as Markdown pages.

Cold builds draw every share picture (about 0.3 s per product per core), so --cold-runs
defaults to 1 and --cold-max (default 1000) skips cold builds of larger shops. With
--placeholder-images, the pictures of a shop whose cold build is skipped are not drawn: the
image cache gets a placeholder file for each (the warm and incremental figures then time
everything but drawing, which bench/images.py times). Each figure line ends with the
machine's load average when it was taken: the machine may be shared.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # the generator, for fill_image_cache

from make_catalog import make_catalog  # noqa: E402


def run_child(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command; its wall time in seconds and its peak memory in MB (ru_maxrss)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err}")
    return elapsed, usage.ru_maxrss / 1024


def figure(name: str, times: list[float], mems: list[float], count: int, base: float | None) -> str:
    med = statistics.median(times)
    ratio = f"  {med / base:5.2f}x baseline" if base else ""
    return (
        f"  {name:<12} median {med * 1000:9.1f} ms  (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}, "
        f"n={len(times)})  {med * 1e6 / count:8.1f} µs/product  peak {max(mems):6.1f} MB{ratio}"
        f"  [load {os.getloadavg()[0]:.1f}]"
    )


def micromall(site: Path, out: Path, jobs: int | None) -> list[str]:
    argv = [sys.executable, "-m", "generator", "build", str(site), "--out", str(out)]
    return argv + (["--jobs", str(jobs)] if jobs else [])


def incremental(
    site: Path, out: Path, env: dict[str, str], count: int, runs: int, placeholders: bool = False, pid: str = ""
) -> tuple[list[float], float]:
    """Edit one product's title while `serve` runs; times from the write to the page on disk."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    if placeholders:
        fill_image_cache(site, Path(env["MICROMALL_CACHE"]), f"http://127.0.0.1:{port}/")
    argv = [sys.executable, "-m", "generator", "serve", str(site), "--port", str(port), "--out", str(out)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    times: list[float] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 1800
        for line in proc.stdout:
            if "Serving" in line or time.monotonic() > deadline:
                break
        pid = pid or f"p-{count // 2}"
        file = next(f for f in sorted((site / "content/catalog").glob("*.yml")) if f"id: {pid}\n" in f.read_text())
        page = out / "products" / pid / "index.html"
        text = file.read_text("utf-8")
        start = text.index(f"id: {pid}\n")
        title_at = text.index("title: ", start) + len("title: ")
        for n in range(runs):
            time.sleep(1.0)  # let the watcher settle after the last rebuild
            marker = f"Edited{n}x{time.time_ns()}"
            edited = text[:title_at] + marker + " " + text[title_at:]
            started = time.perf_counter()
            file.write_text(edited, "utf-8")
            until = time.monotonic() + 600
            seen = None
            while True:  # (the page is read only when its stamp changed: reading it every 2 ms
                # would take a good part of a core from the preview being timed)
                stamp = _stamp(page)
                if stamp != seen and _shows(page, marker):
                    break
                seen = stamp
                if time.monotonic() > until or proc.poll() is not None:
                    raise SystemExit(f"serve did not rebuild {page}")
                time.sleep(0.002)
            times.append(time.perf_counter() - started)
        file.write_text(text, "utf-8")
        status = Path(f"/proc/{proc.pid}/status").read_text()
        peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")) / 1024
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return times, peak


def _stamp(page: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(page)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _shows(page: Path, marker: str) -> bool:
    """Whether the page on disk shows `marker` yet (a page may be missing for a moment: the
    preview may have built a file caught halfway through the edit's write)."""
    try:
        return marker in page.read_text("utf-8")
    except FileNotFoundError:
        return False


def incremental_library(site: Path, out: Path, count: int, runs: int, pid: str = "") -> None:
    """In this process (a child of the bench): the rebuild serve runs after an edit, with its
    memory of the build before (reuse.py), without the watcher (which looks every 0.05 s) and
    with the published base URL, so that a warm image cache serves it. Prints one line: the
    times in seconds and the peak memory."""
    import resource

    from generator.build import build
    from generator.reuse import Reuse

    reuse = Reuse()  # as serve keeps one for its session
    state = build(site, out, reuse=reuse).state
    pid = pid or f"p-{count // 2}"
    file = next(f for f in sorted((site / "content/catalog").glob("*.yml")) if f"id: {pid}\n" in f.read_text())
    page = out / "products" / pid / "index.html"
    text = file.read_text("utf-8")
    title_at = text.index("title: ", text.index(f"id: {pid}\n")) + len("title: ")
    times, rendered = [], []
    try:
        for n in range(runs):
            marker = f"Edited{n}x{time.time_ns()}"
            started = time.perf_counter()
            file.write_text(text[:title_at] + marker + " " + text[title_at:], "utf-8")
            result = build(site, out, previous=state, reuse=reuse)
            times.append(time.perf_counter() - started)
            assert marker in page.read_text("utf-8")
            reuse.flush()  # what serve does once it is idle
            state = result.state
            rendered.append(result.rendered)
    finally:
        file.write_text(text, "utf-8")
        reuse.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(" ".join(f"{t:.4f}" for t in times), peak, max(rendered))


def fill_image_cache(site: Path, cache: Path, base_url: str | None = None) -> int:
    """Put a placeholder in the image cache for every picture a build of `site` would draw and
    the cache lacks (an SVG, as the pages inline the QR codes): a warm build of a large shop
    can then be timed without first drawing every picture, which is the image side's cost,
    timed by bench/images.py. Returns the number of drawings filled in."""
    from generator.build import collect_static
    from generator.cache import ImageCache
    from generator.i18n import Text, load_translations
    from generator.load import load_site
    from generator.responsive import plan_pictures
    from generator.share import plan_share
    from generator.themes import load_theme

    shop, _ = load_site(site, cache)
    if base_url is not None:  # the preview's pictures: its QR codes and cards show its address
        shop = dataclasses.replace(shop, config=dataclasses.replace(shop.config, base_url=base_url))
    theme = load_theme(shop.config.theme, site).with_overrides(shop.config.theme_settings)
    images = ImageCache(cache)
    text = Text(load_translations(theme, site, shop.config.language))
    share = plan_share(shop, theme, collect_static(theme, site), site, images, text)
    placeholder = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    filled = 0
    for job in share.qr_jobs + share.image_jobs + plan_pictures(shop, site, images).jobs:
        if images.get(job.key, len(job.outputs)) is None:
            images.put(job.key, [placeholder] * len(job.outputs))
            filled += 1
    images.save_hashes()
    return filled


# ---- the lean baseline ---------------------------------------------------------------------

TEMPLATE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ p.title }} – {{ shop }}</title>
<meta name="description" content="{{ p.summary }}"></head><body><header><a href="/">{{ shop }}</a></header>
<main><h1>{{ p.title }}</h1><p class="price">CN¥{{ p.price }}</p><p>{{ p.summary }}</p>
<div class="prose">{{ html }}</div><ul>{% for t in p.tags %}<li>{{ t }}</li>{% endfor %}</ul>
<ul>{% for c in p.collections %}<li><a href="/collections/{{ c }}/">{{ c }}</a></li>{% endfor %}</ul></main>
</body></html>"""


def _baseline_chunk(args: tuple[list[dict[str, object]], str]) -> int:
    import jinja2
    from markdown_it import MarkdownIt
    from markupsafe import Markup

    products, out = args
    template = jinja2.Environment(autoescape=True).from_string(TEMPLATE)
    md = MarkdownIt("commonmark")
    written = 0
    for p in products:
        html = template.render(p=p, shop="Synthetic Tea Market", html=Markup(md.render(str(p.get("description", "")))))
        data = html.encode("utf-8")
        target = Path(out) / "products" / str(p["id"]) / "index.html"
        try:
            if target.read_bytes() == data:
                continue
        except OSError:
            target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(".index.html.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        written += 1
    return written


def baseline(site: Path, out: Path, jobs: int) -> None:
    """The lean build: CSafeLoader, one template per product, write only changed files."""
    import multiprocessing

    import yaml

    products: list[dict[str, object]] = []
    for file in sorted((site / "content/catalog").glob("*.yml")):
        products += yaml.load(file.read_text("utf-8"), Loader=yaml.CSafeLoader)["products"] or []
    chunks = [(products[n::jobs], str(out)) for n in range(jobs)]
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            pool.map(_baseline_chunk, chunks)
    else:
        _baseline_chunk(chunks[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=1)
    parser.add_argument("--cold-max", type=int, default=1000, help="skip cold builds of larger shops")
    parser.add_argument(
        "--placeholder-images", action="store_true", help="fill the image cache with placeholders when cold is skipped"
    )
    parser.add_argument("--incremental-runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--work", type=Path, default=Path("/tmp/micromall-bench"))
    parser.add_argument("--serve", action="store_true", help="also time the edit in a running `serve`")
    parser.add_argument(
        "--edit", default="", help="the product whose title the incremental runs edit (default: the middle one)"
    )
    parser.add_argument("--baseline-child", nargs=2, metavar=("SITE", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--incremental-child", nargs=3, metavar=("SITE", "OUT", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_child:
        baseline(Path(args.baseline_child[0]), Path(args.baseline_child[1]), args.jobs)
        return
    if args.incremental_child:
        site_arg, out_arg, count_arg = args.incremental_child
        incremental_library(Path(site_arg), Path(out_arg), int(count_arg), args.incremental_runs, args.edit)
        return

    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE.parent) + os.pathsep + env.get("PYTHONPATH", "")
    print(f"micromall build on {args.jobs} processes; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}")
    for count in args.sizes:
        root = args.work / f"shop-{count}"
        hugo_dir = root / "hugo" if shutil.which("hugo") else None
        site = make_catalog(count, root / "site", hugo_dir)
        cache, out, base_out = root / "cache", root / "public", root / "baseline"
        env["MICROMALL_CACHE"] = str(cache)
        print(f"\n{count} products")

        child = [sys.executable, __file__, "--jobs", str(args.jobs), "--baseline-child", str(site), str(base_out)]
        shutil.rmtree(base_out, ignore_errors=True)
        first_t, _ = run_child(child, env)
        base_t, base_m = [], []
        for _ in range(args.runs):
            t, m = run_child(child, env)
            base_t.append(t)
            base_m.append(m)
        base = statistics.median(base_t)
        print(figure("baseline", base_t, base_m, count, None) + f"  (nothing changed; first write {first_t:.2f} s)")

        cold_t, cold_m = [], []
        cold_runs = args.cold_runs if count <= args.cold_max else 0
        for _ in range(cold_runs):
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            t, m = run_child(micromall(site, out, args.jobs), env)
            cold_t.append(t)
            cold_m.append(m)
        if cold_t:
            print(figure("cold", cold_t, cold_m, count, base))
        else:
            if args.placeholder_images:
                filled = fill_image_cache(site, cache)
                print(f"  cold         skipped (--cold-max); {filled} drawings filled with placeholders")
            else:
                print("  cold         skipped (--cold-max); a first build to fill the cache follows, untimed")
            t, m = run_child(micromall(site, out, args.jobs), env)
            print(figure("first", [t], [m], count, base) + "  (every page rendered and written; no drawing)")

        warm_t, warm_m = [], []
        for _ in range(args.runs):
            t, m = run_child(micromall(site, out, args.jobs), env)
            warm_t.append(t)
            warm_m.append(m)
        print(figure("warm", warm_t, warm_m, count, base))

        if args.incremental_runs:
            argv = [sys.executable, __file__, "--incremental-runs", str(args.incremental_runs), "--edit", args.edit,
                    "--incremental-child", str(site), str(out), str(count)]  # fmt: skip
            line = subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout.split()
            inc_t, peak, rendered = [float(t) for t in line[:-2]], float(line[-2]), line[-1]
            print(figure("incremental", inc_t, [peak], count, None) + f"  (build(previous=...), {rendered} pages)")
        if args.incremental_runs and args.serve:
            inc_t, peak = incremental(
                site, root / "preview", env, count, args.incremental_runs, args.placeholder_images, args.edit
            )
            print(figure("serve edit", inc_t, [peak], count, None) + "  (serve's peak memory)")

        if hugo_dir is not None:
            hugo_t, hugo_m = [], []
            for _ in range(args.runs):
                t, m = run_child(["hugo", "--quiet", "-s", str(hugo_dir), "-d", str(root / "hugo-public")], env)
                hugo_t.append(t)
                hugo_m.append(m)
            print(figure("hugo", hugo_t, hugo_m, count, base))


if __name__ == "__main__":
    main()
