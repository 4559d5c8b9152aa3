"""The build, top to bottom: load and check → plan → render → images → collect assets → write.

Every phase before `write` works in memory, so any error (content or template) leaves the
previous output exactly as it was. The share images (cards, posters, QR codes) are kept in a
cache outside the output folder, keyed by their inputs, so that a rebuild draws only what
changed; the cache is pruned only after a successful write.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .cache import CACHE_DIR, ImageCache, tag_for
from .catalog_json import render_catalog_json
from .errors import ContentError, Problem
from .feeds import render_atom, render_product_csv, render_product_rss
from .i18n import Text, load_translations
from .imaging import ImageMaker
from .load import load_site
from .model import Site
from .output import Source, WriteStats, check_out_dir, write_outputs
from .render import TemplateProblem, file_digest, make_environment, plan_pages, render_pages
from .search import render_search_index
from .share import plan_share
from .sitemap import render_robots, render_sitemap
from .themes import Theme, ThemeError, load_theme


@dataclass
class BuildResult:
    site: Site
    out_dir: Path
    pages: int
    files: int
    stats: WriteStats
    warnings: list[Problem]
    timings: dict[str, float] = field(default_factory=dict)
    images_drawn: int = 0  # share image files drawn by this build (cards, posters, QR codes)
    images_cached: int = 0  # share image files found in the cache

    def summary(self) -> str:
        total = sum(self.timings.values())
        return (
            f"Built {self.pages} pages, {self.files} files in all "
            f"({self.stats.written} written, {self.stats.unchanged} unchanged, {self.stats.removed} removed) "
            f"in {total:.2f} s → {self.out_dir}"
        )


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
) -> BuildResult:
    """Build the shop in `site_dir` into `out_dir` (default: site_dir/public).

    `base_url` replaces site.yml's for this build only: the preview server serves the shop
    at its own address, where the published URL's path would not resolve. `cache_dir` holds
    the share images between builds (default: site_dir/.micromall-cache); `workers` is the
    number of processes that draw them (default: one per CPU).
    """
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

    site, warnings = load_site(site_dir)
    if base_url is not None:
        site = replace(site, config=replace(site.config, base_url=base_url))
    try:
        theme = load_theme(site.config.theme, site_dir).with_overrides(site.config.theme_settings)
    except ThemeError as exc:  # pragma: no cover - load_site already checked the theme
        raise ContentError([]) from exc
    phase("load")

    cache = ImageCache(cache_dir if cache_dir is not None else default_cache_dir(site_dir))
    with ImageMaker(cache, workers) as maker:
        result = _build(site, theme, site_dir, out_dir, clean, cache, maker, phase)
    result.warnings = sorted(warnings + result.warnings)
    result.timings = timings
    return result


def _build(
    site: Site,
    theme: Theme,
    site_dir: Path,
    out_dir: Path,
    clean: bool,
    cache: ImageCache,
    maker: ImageMaker,
    phase: Callable[[str], None],
) -> BuildResult:
    static = collect_static(theme, site_dir)
    static_hashes = {rel: file_digest(path.read_bytes()) for rel, path in static.items()}
    translations = load_translations(theme, site_dir, site.config.language)
    text = Text(translations)
    env = make_environment(site, theme, site_dir, static_hashes, translations)
    share = plan_share(site, theme, static, site_dir, cache, text)
    pages = plan_pages(site, share.image_for, text)
    share_files = maker.make(share.qr_jobs)  # the product pages show their QR code inline
    share.attach_qr(share_files)
    phase("plan")

    files: dict[str, Source] = {}
    try:
        for path, html in render_pages(env, site, theme, pages, template_roots(theme, site_dir)):
            files[path] = html
    except TemplateProblem as exc:
        raise ContentError([exc.problem]) from None
    files["catalog.json"] = render_catalog_json(site)
    files["sitemap.xml"] = render_sitemap(site)
    files["robots.txt"] = render_robots(site)
    files["feed.xml"] = render_atom(site)
    files["products.xml"] = render_product_rss(site)
    files["products.csv"] = render_product_csv(site)
    files["search.json"] = render_search_index(site)
    phase("render")

    share_files.update(maker.make(share.image_jobs))
    files.update(share_files)
    phase("images")

    for rel, source in static.items():
        files[f"static/{rel}"] = source
    content_dir = site_dir / "content"
    for image in sorted(_used_images(site), key=lambda i: i.url):
        files[f"media/{image.path}"] = content_dir / image.path
    phase("assets")

    stats = write_outputs(out_dir, files, clean=clean)
    cache.prune(maker.keys, tag_for(site.config.base_url))
    cache.save_hashes()
    phase("write")
    return BuildResult(site, out_dir, len(pages), len(files), stats, share.warnings, {},
                       images_drawn=maker.drawn, images_cached=maker.cached)  # fmt: skip


def _used_images(site: Site) -> set:  # type: ignore[type-arg]
    found = set()
    cfg = site.config
    if cfg.logo:
        found.add(cfg.logo)
    if cfg.checkout.payment_qr:
        found.add(cfg.checkout.payment_qr)
    for p in site.products:
        found.update(p.images)
        found.update(v.image for v in p.variants if v.image)
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
