"""Preview rebuilds render only the pages an edit touches, and write what a full build writes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.build import build
from generator.devserver import needs_full_build
from generator.output import MANIFEST


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != MANIFEST}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


EDITS: dict[str, tuple[str, str, str]] = {
    "price": ("content/catalog/tea.yml", "price: 19.90", "price: 24.90"),
    "title": ("content/catalog/tea.yml", "title: Green tea", "title: Green tea, spring"),
    "story": ("content/stories/harvest.md", "title:", "title: New"),
}


@pytest.mark.parametrize("change", ["price", "title", "story", "delete"])
def test_an_incremental_rebuild_writes_what_a_full_build_writes(
    make_site: Callable[..., Path], tmp_path: Path, change: str
) -> None:
    site = make_site()
    out = tmp_path / "preview"
    first = build(site, out, track=True, workers=1)
    assert first.state is not None and first.rendered == first.pages
    catalog = site / "content/catalog/tea.yml"
    if change == "delete":  # the last product of the file goes
        text = catalog.read_text("utf-8")
        cut = text.rindex("  - id: ")
        catalog.write_text(text[:cut], "utf-8")
    else:
        rel, old, new = EDITS[change]
        if not (site / rel).exists():
            pytest.skip(f"the mini shop has no {rel}")
        edit(site / rel, old, new)
    again = build(site, out, previous=first.state, track=True, workers=1)
    assert again.rendered < again.pages, "only the pages that show the change are rendered"
    full = tmp_path / "full"
    build(site, full, workers=1)
    assert tree(out) == tree(full)


def test_an_unchanged_rebuild_renders_nothing(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site = make_site()
    first = build(site, tmp_path / "out", track=True, workers=1)
    again = build(site, tmp_path / "out", previous=first.state, track=True, workers=1)
    assert again.rendered == 0 and again.stats.written == 0


def test_templates_settings_and_themes_rebuild_everything(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert needs_full_build(site, {site / "site.yml"})
    assert needs_full_build(site, {site / "templates/product.html"})
    assert needs_full_build(site, {site / "themes/mine/theme.yml"})
    assert needs_full_build(site, {site / "static/shop.css"})
    assert needs_full_build(site, {site / "content/stores.yml"})
    assert not needs_full_build(site, {site / "content/catalog/tea.yml", site / "content/stories/a.md"})


def test_a_template_change_after_an_incremental_rebuild_matches_a_full_build(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site()
    out = tmp_path / "preview"
    state = build(site, out, track=True, workers=1).state
    edit(site / "content/catalog/tea.yml", "price: 19.90", "price: 29.90")
    state = build(site, out, previous=state, track=True, workers=1).state
    shutil.copytree(Path(__file__).resolve().parent.parent / "themes/default/templates", site / "templates")
    edit(site / "templates/product.html", '<div class="container product">', '<div class="container product x">')
    assert needs_full_build(site, {site / "templates/product.html"})
    build(site, out, track=True, workers=1)  # what serve does for a template
    full = tmp_path / "full"
    build(site, full, workers=1)
    assert tree(out) == tree(full)
    assert b'class="container product x"' in (out / "products/green/index.html").read_bytes()
