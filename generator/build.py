"""The build, top to bottom: load and check → plan → render (and check that every output
states the same prices: truth.py) → images → collect assets → write.

Every phase before `write` works in memory, so any error (content or template) leaves the
previous output exactly as it was. The share images (cards, posters, QR codes) are kept in a
cache outside the output folder, keyed by their inputs, so that a rebuild draws only what
changed; the cache is pruned only after a successful write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

import jinja2

from .buildstate import BuildState, file_stamp, load_state, save_state
from .cache import CACHE_DIR, ImageCache, tag_for
from .datafiles import render_data_files
from .depends import TrackingEnvironment, dependency, fingerprints, stable_hash
from .errors import ContentError, Problem
from .i18n import Text, load_translations
from .imaging import DrawingWorker, ImageMaker, prune
from .imaging import process_context as mp_context
from .kits import plan_kit_pages
from .load import collector_paused, load_site
from .minify import Minifier, compact_html, minifiable
from .model import Image, Product, Site, content_print
from .output import Source, Staging, Stamp, WriteStats, check_out_dir, stage_file
from .parsecache import code_print
from .render import (
    PageMeta,
    PageSpec,
    SiteContext,
    TemplateProblem,
    file_digest,
    make_environment,
    output_path,
    plan_pages,
    planned_product_pages,
    render_pages,
)
from .responsive import PicturePlan, plan_pictures, product_photos
from .reuse import MISSING, Reuse
from .share import plan_share
from .sharememo import FOLDER as SHARE_PLANS
from .themes import Theme, ThemeError, load_theme
from .truth import Offers, check_truth, from_page, read_data_offers

#: Reports progress: (what, done, total), e.g. ("pages", 1200, 10021).
Progress = Callable[[str, int, int], None]


@dataclass
class BuildResult:
    site: Site
    out_dir: Path
    pages: int
    files: int
    stats: WriteStats
    warnings: list[Problem]
    timings: dict[str, float] = field(default_factory=dict)
    images_drawn: int = 0  # image files drawn by this build (cards, posters, QR codes, photo sizes)
    images_cached: int = 0  # image files found in the cache
    rendered: int = 0  # pages rendered (fewer than `pages` when the last build's are reused)
    state: BuildState | None = None  # for the next preview rebuild

    def summary(self) -> str:
        total = sum(self.timings.values())
        return (
            f"Built {self.pages} pages, {self.files} files in all "
            f"({self.stats.written} written, {self.stats.unchanged} unchanged, {self.stats.removed} removed), "
            f"images {self.images_drawn} drawn, {self.images_cached} cached, in {total:.2f} s → {self.out_dir}"
        )


#: The preview's table of each planned page's metadata print (reuse.py).
METAS = "metas"
#: The preview's product pages' metadata prints, by output path (Reuse.each).
PAGE_METAS = "product page metas"
#: Each product's photos (`_product_photos`).
PHOTOS = "product photos"
#: Saved build states: cache folder / STATE_DIR / <output folder and base URL>.json
STATE_DIR = "pages"
#: Data files (site_files) that a build with unchanged data does not render again.
DATA_FILES = ("catalog.json", "sitemap.xml", "robots.txt", "feed.xml", "products.xml", "products.csv", "search.json")


def default_cache_dir(site_dir: Path) -> Path:
    """SITE_DIR/.micromall-cache, or the folder named by MICROMALL_CACHE (CI caches, tests)."""
    named = os.environ.get("MICROMALL_CACHE")
    return Path(named) if named else site_dir / CACHE_DIR


def collect_static(theme: Theme, site_dir: Path) -> dict[str, Path]:
    """Static files by output path. Parents first, then children, then the site's own
    static/ folder, so that the nearest copy of a file wins.

    A file reached through a link that leads out of its static/ folder is an error, never
    copied: a symlink to /etc/passwd or ~/.ssh must not be published with the shop."""
    folders = [t.path / "static" for t in reversed(theme.chain)] + [site_dir / "static"]
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for folder in folders:
        if folder.is_dir():
            root = folder.resolve()
            for file in sorted(folder.rglob("*")):
                if file.is_file() and not file.name.startswith("."):
                    rel = file.relative_to(folder).as_posix()
                    if not file.resolve().is_relative_to(root):
                        shown = _shown(file, site_dir)
                        message = "a link leads outside its static/ folder; copy the file in"
                        problems.append(Problem(shown, 0, "", message))
                        continue
                    found[rel] = file
    if problems:
        raise ContentError(problems)
    return found


def template_roots(theme: Theme, site_dir: Path) -> list[Path]:
    """Folders that template paths in error messages are shown relative to: the site for its
    own templates and themes, else the folder above the theme's folder's parent (so that a
    bundled theme shows as themes/default/templates/...)."""
    return [site_dir, *(t.path.parent.parent for t in theme.chain)]


def _shown(file: Path, site_dir: Path) -> str:
    """The file's path as the owner knows it: relative to the site, or as it is for a bundled theme."""
    try:
        return file.relative_to(site_dir).as_posix()
    except ValueError:
        return file.as_posix()


def build(
    site_dir: Path,
    out_dir: Path | None = None,
    clean: bool = False,
    log: Callable[[str], None] = lambda _: None,
    base_url: str | None = None,
    cache_dir: Path | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    track: bool = False,
    previous: BuildState | None = None,
    reuse: Reuse | None = None,
) -> BuildResult:
    """Build the shop in `site_dir` into `out_dir` (default: site_dir/public).

    `base_url` replaces site.yml's for this build only: the preview server serves the shop
    at its own address, where the published URL's path would not resolve. `cache_dir` holds
    the share images between builds (default: site_dir/.micromall-cache); `workers` is the
    number of processes that render the pages and draw the images (default: one per CPU);
    `progress` is told how far the pages and images are.

    Every build records what each page shows (depends.py) in `result.state` and in the cache
    folder. The next build into the same output folder renders only the pages whose content
    changed since; the others are on disk as that build wrote them. `previous` hands a state
    over in memory (the preview server); without it the saved one is used. (`track` is kept
    for callers that asked for the state before it was always recorded.)

    `reuse` is the preview's memory of its builds (reuse.py): what the build before did for an
    item that did not change is taken over, and a rebuild trusts the output folder to be as
    that build left it (the preview's own folder), leaving the bookkeeping that the page on
    disk does not wait for (the output's manifest) to `Reuse.flush`.
    """
    del track  # the state is always recorded now
    out_dir = out_dir if out_dir is not None else site_dir / "public"
    check_out_dir(site_dir, out_dir)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now
        log(f"{name}: {timings[name]:.3f} s")

    if reuse is not None:
        reuse.start()
    with collector_paused():
        cache_dir = cache_dir if cache_dir is not None else default_cache_dir(site_dir)
        site, warnings = load_site(site_dir, cache_dir, reuse)
        drawn_base_url = site.config.base_url  # what QR codes and posters lead to, also in a preview
        if base_url is not None:
            site = replace(site, config=replace(site.config, base_url=base_url))
        try:
            theme = load_theme(site.config.theme, site_dir).with_overrides(site.config.theme_settings)
        except ThemeError as exc:  # pragma: no cover - load_site already checked the theme
            raise ContentError([]) from exc
        phase("load")

        # The loaded shop (millions of objects at 10,000 products) lives until the build ends.
        # The collector is paused here (its passes over it cost a sixth of a warm build); the
        # worker processes collect, and freezing the shop spares them copying the memory pages a
        # pass would touch. Unfrozen at the end, so that the preview's last shop is collected (in
        # a preview, once it is idle: the first pass after unfreezing walks the whole shop).
        gc.freeze()
        try:
            cache = ImageCache(cache_dir)
            state_file = _state_file(cache_dir, out_dir, site.config.base_url)
            if previous is None and not _rebuilding(reuse):  # a preview's full rebuild renders every page
                previous = load_state(state_file)
            with ImageMaker(cache, workers) as maker:
                maker.progress = progress
                maker.reuse = reuse
                result = _build(site, theme, site_dir, out_dir, clean, cache, maker, phase, progress, previous,
                                drawn_base_url, reuse)  # fmt: skip
            if result.state is not None and not _rebuilding(reuse):
                # a preview's rebuilds are checked by the next build file by file: the state its
                # first build saved holds the stamps of what it wrote (see _pages_to_render)
                save_state(state_file, result.state, previous)
        finally:
            if reuse is None:
                gc.unfreeze()
            else:
                reuse.deferred["collector"] = _collect
    if reuse is not None:
        reuse.finish()
    result.warnings = sorted(warnings + result.warnings)
    result.timings = timings
    return result


def _collect() -> None:
    """Give the collector the preview's last shop back, and let it walk it now, while the preview
    is idle: left to itself, its first pass over the whole shop (a third of a second at 10,000
    products) would come during the next edit."""
    gc.unfreeze()
    gc.collect()


def _rebuilding(reuse: Reuse | None) -> bool:
    """Whether this is a preview's rebuild, after a build of its that succeeded."""
    return reuse is not None and reuse.builds > 0


def _sale_phase(site: Site) -> tuple[tuple[bool, bool], ...]:
    """Which sale windows have started and which are not over: what the prices on pages and
    pictures depend on besides the shop's files."""
    now = dt.datetime.now(dt.UTC)
    return tuple((p.starts <= now, p.ends > now) for p in site.promotions)


def _state_file(cache_dir: Path, out_dir: Path, base_url: str) -> Path:
    """Where the state of the builds into `out_dir` at `base_url` is saved."""
    return cache_dir / STATE_DIR / f"{tag_for(str(out_dir.resolve()) + chr(10) + base_url)}.json"


def _folder_print(folders: list[Path]) -> int:
    """A fingerprint of every file in these folders (names and bytes)."""
    digest = hashlib.blake2b(digest_size=16)
    for folder in folders:
        if not folder.is_dir():
            continue
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                digest.update(file.as_posix().encode() + b"\0" + file.read_bytes())
    return int.from_bytes(digest.digest()[:8], "big")


def inputs_print(site: Site, theme: Theme, site_dir: Path, static_hashes: dict[str, str], pictures: PicturePlan) -> int:
    """A fingerprint of everything any page may show beyond the shop's content (which
    depends.py fingerprints item by item): the code, the templates and translations of the site
    and its theme chain, the theme's settings, the static files' versions, the responsive
    images, and the configuration, promotions and rates that every page can read."""
    theme_files = [t.path / name for t in theme.chain for name in ("templates", "locale")]
    theme_yml = [t.path / "theme.yml" for t in theme.chain]
    yml = tuple(f.read_bytes() if f.is_file() else b"" for f in theme_yml)
    shown = (
        code_print(),
        _folder_print([site_dir / "templates", site_dir / "locale", *theme_files]),
        yml,
        theme.name,
        repr(theme.settings),
        sorted(static_hashes.items()),
        sorted((k, repr(v)) for k, v in pictures.pictures.items()),
        repr(site.config),
        repr(site.promotions),
        repr(site.display_rates),
        repr(site.promoters),
    )
    return stable_hash(shown)


def _build(
    site: Site,
    theme: Theme,
    site_dir: Path,
    out_dir: Path,
    clean: bool,
    cache: ImageCache,
    maker: ImageMaker,
    phase: Callable[[str], None],
    progress: Progress | None = None,
    previous: BuildState | None = None,
    drawn_base_url: str | None = None,
    reuse: Reuse | None = None,
) -> BuildResult:
    static = collect_static(theme, site_dir)
    minifier = Minifier(cache.folder)
    published: dict[str, bytes | Path] = {
        rel: minifier(rel, path.read_bytes()) if minifiable(rel) else path for rel, path in static.items()
    }  # scripts and style sheets minified; their ?v= is the hash of what is published
    static_hashes = {
        rel: file_digest(data if isinstance(data, bytes) else data.read_bytes()) for rel, data in published.items()
    }
    translations = load_translations(theme, site_dir, site.config.language)
    text = Text(translations)
    photos = _product_photos(site, reuse)
    pictures = plan_pictures(site, site_dir, cache, photos)
    inputs = stable_hash((inputs_print(site, theme, site_dir, static_hashes, pictures), drawn_base_url))
    if reuse is not None:
        reuse.settle(stable_hash((inputs, _sale_phase(site))))
    rebuilding = _rebuilding(reuse)
    compiled = cache.folder / "templates"
    compiled.mkdir(parents=True, exist_ok=True)
    env = make_environment(site, theme, site_dir, static_hashes, translations, TrackingEnvironment, compiled, pictures)
    plans = (cache.folder / SHARE_PLANS, stable_hash((inputs, _sale_phase(site)))) if reuse is None else None
    share = plan_share(site, theme, static, site_dir, cache, text, drawn_base_url, reuse, plans)
    pages = plan_pages(site, share.image_for, text, reuse) + plan_kit_pages(site, share.kits, share.image_for, text)
    qr_files = maker.make(share.qr_jobs, "qr")  # drawn before the pages: a template may print a code inline

    prints = fingerprints(SiteContext(site), reuse)
    state = BuildState({}, prints, _metas(site, pages, prints, reuse))
    state.inputs = inputs
    state.data = stable_hash((state.inputs, sorted(prints.items())))
    if previous is None:
        todo = pages
    elif rebuilding and reuse is not None and reuse.steady and previous.inputs == state.inputs:
        todo = _pages_reading(pages, previous, state, _readers(reuse, previous))
    else:
        todo = _pages_to_render(pages, previous, state, out_dir, rebuilding)
    phase("plan")

    # A preview's rebuild of a few products has their pictures drawn by its drawing worker while
    # it renders the pages (not beside a render that forks page workers: its own pool draws then).
    images = share.image_jobs + pictures.jobs
    drawn_later = None
    few = rebuilding and reuse is not None and reuse.changed is not None and len(todo) < 2 * PAGES_PER_TASK
    if few and reuse is not None and maker.workers > 1:
        if reuse.drawing is None:
            reuse.drawing = DrawingWorker()
        drawn_later = maker.begin(images, "images", reuse.drawing)
    # a preview's rebuild takes the output's manifest from the build before (it wrote the folder)
    staging = Staging(out_dir, cache.images, reuse.manifest if rebuilding and reuse is not None else None)
    copies: dict[str, Source] = {}
    try:
        roots = template_roots(theme, site_dir)
        if previous is not None:
            _carry_pages(pages, todo, previous, state, staging)
        problem = stage_pages(staging, env, site, theme, todo, roots, maker.workers, progress, state)
        if problem is not None:
            raise ContentError([problem])
        edited = reuse.changed.values() if rebuilding and reuse is not None and reuse.changed is not None else None
        changed = _stage_data_files(site, prints, staging, previous, state, cache.folder, rebuilding, edited)
        files = _Staged(staging)
        only = _to_check(site, todo, previous, state, changed)
        disagreements: list[Problem] = []
        if only is None or only:
            for product in site.products:  # the prices the last build read from pages it did not render again
                if only is None or product.id in only:
                    state.page_offers(output_path(product.url))
            data_offers = state.known_data_offers()
            if data_offers is None:  # unreadable in the saved state
                data_offers = state.data_offers = read_data_offers(site, files)
                only = None
            disagreements = check_truth(site, files, state.offers, data_offers, only)
        if disagreements:  # one price everywhere, or nothing is written
            raise ContentError(disagreements)
        phase("render")

        made: dict[str, Source] = {**qr_files}
        made.update(drawn_later() if drawn_later is not None else maker.make(images, "images"))
        phase("images")

        others: dict[str, Source] = {f"static/{rel}": published_file for rel, published_file in published.items()}
        content_dir = site_dir / "content"
        for image in sorted(_used_images(site, photos), key=lambda i: i.url):
            others[f"media/{image.path}"] = content_dir / image.path
        copies.update(made)
        copies.update(others)
        kept = reuse.made_names if rebuilding and reuse is not None and reuse.steady else None
        redone_made = _stage_copies(staging, made, others, kept, maker.renewed)
        phase("assets")
    except BaseException:
        staging.abort()
        raise

    stats = staging.commit(copies, clean, manifest=not rebuilding, trash=rebuilding)
    if reuse is not None and previous is not None:
        _keep_readers(reuse, previous, state, (p.output for p in todo))
    if reuse is not None:
        reuse.manifest = staging.names
        if redone_made is None:  # (each of them was staged)
            reuse.made_names = {rel: staging.names[rel] for rel in made}
        else:
            assert reuse.made_names is not None
            reuse.made_names.update((rel, staging.names[rel]) for rel in redone_made)
        if rebuilding:
            reuse.deferred["manifest"] = staging.write_manifest
            reuse.deferred["tidy"] = staging.tidy
        else:  # the preview's first edit need not wait for what every later one takes over
            reuse.deferred["prepare"] = partial(_prepare_rebuilds, reuse, state, maker.workers)
    redone = {p.output for p in todo}
    out = f"{out_dir}{os.sep}"
    for rel in [*state.metas, *DATA_FILES]:
        # a page not rendered again is as _pages_to_render found it: as the last build wrote it
        carried = previous is not None and rel not in redone and rel in state.metas
        stamp = previous.stamps.get(rel) if carried and previous is not None else file_stamp(out + rel)
        if stamp is not None:
            state.stamps[rel] = stamp
    # a preview keeps its own record, so that it never prunes what the published build uses; its
    # rebuilds leave the pruning to the next build (a look at every key in the cache)
    drawn = drawn_base_url or site.config.base_url
    if not rebuilding:
        prune(cache, maker.keys, tag_for(drawn + (" preview" if drawn != site.config.base_url else "")))
        minifier.prune()
    cache.save_hashes()
    if share.memo is not None:
        share.memo.save()
    phase("write")
    return BuildResult(site, out_dir, len(pages), len(staging.names), stats, share.warnings, {},
                       images_drawn=maker.drawn, images_cached=maker.cached, rendered=len(todo),
                       state=state)  # fmt: skip


def _stage_data_files(
    site: Site,
    prints: dict[str, int],
    staging: Staging,
    previous: BuildState | None,
    state: BuildState,
    folder: Path,
    trusted: bool = False,
    changed: Collection[Product] | None = None,
) -> set[str] | None:
    """Stage the data files (DATA_FILES) and note what they state in `state`; the products whose
    offers in them may differ from the last build's (None: any). When the data they show did not
    change and they are as the last build wrote them, they are left alone; else they are joined
    from each product's parts, kept from the last build for a product that did not change
    (`changed`: the only products that may have, when a preview's rebuild knows them)
    (datafiles.py)."""
    if previous is not None and previous.data == state.data and (trusted or _as_written(staging, previous)):
        for rel in DATA_FILES:
            staging.record(rel, False, None)  # the data shown did not change
        state.data_offers, state.data_offers_json = previous.data_offers, previous.data_offers_json
        return set()
    since = previous.data_offers if previous is not None else None
    rendered = render_data_files(site, prints, folder, since, changed)
    for rel, body in rendered.files.items():
        if previous is not None and rel in rendered.same and (trusted or _as_written(staging, previous, [rel])):
            staging.record(rel, False, None)  # the bytes that build wrote, still on disk
        else:  # (a preview's rebuild knows that the others differ from what its last build wrote)
            staging.add(rel, body, differs=trusted and previous is not None and rendered.changed is not None)
    state.data_offers = rendered.offers
    return rendered.changed


def _as_written(staging: Staging, previous: BuildState, files: Iterable[str] = DATA_FILES) -> bool:
    return all(file_stamp(staging.out_dir / rel) == previous.stamps.get(rel) for rel in files)


def _to_check(
    site: Site, todo: list[PageSpec], previous: BuildState | None, state: BuildState, changed: set[str] | None
) -> set[str] | None:
    """The products the truth check must compare (None: all of them). The check compares each
    product on its own, and the last build compared every product: a product whose page was not
    rendered again and whose entries in the data files are as they were then passes again.
    `changed` names the products whose entries may differ (None: any of them; then they are
    compared with the last build's)."""
    if previous is None:
        return None
    rendered = {p.extra["product"].id for p in todo if p.meta.kind == "product" and "product" in p.extra}
    if changed is not None:
        return rendered | changed
    before, data = previous.known_data_offers(), state.known_data_offers()
    if before is None or data is None:
        return None
    feeds = [(feed, before.feeds.get(name, {})) for name, feed in data.feeds.items()]
    return rendered | {
        p.id
        for p in site.products
        if data.reference.get(p.id) != before.reference.get(p.id)
        or any(now.get(p.id) != then.get(p.id) for now, then in feeds)
    }


class _Staged(Mapping[str, "bytes | Path"]):
    """Where each file of this build is (staged when it changed), looked up when the truth check
    reads a file: a page that was not read where it was rendered, or the data files."""

    def __init__(self, staging: Staging) -> None:
        self.staging = staging

    def __getitem__(self, rel: str) -> bytes | Path:
        if rel not in self.staging.names:
            raise KeyError(rel)
        return self.staging.path_of(rel)

    def __iter__(self) -> Iterator[str]:
        return iter(self.staging.names)

    def __len__(self) -> int:
        return len(self.staging.names)


def _metas(site: Site, pages: list[PageSpec], prints: dict[str, int], reuse: Reuse | None) -> dict[str, int]:
    """Each page's metadata print (`_meta_print`). A product page's shows its product's
    fingerprint only: in a rebuild that knows which products changed (reuse.py), the others'
    are kept by product (Reuse.each). (In a preview, every build keeps them: its first edit
    would otherwise make them all.)"""
    if reuse is None:
        return {p.output: _meta_print(p, prints, reuse) for p in pages}
    metas = {p.output: _meta_print(p, prints, reuse) for p in pages if p.meta.kind != "product"}
    page_of = planned_product_pages(reuse)

    def meta_of(product: Product) -> int:
        return _meta_print(page_of[product.id], prints, reuse)

    metas.update(reuse.each(PAGE_METAS, site.products, meta_of, lambda product: output_path(product.url)))
    return metas


def _meta_print(page: PageSpec, prints: dict[str, int], reuse: Reuse | None = None) -> int:
    """A fingerprint of what a page is given besides the shop (its metadata and extra context;
    lists by the ids they hold, whose content the page's dependencies cover; a product,
    collection, story, page or store by its own fingerprint, which covers its repr). `reuse`
    (the preview's) gives a page planned by the build before, whose items' fingerprints are
    what they were, the print it had."""
    table = reuse.table(METAS) if reuse is not None else None
    kept = table.get(page) if table is not None else MISSING
    if kept is not MISSING and tuple(map(prints.get, kept[0])) == kept[1]:
        return kept[2]  # type: ignore[no-any-return]
    used: list[tuple[str, int]] = []

    def shown(value: Any) -> object:
        if isinstance(value, (list, tuple)):
            return [getattr(i, "id", None) or getattr(i, "slug", "") for i in value]
        key = dependency(value, "")
        if key is not None and key in prints:
            used.append((key, prints[key]))
            return (key, prints[key])
        return repr(value)

    extra = sorted((k, shown(v)) for k, v in page.extra.items())
    product = page.extra.get("product") if page.meta.kind == "product" else None
    meta = _product_meta(product, page.meta) if isinstance(product, Product) else repr(page.meta)
    printed = stable_hash((meta, page.template, extra))
    if table is not None:
        table.put(page, (tuple(k for k, _ in used), tuple(v for _, v in used), printed))
    return printed


def _product_meta(product: Product, meta: PageMeta) -> tuple[object, ...]:
    """What a product page's metadata is made from (render.plan_pages): the product's own fields,
    its first collection (the breadcrumb), its card, and the shop's settings, which the build's
    inputs cover (a change renders every page). Printed instead of the metadata's repr, whose
    structured data makes it 1.6 KB a page: 0.2 s of a warm build of 10,000 products."""
    first = product.collections[0] if product.collections else None
    return (content_print(product), (first.title, first.url) if first is not None else None, repr(meta.share_image))


def _pages_to_render(
    pages: list[PageSpec], previous: BuildState, now: BuildState, out_dir: Path, trusted: bool = False
) -> list[PageSpec]:
    """The pages whose output may differ from the last build's: all of them when the templates,
    theme, code or configuration changed; else new pages, pages whose own metadata changed,
    pages that show something whose fingerprint changed, and pages whose file is not as that
    build wrote it. (`trusted`: the preview's rebuild, whose last build wrote its folder: a
    page that build wrote is taken to be there as it was written, without a look.)"""
    if previous.inputs != now.inputs:
        return pages
    keys = previous.prints.keys() | now.prints.keys()
    changed = {k for k in keys if previous.prints.get(k) != now.prints.get(k)}
    out = f"{out_dir}{os.sep}"
    todo = []
    for p in pages:
        deps = previous.deps.get(p.output)
        if (
            deps is None
            or previous.metas.get(p.output) != now.metas[p.output]
            or not changed.isdisjoint(deps)
            or (p.meta.kind == "product" and not previous.has_offers(p.output))
            or (not trusted and _changed_on_disk(out + p.output, previous.stamps.get(p.output)))
            or (trusted and p.output not in previous.stamps)
        ):
            todo.append(p)
    return todo


def _pages_reading(pages: list[PageSpec], previous: BuildState, now: BuildState, readers: Readers) -> list[PageSpec]:
    """`_pages_to_render` for a preview's rebuild, found from what changed rather than by a look
    at each page: the pages that read a key whose fingerprint changed (`readers`, the index of
    the build before's dependencies), those whose metadata changed, and new ones. (Each page of
    the last build is in the output as it wrote it, with the prices it read: a preview's rebuild
    trusts its own folder.)"""
    before, after = previous.prints, now.prints
    changed = [k for k in before.keys() | after.keys() if before.get(k) != after.get(k)]
    metas = previous.metas
    redo = {rel for rel, meta in now.metas.items() if metas.get(rel) != meta}
    redo.update(now.metas.keys() - previous.stamps.keys())  # new, or never written
    redo.update(now.metas.keys() - previous.deps.keys())
    for key in changed:
        redo.update(readers.get(key, ()))
    return [p for p in pages if p.output in redo]


#: The preview's index of which pages read each dependency key, with the state it is of.
READERS = "readers"
Readers = dict[str, set[str]]


def _readers(reuse: Reuse, state: BuildState) -> Readers:
    """The pages that read each dependency key in `state` (the reverse of its `deps`): made
    once in a preview (two hundred thousand keys at 10,000 products), then kept up to date."""
    kept = reuse.table(READERS).recall(READERS)
    if kept is not MISSING and kept[0] is state:
        return kept[1]  # type: ignore[no-any-return]
    readers: Readers = {}
    for page, keys in state.deps.items():
        for key in keys:
            readers.setdefault(key, set()).add(page)
    reuse.table(READERS).keep(READERS, (state, readers))
    return readers


def _prepare_rebuilds(reuse: Reuse, state: BuildState, workers: int) -> None:
    """What a preview's rebuilds use, made while it is idle after its first build: the drawing
    worker and the index of which pages read what (`_readers`)."""
    if workers > 1 and reuse.drawing is None:
        reuse.drawing = DrawingWorker()
    _readers(reuse, state)


def _keep_readers(reuse: Reuse, previous: BuildState, state: BuildState, rendered: Iterable[str]) -> None:
    """The index of `previous`'s readers (`_readers`), brought to `state`'s: the pages rendered
    again read what they read now; the pages gone read nothing."""
    kept = reuse.table(READERS).recall(READERS)
    if kept is MISSING or kept[0] is not previous:
        return
    readers: Readers = kept[1]
    gone = previous.deps.keys() - state.deps.keys()
    for page in [*rendered, *gone]:
        for key in previous.deps.get(page, ()):
            readers.get(key, set()).discard(page)
        for key in state.deps.get(page, ()):
            readers.setdefault(key, set()).add(page)
    reuse.table(READERS).keep(READERS, (state, readers))


def _carry_pages(
    pages: list[PageSpec], todo: list[PageSpec], previous: BuildState, state: BuildState, staging: Staging
) -> None:
    """The pages not rendered again are as the last build wrote them: staged as unchanged, with
    the dependencies and prices that build noted. (Its records are copied whole, in C, and the
    pages rendered now note theirs over them: ten thousand pages are carried in milliseconds.)"""
    redo = {p.output for p in todo}
    carried = [p.output for p in pages if p.output not in redo]
    staging.names.update(dict.fromkeys(carried))  # as staging.record(rel, False, None) for each
    staging.unchanged += len(carried)
    keep = state.metas.keys() - redo
    state.deps.update(previous.deps)
    state.offers.update(previous.offers)
    state.offers_json.update(previous.offers_json)
    for records in (state.deps, state.offers, state.offers_json):
        for rel in records.keys() - keep:
            del records[rel]


def _changed_on_disk(file: str, stamp: tuple[int, int] | None) -> bool:
    """Whether a page is missing, or not as the last build wrote it (changed by hand)."""
    now = file_stamp(file)
    return now is None or now != stamp


def _stage_copies(
    staging: Staging,
    made: dict[str, Source],
    others: dict[str, Source],
    kept: dict[str, Stamp | None] | None = None,
    renewed: set[str] | None = None,
) -> list[str] | None:
    """Stage the copied files: the image cache's files the maker `made` (pictures, QR codes,
    photo sizes) and the `others` (static files, photos), which an owner may change in place
    and which are compared as in any build.

    In a preview's rebuild, `kept` are the manifest's entries of what the build before copied
    from the image cache, and `renewed` the outputs whose jobs were not that build's (the
    maker knows them): every other copy is of the very file that build copied, named by the
    hash of its inputs and never rewritten, so it is as that build left it, without a look at
    each of 50,000. Returns the made outputs staged that way (None: all of them were staged)."""
    todo: list[str] | None = None
    if kept is not None and renewed is not None:
        names = kept.copy()
        for rel in renewed:
            names.pop(rel, None)
        staging.names.update(names)  # as staging.record(rel, False, kept[rel]) for each
        staging.unchanged += len(names)
        todo = sorted(rel for rel in renewed if rel in made)
    staging.add_made((rel, str(made[rel])) for rel in (todo if todo is not None else sorted(made)))
    for rel in sorted(others):
        staging.add(rel, others[rel])
    return todo


def site_files(site: Site) -> dict[str, bytes]:
    """The shop's data files: catalog, sitemap, feeds and the search index."""
    return render_data_files(site, {}, None).files


#: Pages rendered by one task of a worker process; fewer pages in all are rendered in-process.
PAGES_PER_TASK = 250

# What forked page workers render: set just before the pool starts, inherited by fork (the
# shop is shared copy-on-write instead of being pickled to every worker).
_RENDER_STATE: tuple[jinja2.Environment, Site, Theme, list[PageSpec], list[Path], Path, dict[str, Any]] | None = None

#: What a rendered page gives back: its output path, its compacted bytes, what it read (see
#: depends.py) and, for a product page, the prices it states (truth.py).
Rendered = tuple[str, bytes, frozenset[str], dict[str, Offers] | None]


def _tracked(
    env: jinja2.Environment, site: Site, theme: Theme, pages: list[PageSpec], roots: list[Path]
) -> Iterator[Rendered]:
    """Each rendered page, compacted, with what it read and the prices a product page states.
    The generator renders a page only when asked for it, so each page gets a fresh set."""
    tracker = env if isinstance(env, TrackingEnvironment) else None
    try:
        for page, (rel, html) in zip(pages, render_pages(env, site, theme, pages, roots), strict=False):
            deps: frozenset[str] = frozenset()
            if tracker is not None:
                deps = frozenset(tracker.touched or ())
                tracker.touched = set()
            compact = compact_html(html)
            product = page.extra.get("product") if page.meta.kind == "product" else None
            offers = from_page(compact, product.id, bool(product.variants)) if product is not None else None
            yield rel, compact, deps, offers
    finally:
        if tracker is not None:
            tracker.touched = None


def _start_tracking(env: jinja2.Environment) -> None:
    if isinstance(env, TrackingEnvironment):
        env.touched = set()


def _render_task(
    bounds: tuple[int, int],
) -> tuple[list[tuple[str, bool, Any, frozenset[str], dict[str, Offers] | None]], Problem | None]:
    assert _RENDER_STATE is not None
    env, site, theme, pages, roots, out_dir, previous = _RENDER_STATE
    done: list[tuple[str, bool, Any, frozenset[str], dict[str, Offers] | None]] = []
    try:
        _start_tracking(env)
        for rel, html, deps, offers in _tracked(env, site, theme, pages[bounds[0] : bounds[1]], roots):
            done.append((rel, *stage_file(out_dir, rel, html, previous.get(rel)), deps, offers))
    except TemplateProblem as exc:
        return done, exc.problem
    return done, None


def stage_pages(
    staging: Staging,
    env: jinja2.Environment,
    site: Site,
    theme: Theme,
    pages: list[PageSpec],
    roots: list[Path],
    jobs: int,
    progress: Progress | None = None,
    state: BuildState | None = None,
) -> Problem | None:
    """Render every page and stage the changed ones; the first template problem, if any.

    With several jobs the pages are rendered by forked worker processes, each comparing and
    staging its own pages, and reading the prices its product pages state, so only file names
    and small records travel back. Where fork is not safe (threads running, macOS) the pages
    are rendered here."""
    global _RENDER_STATE
    total = len(pages)
    if progress is not None:
        progress("pages", 0, total)
    context = mp_context()

    def note(rel: str, deps: frozenset[str], offers: dict[str, Offers] | None) -> None:
        if state is not None:
            state.deps[rel] = deps
            if offers is not None:
                state.offers[rel] = offers

    if jobs < 2 or total < 2 * PAGES_PER_TASK or context.get_start_method() != "fork":
        try:
            _start_tracking(env)
            for n, (rel, html, deps, offers) in enumerate(_tracked(env, site, theme, pages, roots), 1):
                staging.add(rel, html)
                note(rel, deps, offers)
                if progress is not None and n % 100 == 0:
                    progress("pages", n, total)
        except TemplateProblem as exc:
            return exc.problem
        if progress is not None:
            progress("pages", total, total)
        return None
    _compile_templates(env)
    _RENDER_STATE = (env, site, theme, pages, roots, staging.out_dir, staging.previous)
    tasks = [(start, min(start + PAGES_PER_TASK, total)) for start in range(0, total, PAGES_PER_TASK)]
    first: Problem | None = None
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=gc.enable) as pool:
            for done, problem in pool.map(_render_task, tasks):
                for rel, staged, stamp, deps, offers in done:
                    staging.record(rel, staged, stamp)
                    note(rel, deps, offers)
                if problem is not None and first is None:
                    first = problem
                if progress is not None:
                    progress("pages", len(staging.names), total)
    finally:
        _RENDER_STATE = None
    return first


def _compile_templates(env: jinja2.Environment) -> None:
    """Compile every template here before the workers fork: each would compile them all again,
    and this process keeps them (the environment's bytecode cache, in memory) for the preview's
    rebuilds, which render in this process. A template that does not compile is left to the
    page that uses it, which reports it."""
    for name in env.list_templates(filter_func=lambda name: not name.startswith(".")):
        with contextlib.suppress(jinja2.TemplateError, UnicodeDecodeError):
            env.get_template(name)


def _product_photos(site: Site, reuse: Reuse | None) -> Sequence[tuple[Image, ...]]:
    """Each product's photos (`product_photos`), in the shop's order; kept by product in a
    preview (Reuse.each), so that an edit does not walk ten thousand products' photos twice."""
    if reuse is None:
        return [product_photos(p) for p in site.products]
    return list(reuse.each(PHOTOS, site.products, product_photos).values())


def _used_images(site: Site, photos: Iterable[tuple[Image, ...]]) -> set[Image]:
    """Every photo the output copies; `photos` are the products' (`product_photos`)."""
    found = set(chain.from_iterable(photos))
    cfg = site.config
    if cfg.logo:
        found.add(cfg.logo)
    if cfg.checkout.payment_qr:
        found.add(cfg.checkout.payment_qr)
    for c in site.collections:
        if c.image:
            found.add(c.image)
    for s in site.stories:
        if s.cover:
            found.add(s.cover)
    for st in site.stores:
        if st.image:
            found.add(st.image)
    return found
