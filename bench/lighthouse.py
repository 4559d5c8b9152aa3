"""Lighthouse scores of the demo shop: home, a product and a story page, mobile preset.

Installs Lighthouse from the npm registry into a cache folder outside the repository the first
time (MICROMALL_TOOLS, default ~/.cache/micromall-tools), builds the demo for the address it
serves it on (127.0.0.1, a free port), and runs Lighthouse against Debian's Chromium
(CHROME_PATH, default /usr/bin/chromium, headless, no sandbox, no GPU). Prints the four
category scores of each page and every audit that lost points, so there is something to fix.

With --axe it also runs axe-core (npm) through Playwright on the same pages and prints the
accessibility violations: the fallback when Lighthouse cannot run somewhere.

The performance score moves with the load of the machine (Lighthouse times the page on the
CPU it shares), so --runs N runs each page N times and prints the median of each category
with the audits of the median run.

Run: python bench/lighthouse.py [--runs N] [--axe] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from generator.build import build  # noqa: E402
from generator.load import load_site  # noqa: E402

TOOLS = Path(os.environ.get("MICROMALL_TOOLS", Path.home() / ".cache" / "micromall-tools"))
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def npm_tool(package: str, bin_name: str | None = None) -> Path:
    """The installed package folder (or its bin), installing it into TOOLS on first use."""
    folder = TOOLS / "node_modules" / package
    if not folder.is_dir():
        TOOLS.mkdir(parents=True, exist_ok=True)
        print(f"installing {package} from npm into {TOOLS} ...", flush=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(TOOLS), package], check=True)
    return TOOLS / "node_modules" / ".bin" / bin_name if bin_name else folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """Lighthouse drops connections it no longer needs: not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextlib.contextmanager
def serve(root: Path, port: int) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(root))
    server = _Server(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def pages(base: str) -> dict[str, str]:
    site, _ = load_site(REPO)
    story = site.stories[0]
    product = next(p for p in site.products if p.variants)
    return {"home": base, f"product {product.id}": base + product.url, f"story {story.slug}": base + story.url}


def lighthouse(url: str, report: Path) -> dict[str, object]:
    binary = npm_tool("lighthouse", "lighthouse")
    command = [
        str(binary), url, "--quiet", "--output=json", f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}", "--chrome-flags=--headless --no-sandbox --disable-gpu",
    ]  # fmt: skip
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROME}, timeout=300)
    result: dict[str, object] = json.loads(report.read_text("utf-8"))
    return result


def scores(result: dict[str, object]) -> dict[str, int]:
    categories = result["categories"]
    assert isinstance(categories, dict)
    return {key: round((categories[key]["score"] or 0) * 100) for key in CATEGORIES}


def print_lighthouse(name: str, results: list[dict[str, object]]) -> None:
    """The median score of each category over the runs, and the lost points of the median run."""
    by_run = [scores(r) for r in results]
    median = {key: statistics.median_low([s[key] for s in by_run]) for key in CATEGORIES}
    result = results[[s["performance"] for s in by_run].index(median["performance"])]
    categories = result["categories"]
    audits = result["audits"]
    assert isinstance(categories, dict) and isinstance(audits, dict)
    performance = sorted(s["performance"] for s in by_run)
    runs = f" (median of {len(results)}; performance {performance})" if len(results) > 1 else ""
    print(f"{name:32} " + "  ".join(f"{key} {value:3}" for key, value in median.items()) + runs)
    for key in CATEGORIES:
        for ref in categories[key]["auditRefs"]:
            audit = audits[ref["id"]]
            if ref.get("weight", 0) and audit.get("score") is not None and audit["score"] < 1:
                shown = audit.get("displayValue", "")
                print(f"    {key}: {audit['id']} ({audit['score']:.2f}) {audit['title']} {shown}")


def axe(urls: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    script = (npm_tool("axe-core") / "axe.min.js").read_text("utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROME, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 390, "height": 844})
        for name, url in urls.items():
            page.goto(url)
            page.add_script_tag(content=script)
            found = page.evaluate("axe.run().then(r => r.violations.map(v => [v.id, v.impact, v.nodes.length]))")
            print(f"axe {name:28} {len(found)} violations", *(f"\n    {v[0]} ({v[1]}, {v[2]} nodes)" for v in found))
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--axe", action="store_true", help="also run axe-core through Playwright")
    parser.add_argument("--keep", type=Path, help="keep the Lighthouse JSON reports in this folder")
    parser.add_argument("--runs", type=int, default=1, help="runs per page; the median is printed")
    args = parser.parse_args()
    if not Path(CHROME).exists():
        sys.exit(f"no Chromium at {CHROME} (set CHROME_PATH)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "public"
        port = free_port()
        build(REPO, out, base_url=f"http://127.0.0.1:{port}/", cache_dir=Path(tmp) / "cache")
        reports = args.keep or Path(tmp) / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        with serve(out, port) as base:
            urls = pages(base)
            for name, url in urls.items():
                results = [lighthouse(url, reports / f"{name.split()[0]}-{n}.json") for n in range(args.runs)]
                print_lighthouse(name, results)
            if args.axe:
                axe(urls)
    if shutil.which("npm") is None:  # pragma: no cover - npm_tool failed before this
        sys.exit("needs npm")


if __name__ == "__main__":
    main()
