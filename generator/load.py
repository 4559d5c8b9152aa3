"""Load and resolve: every content file read and checked, then cross-linked into one Site.

Each loader collects problems and keeps going, so a shop owner sees every mistake in one run;
`load_site` raises once, at the end, if any of them is an error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from markupsafe import Markup

from . import catalog_codec
from .catalog import CatalogFile, parse_catalog
from .catalog_codec import Parsed, Unencodable, Unusable
from .config import parse_config
from .documents import MarkdownFile, StoryDraft, check_slug, parse_page, parse_story, split_front_matter
from .errors import ContentError, Problem, Severity, UsageError, did_you_mean
from .fields import Obj, SourceFile, field_name
from .markup import render_markdown
from .media import ImageProblem, MeasureCache, MediaLibrary
from .model import Collection, Image, Product, Promoter, Site, Store, Story, StoryPart
from .parsecache import FOLDER, ParseCache
from .promoters import PROMOTERS_FILE, parse_promoters
from .promotions import Promotion, parse_promotions
from .rates import parse_rates
from .reuse import LOAD, MISSING, Reuse
from .stores import parse_stores
from .themes import load_theme
from .yamlsafe import Path as YamlPath
from .yamlsafe import YamlError, decode, parse_yaml

RELATED_COUNT = 4


class Loader:
    """Reads one site's files; `problems` holds everything found wrong so far."""

    def __init__(
        self,
        site_dir: Path,
        measured: MeasureCache | None = None,
        parsed: ParseCache | None = None,
        reuse: Reuse | None = None,
    ) -> None:
        self.site_dir = site_dir
        self.reuse = reuse  # the preview's: each catalog file's products as the last load made them
        self.problems: list[Problem] = []
        self.media = MediaLibrary(site_dir, measured)
        self.parsed = parsed if parsed is not None else ParseCache(None)
        self.unreadable: list[str] = []  # files that could not be parsed at all
        self.related_prints: list[str] = []  # Parsed.related_print of each catalog file loaded
        self._looked_up: list[tuple[object, Image | str]] | None = None  # while parsing a file to keep
        self._outcomes: dict[str, Image | str] = {}
        self._checked: dict[tuple[object, Image | str], bool] = {}  # see _all_look_up_as
        #: With `reuse`: the products and collections (by id()) that are not the last load's objects.
        self.fresh: set[int] = set()
        self.gone: set[int] = set()  # and those of the last load that these replace
        #: With `reuse`: (the last load's object, the one with its id that replaces it).
        self.replaced: list[tuple[Product | Collection, Product | Collection]] = []
        self.copies: list[CatalogFile] = []  # with `reuse`: each catalog file's copy (links as the last load left them)

    def rel(self, file: Path) -> str:
        return file.relative_to(self.site_dir).as_posix()

    def read_text(self, file: Path) -> str | None:
        try:
            return decode(file.read_bytes())
        except YamlError as exc:
            self.problems.append(Problem(self.rel(file), exc.line, "", exc.message, column=exc.column))
        except OSError as exc:
            self.problems.append(Problem(self.rel(file), 0, "", f"cannot be read: {exc.strerror}"))
        return None

    def read_yaml(self, file: Path) -> SourceFile | None:
        text = self.read_text(file)
        if text is None:
            self.unreadable.append(self.rel(file))  # not UTF-8: as unusable as a syntax error
            return None
        try:
            doc = parse_yaml(text)
        except YamlError as exc:
            self.problems.append(
                Problem(self.rel(file), exc.line, field_name(exc.path), exc.message, column=exc.column)
            )
            self.unreadable.append(self.rel(file))
            return None
        return SourceFile(self.rel(file), doc, self.problems)

    def image(self, obj: Obj, key: str) -> Image | None:
        if obj.data.get(key) is None:
            return None
        return self._image(obj.src, obj.at(key), obj.data[key])

    def images(self, obj: Obj, key: str) -> list[Image]:
        found = (self._image(obj.src, path, value) for path, value in obj.items(key))
        return [img for img in found if img is not None]

    def _image(self, src: SourceFile, path: tuple[str | int, ...], value: object) -> Image | None:
        try:
            found = self.media.image(value)
        except ImageProblem as exc:
            if self._looked_up is not None:
                self._looked_up.append((value, str(exc)))
            src.error(path, str(exc))
            return None
        if self._looked_up is not None:
            self._looked_up.append((value, found))
        return found

    def _outcome(self, value: object) -> Image | str:
        """What looking an image up gives now: the Image, or the problem's message (once per
        name in a load: 10,000 kept products may name the same few photos)."""
        known = self._outcomes.get(value) if isinstance(value, str) else None
        if known is not None:
            return known
        try:
            found: Image | str = self.media.image(value)
        except ImageProblem as exc:
            found = str(exc)
        if isinstance(value, str):
            self._outcomes[value] = found
        return found

    def _all_look_up_as(self, looked_up: tuple[tuple[object, Image | str], ...]) -> bool:
        """Whether each (image name, what looking it up gave) still holds: each pair checked
        once in a load (a hundred products of a file, ten thousand in a shop, may name the same
        few photos)."""
        try:
            pairs = dict.fromkeys(looked_up)
        except TypeError:  # a name that is not a string (the parse reported it)
            return all(self._looks_up_as(value, outcome) for value, outcome in looked_up)
        checked = self._checked
        for pair in pairs:
            held = checked.get(pair)
            if held is None:
                held = checked[pair] = self._looks_up_as(*pair)
            if not held:
                return False
        return True

    def _looks_up_as(self, value: object, outcome: Image | str) -> bool:
        now = self._outcome(value)
        if isinstance(now, Image) and isinstance(outcome, Image):  # Image compares by identity
            return (now.path, now.url, now.width, now.height) == (
                outcome.path, outcome.url, outcome.width, outcome.height,
            )  # fmt: skip
        return now == outcome

    def catalog(self, file: Path, currency: str) -> CatalogFile | None:
        """The parsed catalog file, for this load: kept from an earlier build when its bytes, the
        currency and the images it names are the same (see parsecache.py), else parsed and kept."""
        rel = self.rel(file)
        key = self.parsed.file_key(file, rel, currency)
        kept = self._kept(key, rel, currency) if key is not None else None
        if kept is None:
            src = self.read_yaml(file)
            if src is None:
                return None
            last = self.parsed.last_kept(rel)
            known = last.rendered if isinstance(last, Parsed) else {}
            rendered: dict[str, Markup] = {}

            def render(text: str) -> Markup:
                html = known.get(text)
                rendered[text] = html = render_markdown(text) if html is None else html
                return html

            before, self._looked_up = len(self.problems), []
            try:
                cat = parse_catalog(src, currency, self.image, self.images, render)
                looked_up = tuple(self._looked_up)
            finally:
                self._looked_up = None
            kept = Parsed(cat.kept_form(), tuple(self.problems[before:]), looked_up, rendered)
            del self.problems[before:]  # added again below, as for a kept file
            if key is not None:
                self.parsed.keep(key, kept, rel)
                with contextlib.suppress(Unencodable):  # kept in memory only
                    self.parsed.write(key, catalog_codec.encode(kept))
        self.problems.extend(kept.problems)
        self.related_prints.append(kept.related_print)
        if self.reuse is None:
            return kept.catalog.for_load(self.problems)
        copies = self.reuse.table(LOAD)
        last = copies.get(kept.catalog)
        if last is MISSING:  # a new parse: its products that are as the last load's stay those objects
            before = copies.recall(rel)
            made = kept.catalog.for_load(self.problems, before if before is not MISSING else None)
            self.fresh.update(map(id, made.items()))
            if before is not MISSING:
                self.fresh.difference_update(map(id, before.items()))
                self.gone.update(set(map(id, before.items())) - set(map(id, made.items())))
                now = {(type(item), item.id): item for item in made.items()}
                for item in before.items():
                    new = now.get((type(item), item.id))
                    if new is not None and new is not item:
                        self.replaced.append((item, new))
        else:
            made = last.again(self.problems)
        self.copies.append(made)
        copies.keep(rel, made)  # the file's copy by its name, for its next parse
        return copies.put(kept.catalog, made)  # type: ignore[no-any-return]

    def _kept(self, key: str, rel: str, currency: str) -> Parsed | None:
        """The parse kept under `key` in memory or on disk, if each image it names looks up as
        it did; a disk entry that is not what catalog_codec writes is None (parse again)."""
        kept = self.parsed.kept(key)
        if isinstance(kept, Parsed):
            return kept if self._all_look_up_as(kept.looked_up) else None
        data = self.parsed.read(key)
        if data is None:
            return None
        try:
            found = catalog_codec.decode(data, rel, currency, self._outcome)
        except Unusable:
            return None
        self.parsed.keep(key, found, rel)
        return found

    def files(self, folder: str, suffixes: Iterable[str]) -> list[Path]:
        base = self.site_dir / "content" / folder
        if not base.is_dir():
            return []
        found = [p for p in base.iterdir() if p.suffix in suffixes and p.is_file() and not p.name.startswith(".")]
        return sorted(found)


def load_site(site_dir: Path, cache_dir: Path | None = None, reuse: Reuse | None = None) -> tuple[Site, list[Problem]]:
    """Read and check the whole site: the Site and its warnings, or ContentError with everything.

    With `cache_dir`, the sizes of images checked by an earlier build are remembered there
    (measured.json), so that unchanged images are not decoded again, and so are the parsed
    catalog files (parsed/, see parsecache.py), so that unchanged files are not parsed again.
    With `reuse` (the preview's), the products of a file kept since the last load are the same
    objects as then, their cross-links made again (see reuse.py)."""
    site_yml = site_dir / "site.yml"
    if not site_yml.is_file():
        raise UsageError(f"no site.yml in {site_dir}: is this a micromall site? (start one with: micromall new DIR)")
    measured = MeasureCache(cache_dir / "measured.json") if cache_dir is not None else None
    parsed = ParseCache(cache_dir / FOLDER if cache_dir is not None else None)
    loader = Loader(site_dir, measured, parsed, reuse)
    with collector_paused():
        site = _load(loader)
    loader.media.measured.save()
    parsed.prune()
    errors = [p for p in loader.problems if p.severity is Severity.ERROR]
    if errors or site is None:
        raise ContentError(loader.problems)
    return site, sorted(loader.problems)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while the shop is read (and built: build.py): a load
    makes hundreds of thousands of objects and keeps nearly all of them, and the collector, run
    every few hundred new objects, walks them again and again (a third of reading 10,000
    products from the cache; a sixth of a warm build after it). What a build makes lives until
    it ends, so there is little for the collector to find; worker processes collect as usual."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _load(loader: Loader) -> Site | None:
    site_dir = loader.site_dir
    src = loader.read_yaml(site_dir / "site.yml")
    config, currency = None, ""
    if src is not None:
        config, currency = parse_config(src, loader.image, lambda name: load_theme(name, site_dir))

    catalogs = []
    for file in loader.files("catalog", (".yml", ".yaml")):
        cat = loader.catalog(file, currency)
        if cat is not None:
            catalogs.append(cat)
    if not catalogs and not any(p.path.startswith("content/catalog/") for p in loader.problems):
        loader.problems.append(
            Problem("content/catalog", 0, "", "no catalog files: add content/catalog/<name>.yml with products")
        )

    stories = _markdown_files(loader, "stories", lambda md, slug: parse_story(md, slug, loader.image))
    pages = _markdown_files(loader, "pages", parse_page)

    stores: list[Store] = []
    stores_file = site_dir / "content" / "stores.yml"
    if stores_file.is_file():
        ssrc = loader.read_yaml(stores_file)
        if ssrc is not None:
            stores = parse_stores(ssrc, loader.image)

    promoters: tuple[Promoter, ...] = ()
    promoters_file = site_dir / PROMOTERS_FILE
    if promoters_file.is_file():
        psrc = loader.read_yaml(promoters_file)
        if psrc is not None:
            promoters = parse_promoters(psrc).promoters

    kept_links = _kept_links(loader, catalogs) if loader.reuse is not None else None
    if kept_links is not None:
        collections, products, linked, _ = kept_links
    else:
        for copy in loader.copies:  # (the last load's links, made again below)
            copy.unlink()
        collections, products = _resolve_catalog(catalogs, loader.problems)
    published = [p for p in products if p.published]
    by_id = {p.id: p for p in products}
    # With a catalog file unreadable, "unknown product" would mostly be noise from that one mistake.
    catalog_complete = not any(rel.startswith("content/catalog/") for rel in loader.unreadable)
    resolved_stories = _resolve_stories(stories, by_id, loader.problems, catalog_complete)
    if kept_links is None:
        linked = _link_related_kept(published, [c.id for c in collections], loader.related_prints, loader.parsed)
    promotions: tuple[Promotion, ...] = ()
    promotions_file = site_dir / "content" / "promotions.yml"
    if promotions_file.is_file():
        psrc = loader.read_yaml(promotions_file)
        if psrc is not None:
            by_id = {p.id: p for p in published}
            promotions = parse_promotions(psrc, currency, by_id, {c.id: c for c in collections})
    display_rates = None
    if config is not None and config.display_currencies and src is not None:
        rates_file = site_dir / "content" / "rates.yml"
        rsrc = loader.read_yaml(rates_file) if rates_file.is_file() else None
        if rsrc is not None:
            display_rates = parse_rates(rsrc, currency, config.display_currencies, src)
        elif not rates_file.is_file():
            src.error(("display_currencies",), "needs content/rates.yml")
    if config is None:
        return None
    if loader.reuse is not None:
        _note_changes(loader, linked, published, collections, resolved_stories, stores)
        if not any(p.severity is Severity.ERROR for p in loader.problems):  # (errors are found again by a full link)
            storied = [p for s in resolved_stories for p in s.products]
            back = kept_links[3] if kept_links is not None else None  # (made for the same links)
            loader.reuse.table(LOAD).keep(LINKS, _Links([c.src.rel for c in catalogs], linked, storied, back))
    return Site(
        config=config,
        collections=tuple(collections),
        products=tuple(published),
        stories=tuple(resolved_stories),
        pages=tuple(sorted(pages, key=lambda d: (d.order, d.title))),
        stores=tuple(stores),
        promoters=promoters,
        promotions=promotions,
        display_rates=display_rates,
    )


T = TypeVar("T")


def _markdown_files(loader: Loader, folder: str, parse: Callable[[MarkdownFile, str], T | None]) -> list[T]:
    """Parse every content/<folder>/*.md; the file stem is the slug that becomes the URL."""
    found: list[T] = []
    for file in loader.files(folder, (".md",)):
        rel, text = loader.rel(file), loader.read_text(file)
        if text is None or not check_slug(rel, file.stem, loader.problems):
            continue
        md = split_front_matter(rel, text, loader.problems)
        item = parse(md, file.stem) if md is not None else None
        if item is not None:
            found.append(item)
    return found


def _resolve_catalog(catalogs: list[CatalogFile], problems: list[Problem]) -> tuple[list[Collection], list[Product]]:
    collections: dict[str, Collection] = {}
    for cat in catalogs:
        coll = cat.collection
        if coll is None:
            continue
        if coll.id in collections:
            first = collections[coll.id].source
            cat.src.error(("collection", "id"), f"duplicate collection id '{coll.id}' (also in {first})")
            continue
        collections[coll.id] = coll

    products: dict[str, Product] = {}
    ids = [p.id for cat in catalogs for p in cat.products]
    skus = [sku for cat in catalogs for sku, _ in cat.skus]
    if len(set(ids)) == len(ids) and len(set(skus)) == len(skus):  # (the usual case, counted in C)
        products = {p.id: p for cat in catalogs for p in cat.products}
    else:
        _check_unique(catalogs, products)
    for cat in catalogs:
        for product in cat.products:
            if products.get(product.id) is not product:
                continue  # a duplicate, reported
            for ref in cat.collection_refs[product.id]:
                coll = collections.get(ref.id)
                if coll is None:
                    cat.src.error(ref.path, f"unknown collection '{ref.id}'{did_you_mean(ref.id, collections)}")
                elif coll not in product.collections:
                    product.collections.append(coll)
    for product in products.values():
        if product.published:
            for coll in product.collections:
                coll.products.append(product)
    return list(collections.values()), list(products.values())


def _check_unique(catalogs: list[CatalogFile], products: dict[str, Product]) -> None:
    """Report each product id and SKU written twice, at the second place, and fill `products`
    with the first product of each id."""
    # where each id and SKU is first written, made into text only for a message
    where: dict[str, tuple[SourceFile, YamlPath]] = {}
    sku_at: dict[str, tuple[SourceFile, YamlPath]] = {}  # a SKU names one thing for sale: feeds and orders rely on it
    for cat in catalogs:
        for sku, path in cat.skus:
            if sku in sku_at:
                at_src, at_path = sku_at[sku]
                cat.src.error(path, f"duplicate sku '{sku}' (first used at {at_src.where(at_path)})")
            else:
                sku_at[sku] = (cat.src, path)
        for product in cat.products:
            path = cat.id_paths[product.id]
            if product.id in products:
                at_src, at_path = where[product.id]
                message = f"duplicate product id '{product.id}' (first defined at {at_src.where(at_path)})"
                cat.src.error(path, message)
                continue
            products[product.id] = product
            where[product.id] = (cat.src, path)


def _resolve_stories(
    drafts: list[StoryDraft], products: dict[str, Product], problems: list[Problem], catalog_complete: bool
) -> list[Story]:
    def lookup(pid: str, report: Callable[[str], None]) -> Product | None:
        product = products.get(pid)
        if product is None:
            if catalog_complete:
                report(f"unknown product '{pid}'{did_you_mean(pid, products)}")
        elif not product.published:
            report(f"product '{pid}' is not published")
            return None
        return product

    stories = []
    for draft in drafts:
        src = draft.src
        listed: list[Product] = []
        for pid, path in draft.product_refs:
            found = lookup(pid, partial(src.error, path))
            if found is not None and found not in listed:
                listed.append(found)
        parts: list[StoryPart] = []
        for part in draft.parts:
            if isinstance(part, StoryPart):
                parts.append(part)
                continue
            pid, line, column = part
            found = lookup(pid, partial(_report_at, problems, src.rel, line, column))
            if found is not None:
                parts.append(StoryPart(product=found))
        if draft.draft:
            continue
        assert isinstance(draft.date, dt.date)
        story = Story(
            slug=draft.slug,
            title=draft.title,
            date=draft.date,
            cover=draft.cover,
            summary=draft.summary,
            tags=draft.tags,
            body=tuple(parts),
            draft=draft.draft,
            source=src.rel,
        )
        story.products.extend(listed)
        for part in parts:
            if part.product is not None and part.product not in story.products:
                story.products.append(part.product)
        for product in story.products:
            product.stories.append(story)
        stories.append(story)
    stories.sort(key=lambda s: (s.date, s.slug), reverse=True)
    return stories


def _report_at(problems: list[Problem], rel: str, line: int, column: int, message: str) -> None:
    problems.append(Problem(rel, line, "", message, column=column))


#: The preview's record (in its LOAD table) of how its last load linked the shop (_Links).
LINKS = "links"


@dataclass
class _Links:
    """How a preview's load linked its products, for the next load (`_kept_links`)."""

    files: list[str]  # the catalog files, in order
    key: str  # the related links' key (_related_key): what every cross-link of the catalog depends on
    storied: list[Product]  # the products its stories listed (each story's list made again per load)
    back: dict[str, list[str]] | None = None  # product id -> the ids of the products it is related to


def _kept_links(
    loader: Loader, catalogs: list[CatalogFile]
) -> tuple[list[Collection], list[Product], str, dict[str, list[str]] | None] | None:
    """In a preview's load whose catalog is linked as the last load's was, the links that load
    made, with the objects it replaced (an edited file's products and collection) put in their
    places: its collections and products, the related links' key and the index of who lists
    whom as related (made once for these links). None when the links may
    differ: they are then emptied and made again (`_resolve_catalog`, `_link_related_kept`).

    Every link depends on what the related key prints: each file's products' ids, collections,
    tags, whether published and sold out, in order, and the shop's collections. With the same
    key, the same files and no SKU written twice (the last load found no error), the links are
    those of the last load, by id."""
    assert loader.reuse is not None
    memory = loader.reuse.table(LOAD)
    last = memory.recall(LINKS)
    memory.keep(LINKS, None)  # until this load has linked the shop
    if not isinstance(last, _Links) or [c.src.rel for c in catalogs] != last.files:
        return None
    collections = [cat.collection for cat in catalogs if cat.collection is not None]
    key = _related_key([c.id for c in collections], loader.related_prints, loader.parsed)
    links = loader.parsed.kept(key)
    skus = [sku for cat in catalogs for sku, _ in cat.skus]
    if key != last.key or not isinstance(links, dict) or len(set(skus)) != len(skus):
        return None
    products = [p for cat in catalogs for p in cat.products]
    by_id = {p.id: p for p in products}
    now = {id(old): new for old, new in loader.replaced}
    for product in last.storied:
        product.stories.clear()
    for old, new in loader.replaced:
        if isinstance(old, Collection) and isinstance(new, Collection):
            new.products[:] = [now.get(id(p), p) for p in old.products]  # type: ignore[misc]
            for p in new.products:
                p.collections[:] = [now.get(id(c), c) for c in p.collections]  # type: ignore[misc]
    if any(isinstance(new, Product) for _, new in loader.replaced) and last.back is None:
        last.back = _related_back(links)
    for old, new in loader.replaced:
        if isinstance(old, Product) and isinstance(new, Product):
            new.collections[:] = [now.get(id(c), c) for c in old.collections]  # type: ignore[misc]
            new.related[:] = [now.get(id(r), r) for r in old.related]  # type: ignore[misc]
            for coll in new.collections:
                if old in coll.products:
                    coll.products[coll.products.index(old)] = new
            for pid in (last.back or {}).get(new.id, ()):
                other = by_id[pid]
                other.related[:] = [now.get(id(r), r) for r in other.related]  # type: ignore[misc]
    return collections, products, key, last.back


def _related_back(links: dict[str, list[str]]) -> dict[str, list[str]]:
    """For each product id, the products that list it among their related ones."""
    back: dict[str, list[str]] = defaultdict(list)
    for pid, related in links.items():
        for rid in related:
            back[rid].append(pid)
    return dict(back)


def _note_changes(
    loader: Loader,
    linked: str,
    products: list[Product],
    collections: list[Collection],
    stories: list[Story],
    stores: list[Store],
) -> None:
    """Tell the preview's memory (reuse.py) which products this load made anew (see
    CatalogFile.for_load), and those listed in a collection it made anew (a product page names
    its first collection). Every other product is the object the last load made,
    linked as then when the shop has the same shape: the same related links (`linked`, their
    key), the same products in each story, the same stores and the same photos' bytes (each
    photo's size, time and inode, as the image cache knows a file: cache.py)."""
    fresh = set(loader.fresh)
    for coll in collections:
        if id(coll) in fresh:
            fresh.update(id(p) for p in coll.products)
    photos = []
    for image in loader.media.used():
        try:
            st = os.stat(loader.media.content_dir / image.path)
        except OSError:
            st = None
        photos.append((image.path, st and (st.st_size, st.st_mtime_ns, st.st_ino)))
    shape = (
        linked,
        [(s.slug, [p.id for p in s.products]) for s in stories],
        repr(stores),
        sorted(photos),
    )
    assert loader.reuse is not None
    loader.reuse.note_load(shape, {id(p): p for p in products if id(p) in fresh}, loader.gone)


def _link_related_kept(products: list[Product], collections: list[str], prints: list[str], kept: ParseCache) -> str:
    """`_link_related`, or the links it made last time (kept in memory by the preview, and as
    JSON in the cache folder) when what it looks at is the same: each product's id, collections,
    tags and whether it is sold out, in the shop's order. That is known from each catalog file's
    `related_print` (made once per parse) and the shop's collections: a product's collections
    are its file's and those it names that exist. Links read from disk are used only if they are
    links between these products (see _usable_links); else they are made again. Returns the key
    they are kept under: the same key, the same links."""
    key = _related_key(collections, prints, kept)
    by_id = {p.id: p for p in products}
    links = kept.kept(key)  # kept in memory only once made here or checked
    if links is None:
        links = kept.read(key)
        if not _usable_links(links, by_id):
            _link_related(products)
            links = {p.id: [r.id for r in p.related] for p in products if p.related}
            kept.write(key, links)
            kept.keep(key, links)
            return key
        kept.keep(key, links)
    assert isinstance(links, dict)
    for p in products:
        p.related.extend(map(by_id.__getitem__, links.get(p.id, ())))
    return key


def _related_key(collections: list[str], prints: list[str], kept: ParseCache) -> str:
    """What related links depend on (see `_link_related_kept`), as a key."""
    return kept.key("related", repr((sorted(collections), prints)).encode("utf-8"), str(RELATED_COUNT))


def _usable_links(links: object, by_id: dict[str, Product]) -> bool:
    """Whether `links` is what `_link_related_kept` keeps: product id -> up to RELATED_COUNT
    other, distinct product ids, all of this shop."""
    if type(links) is not dict:
        return False
    for pid, related in links.items():
        if pid not in by_id or type(related) is not list or not 0 < len(related) <= RELATED_COUNT:
            return False
        if pid in related or len(set(related)) != len(related) or not all(r in by_id for r in related):
            return False
    return True


def _link_related(products: list[Product]) -> None:
    """Up to four products sharing collections (worth 2) or tags (worth 1), best first; ties go
    to products in stock, then to the earlier one. Each product looks at no more than the first
    200 products of each of its collections and tags, so this stays linear in the shop's size;
    the counting and the ranking run in C (Counter.update, sorts with C key functions).

    Products with the same collections and tags score every other product alike, so the ranking
    is made once for each such set: its best RELATED_COUNT + 1 (one may be the product itself,
    which is left out; the others keep their order). Most shops have far fewer sets than products."""
    by_collection: dict[str, list[str]] = defaultdict(list)
    by_tag: dict[str, list[str]] = defaultdict(list)
    by_id = {p.id: p for p in products}
    # rank: in stock first, then in the shop's order
    rank = {p.id: int(p.sold_out) * (len(products) + 1) + n for n, p in enumerate(products)}
    for p in products:
        for c in p.collections:
            if len(by_collection[c.id]) < 200:
                by_collection[c.id].append(p.id)
        for t in p.tags:
            if len(by_tag[t]) < 200:
                by_tag[t].append(p.id)
    ranked: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}
    for p in products:
        same = (tuple(sorted(c.id for c in p.collections)), tuple(sorted(p.tags)))  # a tag twice counts twice
        best = ranked.get(same)
        if best is None:
            score: Counter[str] = Counter()
            for cid in same[0]:
                score.update(by_collection[cid])
                score.update(by_collection[cid])
            for t in same[1]:
                score.update(by_tag[t])
            # two stable sorts with C key functions: by rank, then by points (highest first)
            best = sorted(score, key=rank.__getitem__)
            best.sort(key=score.__getitem__, reverse=True)
            best = ranked[same] = best[: RELATED_COUNT + 1]
        p.related.extend([by_id[pid] for pid in best if pid != p.id][:RELATED_COUNT])
