"""Preview rebuilds render only the pages an edit touches, and write what a full build writes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest
from edits import edit, tree
from paged_shop import write_paged_shop

from generator.build import build
from generator.devserver import needs_full_build

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


def _listings(urls: list[str]) -> list[str]:
    return sorted(u for u in urls if u == "products/" or "/page/" in u or u.startswith("collections/"))


@pytest.mark.parametrize(
    ("change", "listings"),
    [
        # p060 is on page 2 of "All products" and of collection `many`: only those render again
        (("title: Thing 60\n", "title: Thing sixty\n"), ["collections/many/page/2/", "products/page/2/"]),
        (("price: 60.50\n", "price: 61.50\n"), ["collections/many/page/2/", "products/page/2/"]),
        # p010 leaves: every later product moves up a place, on every page of both listings (and
        # the count of the categories page changes)
        (("  - id: p010\n    title: Thing 10\n    price: 10.50\n", ""),
         ["collections/", "collections/many/", "collections/many/page/2/", "collections/many/page/3/",
          "products/", "products/page/2/", "products/page/3/"]),
    ],
    ids=["title", "price", "delete"],
)  # fmt: skip
def test_an_edited_product_renders_only_the_listing_pages_that_show_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: tuple[str, str], listings: list[str]
) -> None:
    site = write_paged_shop(tmp_path / "site")
    out = tmp_path / "preview"
    first = build(site, out, track=True, workers=1)
    rendered: list[str] = []
    original = jinja2.Template.render

    def render(self: jinja2.Template, *args: object, **kwargs: object) -> str:
        rendered.append(dict(*args, **kwargs)["page"].url)  # type: ignore[call-overload]
        return original(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", render)
    edit(site / "content/catalog/1-many.yml", *change)
    build(site, out, previous=first.state, track=True, workers=1)
    monkeypatch.undo()
    assert _listings(rendered) == listings
    full = tmp_path / "full"
    build(site, full, workers=1)
    assert tree(out) == tree(full)


def test_a_listing_that_shrinks_to_one_page_loses_its_later_pages(tmp_path: Path) -> None:
    site = write_paged_shop(tmp_path / "site")
    out = tmp_path / "preview"
    first = build(site, out, track=True, workers=1)
    assert (out / "products/page/3/index.html").is_file()
    many = site / "content/catalog/1-many.yml"
    text = many.read_text("utf-8")
    many.write_text(text[: text.index("  - id: p021\n")], "utf-8")  # 20 of its 100 products stay
    build(site, out, previous=first.state, track=True, workers=1)
    assert not (out / "products/page").exists() and not (out / "collections/many/page").exists()
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
    edit(site / "templates/product.html", '<div class="container product"', '<div class="container product x"')
    assert needs_full_build(site, {site / "templates/product.html"})
    build(site, out, track=True, workers=1)  # what serve does for a template
    full = tmp_path / "full"
    build(site, full, workers=1)
    assert tree(out) == tree(full)
    assert b'class="container product x"' in (out / "products/green/index.html").read_bytes()


def test_serve_rebuilds_an_edited_product_page_and_reports_what_it_rendered(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys
    import time

    from browser import free_port, wait_until_serving

    site, out = make_site(), tmp_path / "preview"
    port = free_port()
    with (tmp_path / "serve.log").open("ab") as log:  # appends: the child's writes never overwrite
        proc = subprocess.Popen(
            [sys.executable, "-m", "generator", "serve", str(site), "--port", str(port), "--out", str(out)],
            stdout=log, stderr=log,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent), "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/", proc)
            page = out / "products/green/index.html"
            assert b"Green tea, spring" not in page.read_bytes()
            edit(site / "content/catalog/tea.yml", "title: Green tea", "title: Green tea, spring")
            deadline = time.monotonic() + 60
            while b"Green tea, spring" not in page.read_bytes():
                assert time.monotonic() < deadline, "the page was not rebuilt within 60 s"
                time.sleep(0.05)
            while b"pages rendered" not in (tmp_path / "serve.log").read_bytes():  # printed after the write
                assert time.monotonic() < deadline, "no summary of the rebuild within 60 s"
                time.sleep(0.05)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    lines = (tmp_path / "serve.log").read_text("utf-8").splitlines()
    rebuilt = [line for line in lines if "pages rendered" in line]
    assert rebuilt, lines
    rendered = int(rebuilt[-1].rsplit("(", 1)[1].split()[0])
    total = int(rebuilt[-1].split()[1])
    assert 0 < rendered < total
