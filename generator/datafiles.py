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

import contextlib
import gc
import json
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog_json import CatalogEntry, catalog_entry, render_catalog_json
from .depends import stable_hash
from .feeds import csv_rows, product_feed_items, render_atom, render_product_csv, render_product_rss, rss_items
from .model import Product, Site
from .parsecache import code_print
from .search import product_record, render_search_index
from .sitemap import render_robots, render_sitemap, sitemap_urls
from .truth import DataOffers, Offers, from_catalog_entry, from_csv_rows, from_rss_items, product_feed_ids

#: What every kept part was rendered with: fingerprints of the configuration and of each collection
#: (depends.py; search.json shows the titles of a product's collections).
Basis = tuple[int, dict[str, int | None]]
#: A product's kept parts, with the fingerprint of the product they were rendered from.
Kept = dict[str, tuple[int | None, "ProductParts"]]
#: The parts kept between processes, in the cache folder; raise VERSION when they change shape.
FILE = "datafiles.json"
VERSION = 1
#: Parts rendered by a build beyond which the kept file is written again (else it is mostly current).
SAVE_AFTER = 50
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
class _Columns:
    """Each file's parts in the shop's order, as they are joined."""

    catalog: list[CatalogEntry]
    rss: list[str]
    csv: list[str]
    search: list[str]

    def copy(self) -> _Columns:
        return _Columns(self.catalog.copy(), self.rss.copy(), self.csv.copy(), self.search.copy())

    def put(self, at: int | None, part: ProductParts) -> None:
        """Set the parts at `at`, or add them at the end (None)."""
        if at is None:
            self.catalog.append(part.catalog)
            self.rss.append(part.rss)
            self.csv.append(part.csv)
            self.search.append(part.search)
        else:
            self.catalog[at], self.rss[at], self.csv[at], self.search[at] = (
                part.catalog,
                part.rss,
                part.csv,
                part.search,
            )


@dataclass
class _Kept:
    """What the last build under one cache folder rendered."""

    basis: Basis
    parts: Kept
    order: list[str]  # the product ids, in the shop's order
    normal: bool  # each part states its own product's offers only
    offers: DataOffers  # what the files stated
    columns: _Columns  # the parts joined, in the shop's order
    files: dict[str, bytes]  # the files
    sitemap: tuple[tuple[str, list[tuple[str, str | None]]], bytes]  # sitemap.xml and what it lists
    sitemap_others: object = None  # what it lists beside the catalog (see _joined)
    _position: dict[str, int] | None = None

    def position(self) -> dict[str, int]:
        """Where each product is in `order`, by id (made once)."""
        if self._position is None:
            self._position = {pid: at for at, pid in enumerate(self.order)}
        return self._position


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


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """Python's cycle collector paused: joining the files of ten thousand products allocates many
    small objects, none of them in a cycle, and a collection over a large shop's model each
    time took as long as the joining (it runs when the block ends, if it is due)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def render_data_files(
    site: Site,
    prints: Mapping[str, int],
    folder: Path | None,
    since: DataOffers | None = None,
    changed: Collection[Product] | None = None,
) -> DataFiles:
    """The data files and what they state. `prints` are depends.py's fingerprints of this build;
    a product's parts kept under `folder` are reused while its fingerprint, those of its
    collections (search.json shows their titles) and the shop's configuration are unchanged.

    `since` is what the data files of the last build into the same output stated: when that was
    the last build under `folder` (the preview's rebuilds), the result names the products whose
    parts were rendered again (the others state what they stated then) and the files whose bytes
    are as that build made them, so that the caller compares and writes no more than that.

    `changed` (a preview's rebuild that knows them, reuse.py) are the only products that may
    differ from that build's, in a shop of the same products in the same order: the others'
    parts are taken over without a look at each."""
    basis: Basis = (stable_hash(repr(site.config)), {c.id: prints.get("c:" + c.id) for c in site.collections})
    kept = _KEPT.get(str(folder)) if folder is not None else None
    if kept is not None:
        then, before = kept.basis, kept.parts
    else:
        with _no_collection():  # many small objects read, none of them in a cycle
            then, before = _load(folder) if folder is not None else _NONE
    if then[0] != basis[0]:
        before = {}
    moved = {
        c for c in basis[1].keys() | then[1].keys() if basis[1].get(c) is None or basis[1].get(c) != then[1].get(c)
    }
    # (kept by the build whose data files `since` describes: the preview's last one)
    follows = kept is not None and since is not None and since is kept.offers
    if changed is not None and kept is not None and follows and then == basis and len(kept.order) == len(site.products):
        now: Kept = before.copy()
        at_of = kept.position()
        renewed: dict[int, ProductParts] = {}
        for p in changed:
            own, found = prints.get("p:" + p.id), before.get(p.id)
            if own is None or found is None or found[0] != own:
                found = now[p.id] = (own, product_parts(p, site))
                renewed[at_of[p.id]] = found[1]
        with _no_collection():
            return _joined(site, folder, since, kept, basis, now, renewed, sorted(renewed), kept.order)
    now = {}
    parts = []
    fresh: list[int] = []  # where the products whose parts were rendered are in the shop's order
    for at, p in enumerate(site.products):
        own = prints.get("p:" + p.id)
        found = before.get(p.id)
        if own is None or found is None or found[0] != own or (moved and any(c.id in moved for c in p.collections)):
            found = (own, product_parts(p, site))
            fresh.append(at)
        now[p.id] = found
        parts.append(found[1])
    with _no_collection():  # (rendering parts parses XML, whose parsers are cycles: not paused for that)
        return _joined(site, folder, since, kept, basis, now, parts, fresh)


def _joined(
    site: Site,
    folder: Path | None,
    since: DataOffers | None,
    kept: _Kept | None,
    basis: Basis,
    now: Kept,
    parts: Sequence[ProductParts] | Mapping[int, ProductParts],
    fresh: list[int],
    order: list[str] | None = None,
) -> DataFiles:
    """The files joined from `parts` (the shop's products' parts, in its order; or, with the
    kept `order`, those at `fresh` only), what they state, and what is kept for the next build."""
    same_order = order_kept = order is not None
    order = order if order is not None else [p.id for p in site.products]
    renewed = [(order[at], parts[at]) for at in fresh]
    normal = all(_normal(pid, part) for pid, part in renewed)
    same_order = same_order or (kept is not None and order == kept.order)
    follows = same_order and since is not None and kept is not None and since is kept.offers and kept.normal and normal
    if follows and kept is not None:
        offers = _restated(kept.offers, renewed)
    else:
        offers = _stated([now[pid][1] for pid in order])
        normal = all(_normal(pid, entry[1]) for pid, entry in now.items())
    if same_order and kept is not None and len(fresh) < len(order) // 2:
        columns = kept.columns.copy()
        for at in fresh:
            columns.put(at, parts[at])
    else:
        columns = _Columns([], [], [], [])
        for pid in order:
            columns.put(None, now[pid][1])
    # (in a preview's rebuild of a shop of the same products, collections and links, `order`
    # given: what else the sitemap lists, the stories and pages, decides whether it changed)
    others = (site.config.base_url, [(s.url, s.date) for s in site.stories], [d.url for d in site.pages])
    if order_kept and kept is not None and kept.sitemap_others == others:
        urls, sitemap = kept.sitemap
    else:
        urls = (site.config.base_url, sitemap_urls(site))
        sitemap = kept.sitemap[1] if kept is not None and kept.sitemap[0] == urls else render_sitemap(site)
    files = {
        "catalog.json": render_catalog_json(site, columns.catalog),
        "sitemap.xml": sitemap,
        "robots.txt": render_robots(site),
        "feed.xml": render_atom(site),
        "products.xml": render_product_rss(site, columns.rss),
        "products.csv": render_product_csv(site, columns.csv),
        "search.json": render_search_index(site, columns.search),
    }
    same = {rel for rel, body in files.items() if kept.files.get(rel) == body} if follows and kept else set()
    if folder is not None:
        made = _KEPT[str(folder)] = _Kept(basis, now, order, normal, offers, columns, files, (urls, sitemap), others)
        if kept is not None and kept.order is order:
            made._position = kept._position  # (the same order)
        if len(fresh) > max(SAVE_AFTER, len(order) // 10):  # the saved parts would be far behind
            _save(folder, basis, now)
    return DataFiles(files, offers, len(fresh), {order[at] for at in fresh} if follows else None, same)


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


# ---- kept between builds: plain JSON in the cache folder -----------------------------------


def _offers_json(by_product: dict[str, Offers]) -> dict[str, dict[str, list[Any]]]:
    return {pid: {k: list(offer) for k, offer in offers.items()} for pid, offers in by_product.items()}


def _offers(raw: Any) -> dict[str, Offers]:
    """Offers read back from JSON; anything of another shape raises (the file is then ignored)."""
    found: dict[str, Offers] = {}
    for pid, offers in raw.items():
        found[pid] = {}
        for k, (minor, currency, in_stock) in offers.items():
            if not (minor is None or type(minor) is int) or type(currency) is not str or type(in_stock) is not bool:
                raise ValueError("not an offer")
            found[pid][k] = (minor, currency, in_stock)
    return found


def _text(value: Any) -> str:
    if type(value) is not str:
        raise ValueError("not a text")
    return value


def _print(value: Any) -> int | None:
    if value is not None and type(value) is not int:
        raise ValueError("not a fingerprint")
    return value


def _save(folder: Path, basis: Basis, parts: Kept) -> None:
    """Keep the parts for the next process (a build after this one, the preview's first edit)."""
    rows = []
    for pid, (own, part) in parts.items():
        rows.append([pid, own, part.catalog.indented, part.catalog.canonical, part.rss, part.csv, part.search,
                     _offers_json(part.reference), [_offers_json(stated) for stated in part.feeds]])  # fmt: skip
    body = {"version": VERSION, "code": code_print(), "setting": basis[0], "collections": basis[1], "parts": rows}
    file = folder / FILE
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8") as out:
            json.dump(body, out, ensure_ascii=False)  # in pieces: the whole text would be tens of MB
        os.replace(tmp, file)
    except OSError:  # a cache that cannot be written only means rendering the parts again
        tmp.unlink(missing_ok=True)


_NONE: tuple[Basis, Kept] = ((0, {}), {})


def _header() -> bytes:
    """How a file `_save` writes with this code starts (its first keys)."""
    return json.dumps({"version": VERSION, "code": code_print()})[:-1].encode("utf-8")


def _load(folder: Path) -> tuple[Basis, Kept]:
    """The parts `_save` kept, or none when there are none, they are unreadable, or made by
    other code. JSON, never pickle: the cache folder may come with a shop someone else made, and
    reading it must not be able to run code (docs/security.md); a part whose product is not as
    it was then is rendered again."""
    try:
        header = _header()
        with (folder / FILE).open("rb") as kept:
            if kept.read(len(header)) != header:  # made by other code: not worth reading through
                return _NONE
            saved = json.loads(header + kept.read())
        if saved.get("version") != VERSION or saved.get("code") != code_print():
            return _NONE
        found: Kept = {}
        for pid, own, indented, canonical, rss, csv, search, reference, feeds in saved["parts"]:
            rss_offers, csv_offers = (_offers(stated) for stated in feeds)
            texts = _text(rss), _text(csv), _text(search)
            part = ProductParts(CatalogEntry(_text(indented), _text(canonical)), *texts, _offers(reference),
                                (rss_offers, csv_offers))  # fmt: skip
            found[_text(pid)] = (_print(own), part)
        collections = {_text(c): _print(value) for c, value in saved["collections"].items()}
        return (int(_print(saved["setting"]) or 0), collections), found
    except Exception:  # a torn, foreign or hand-made file only means rendering the parts again
        return _NONE
