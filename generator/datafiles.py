"""The shop's data files, joined from each product's part, and what they state about prices.

catalog.json, products.xml, products.csv and search.json hold one part per product (its entry,
its items, its rows, its record). In a shop of ten thousand products, rendering every part and
reading the files back for the price check (truth.py) took seconds, and an edit in the preview
changes one product. So each product's parts are rendered once, read back once (what its entry
and its feed items state: the truth check's data side) and kept by the product's fingerprint
(depends.py); a build renders the parts of the products that changed and joins the files. The
files are byte for byte what rendering them whole writes (catalog_json, feeds and search join
the same parts when nothing is kept).

Kept in this process only, by cache folder, like parsecache.py: a running preview reuses them
from one rebuild to the next; entries of products a build did not list are forgotten after it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .catalog_json import CatalogEntry, catalog_entry, render_catalog_json
from .depends import stable_hash
from .feeds import csv_rows, product_feed_items, render_atom, render_product_csv, render_product_rss, rss_items
from .model import Product, Site
from .search import product_record, render_search_index
from .sitemap import render_robots, render_sitemap
from .truth import DataOffers, Offers, from_catalog_entry, from_csv_rows, from_rss_items, product_feed_ids

#: The feeds whose prices the truth check compares with catalog.json, in DataOffers.feeds' order.
FEEDS = ("products.xml", "products.csv")


@dataclass(frozen=True)
class ProductParts:
    """One product's part of each data file, and what those parts state, read back."""

    catalog: CatalogEntry
    rss: str
    csv: str
    search: str
    reference: dict[str, Offers]  # what its catalog.json entry states, by product id
    feeds: tuple[dict[str, Offers], dict[str, Offers]]  # what its items in FEEDS state


#: cache folder -> product id -> (what the parts were rendered from, the parts)
_KEPT: dict[str, dict[str, tuple[Hashable, ProductParts]]] = {}


def product_parts(p: Product, site: Site) -> ProductParts:
    cfg = site.config
    items = product_feed_items(p, cfg)
    catalog, rss, csv = catalog_entry(p, cfg.base_path), rss_items(items), csv_rows(items)
    ids = product_feed_ids(p)
    return ProductParts(
        catalog=catalog,
        rss=rss,
        csv=csv,
        search=product_record(p, cfg.base_path, cfg.language),
        reference=from_catalog_entry(catalog.canonical, cfg.currency),
        feeds=(from_rss_items(rss, ids), from_csv_rows(csv, ids)),
    )


@dataclass
class DataFiles:
    files: dict[str, bytes]
    offers: DataOffers  # what catalog.json and the feeds state
    rendered: int  # products whose parts were rendered (not kept from an earlier build)


def render_data_files(site: Site, prints: Mapping[str, int], folder: Path | None) -> DataFiles:
    """The data files and what they state. `prints` are depends.py's fingerprints of this build;
    a product's parts kept under `folder` are reused while its fingerprint, those of its
    collections (search.json shows their titles) and the shop's configuration are unchanged."""
    setting = stable_hash(repr(site.config))
    kept = _KEPT.get(str(folder), {}) if folder is not None else {}
    now: dict[str, tuple[Hashable, ProductParts]] = {}
    parts = []
    rendered = 0
    for p in site.products:
        own = prints.get("p:" + p.id)
        key = (setting, own, tuple(prints.get("c:" + c.id) for c in p.collections))
        found = kept.get(p.id)
        if own is None or found is None or found[0] != key:
            found = (key, product_parts(p, site))
            rendered += 1
        now[p.id] = found
        parts.append(found[1])
    if folder is not None:
        _KEPT[str(folder)] = now
    files = {
        "catalog.json": render_catalog_json(site, [part.catalog for part in parts]),
        "sitemap.xml": render_sitemap(site),
        "robots.txt": render_robots(site),
        "feed.xml": render_atom(site),
        "products.xml": render_product_rss(site, [part.rss for part in parts]),
        "products.csv": render_product_csv(site, [part.csv for part in parts]),
        "search.json": render_search_index(site, [part.search for part in parts]),
    }
    return DataFiles(files, _stated(parts), rendered)


def _stated(parts: list[ProductParts]) -> DataOffers:
    """What the joined files state, from what each part states (as reading each file would
    give: a product's offers from every part that names it)."""
    reference: dict[str, Offers] = {}
    feeds: tuple[dict[str, Offers], ...] = ({}, {})
    for part in parts:
        for pid, offers in part.reference.items():
            reference[pid] = offers
        for feed, stated in zip(feeds, part.feeds, strict=True):
            for pid, offers in stated.items():
                known = feed.get(pid)
                feed[pid] = offers if known is None else {**known, **offers}
    return DataOffers(reference, dict(zip(FEEDS, feeds, strict=True)))
