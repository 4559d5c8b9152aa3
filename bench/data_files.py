"""What the data files (catalog.json, the feeds, the search index, the sitemap) and their price
read-back cost: rendered whole, loaded from the parts kept in the cache folder, and rebuilt in a
preview after one product changed (generator/datafiles.py).

    python bench/data_files.py SITE [--runs 7]

Prints medians in milliseconds; the load average is printed with them (the machine may be shared).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from pathlib import Path

import generator.datafiles as datafiles
from generator.depends import fingerprints
from generator.load import load_site
from generator.output import Staging
from generator.render import SiteContext
from generator.truth import read_data_offers


def _ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:.0f} ms (runs: {', '.join(f'{s * 1000:.0f}' for s in seconds)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    site, _ = load_site(args.site, None)
    prints = fingerprints(SiteContext(site))
    print(f"{len(site.products)} products, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "cache", Path(tmp) / "out"
        started = time.perf_counter()
        whole = datafiles.render_data_files(site, prints, folder)
        print(f"every part rendered and read back, kept as JSON: {(time.perf_counter() - started) * 1000:.0f} ms")
        started = time.perf_counter()
        read_data_offers(site, whole.files)
        print(f"(reading the whole files back instead: {(time.perf_counter() - started) * 1000:.0f} ms)")
        staging = Staging(out)
        for rel, body in whole.files.items():
            staging.add(rel, body)
        staging.commit()
        datafiles._KEPT.clear()  # as in a new process
        started = time.perf_counter()
        loaded = datafiles.render_data_files(site, prints, folder)
        print(f"parts loaded from the cache folder, files joined: {(time.perf_counter() - started) * 1000:.0f} ms")
        offers, joined, staged = loaded.offers, [], []
        at = len(site.products) // 2
        product = site.products[at]
        for n in range(args.runs):  # its title edited, as in the preview: every product file changes
            edited = dataclasses.replace(product, title=f"{product.title} {n}")
            site = dataclasses.replace(site, products=(*site.products[:at], edited, *site.products[at + 1 :]))
            prints = {**prints, f"p:{product.id}": n}
            started = time.perf_counter()
            again = datafiles.render_data_files(site, prints, folder, offers)
            middle = time.perf_counter()
            staging = Staging(out)
            for rel, body in again.files.items():
                staging.add(rel, body)
            staging.commit()
            joined.append(middle - started)
            staged.append(time.perf_counter() - middle)
            offers = again.offers
            assert again.rendered == 1
        print(f"one product changed, files joined: {_ms(joined)}")
        print(f"  compared with the output and written: {_ms(staged)}")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
