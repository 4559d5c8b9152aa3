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
from .sitemap import render_robots, render_sitemap, sitemap_urls
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


@dataclass
class _Kept:
    """What the last build under one cache folder rendered."""

    parts: dict[str, tuple[Hashable, ProductParts]]  # by product id: (what they were rendered from, the parts)
    order: list[str]  # the product ids, in the shop's order
    normal: bool  # each part states its own product's offers only
    offers: DataOffers  # what the files stated
    files: dict[str, bytes]  # the files
    sitemap: tuple[Hashable, bytes]  # sitemap.xml and what it lists


#: By cache folder.
_KEPT: dict[str, _Kept] = {}


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
    changed: set[str] | None  # products whose offers may differ from `since`'s (None: any of them)
    same: set[str]  # files with the bytes they had in `since`'s build


def render_data_files(
    site: Site, prints: Mapping[str, int], folder: Path | None, since: DataOffers | None = None
) -> DataFiles:
    """The data files and what they state. `prints` are depends.py's fingerprints of this build;
    a product's parts kept under `folder` are reused while its fingerprint, those of its
    collections (search.json shows their titles) and the shop's configuration are unchanged.

    `since` is what the data files of the last build into the same output stated: when that was
    the last build under `folder` (the preview's rebuilds), the result names the products whose
    parts were rendered again (the others state what they stated then) and the files whose bytes
    are as that build made them, so that the caller compares and writes no more than that."""
    setting = stable_hash(repr(site.config))
    kept = _KEPT.get(str(folder)) if folder is not None else None
    before = kept.parts if kept is not None else {}
    now: dict[str, tuple[Hashable, ProductParts]] = {}
    parts = []
    fresh = []
    for p in site.products:
        own = prints.get("p:" + p.id)
        key = (setting, own, tuple(prints.get("c:" + c.id) for c in p.collections))
        found = before.get(p.id)
        if own is None or found is None or found[0] != key:
            found = (key, product_parts(p, site))
            fresh.append(p.id)
        now[p.id] = found
        parts.append(found[1])
    order = [p.id for p in site.products]
    follows = kept is not None and since is not None and since is kept.offers and order == kept.order
    renewed = [(pid, now[pid][1]) for pid in fresh]
    normal = all(_normal(pid, part) for pid, part in renewed)
    follows = follows and kept is not None and kept.normal and normal
    if follows and kept is not None:
        offers = _restated(kept.offers, renewed)
    else:
        offers = _stated(parts)
        normal = all(_normal(pid, entry[1]) for pid, entry in now.items())
    urls = (site.config.base_url, sitemap_urls(site))
    sitemap = kept.sitemap[1] if kept is not None and kept.sitemap[0] == urls else render_sitemap(site)
    files = {
        "catalog.json": render_catalog_json(site, [part.catalog for part in parts]),
        "sitemap.xml": sitemap,
        "robots.txt": render_robots(site),
        "feed.xml": render_atom(site),
        "products.xml": render_product_rss(site, [part.rss for part in parts]),
        "products.csv": render_product_csv(site, [part.csv for part in parts]),
        "search.json": render_search_index(site, [part.search for part in parts]),
    }
    same = {rel for rel, body in files.items() if kept.files.get(rel) == body} if follows and kept else set()
    if folder is not None:
        _KEPT[str(folder)] = _Kept(now, order, normal, offers, files, (urls, sitemap))
    return DataFiles(files, offers, len(fresh), set(fresh) if follows else None, same)


def _normal(pid: str, part: ProductParts) -> bool:
    """Whether the part states offers of its own product only (as feeds.py writes them)."""
    return part.reference.keys() <= {pid} and all(stated.keys() <= {pid} for stated in part.feeds)


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


def _restated(before: DataOffers, fresh: list[tuple[str, ProductParts]]) -> DataOffers:
    """`before` (of the same products, each part stating its own product's offers only) with
    the offers of the products whose parts are `fresh` replaced: the same as `_stated` of all."""
    reference = before.reference.copy()
    feeds = [before.feeds[name].copy() for name in FEEDS]
    for pid, part in fresh:
        for into, stated in zip([reference, *feeds], [part.reference, *part.feeds], strict=True):
            if pid in stated:
                into[pid] = stated[pid]
            else:
                into.pop(pid, None)
    return DataOffers(reference, dict(zip(FEEDS, feeds, strict=True)))
