"""A build after a build: catalog files parsed once, pages rendered only when what they show
changed, and the output always what a build from scratch writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from edits import edit, tree
from PIL import Image

import generator.load
from generator.build import build
from generator.errors import ContentError
from generator.load import load_site


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"  # each test its own, so that it sees only its own builds


def test_a_build_with_nothing_changed_renders_and_writes_nothing(
    make_site: Callable[..., Path], tmp_path: Path, cache: Path
) -> None:
    site = make_site()
    first = build(site, tmp_path / "out", cache_dir=cache, workers=1)
    assert first.rendered == first.pages
    again = build(site, tmp_path / "out", cache_dir=cache, workers=1)  # as a new `micromall build` does
    assert again.rendered == 0 and again.stats.written == 0 and again.pages == first.pages


def test_after_an_edit_only_the_pages_that_show_it_are_rendered_and_the_output_is_a_full_build(
    make_site: Callable[..., Path], tmp_path: Path, cache: Path
) -> None:
    site = make_site()
    out = tmp_path / "out"
    build(site, out, cache_dir=cache, workers=1)
    edit(site / "content/catalog/tea.yml", "price: 19.90", "price: 24.90")
    again = build(site, out, cache_dir=cache, workers=1)
    assert 0 < again.rendered < again.pages
    assert b"24.90" in (out / "products/black/index.html").read_bytes()
    full = tmp_path / "full"
    build(site, full, cache_dir=tmp_path / "other-cache", workers=1)
    assert tree(out) == tree(full)


def test_a_template_change_renders_every_page(make_site: Callable[..., Path], tmp_path: Path, cache: Path) -> None:
    site = make_site()
    build(site, tmp_path / "out", cache_dir=cache, workers=1)
    base = Path(__file__).resolve().parent.parent / "themes/default/templates/base.html"
    (site / "templates").mkdir()
    (site / "templates/base.html").write_text(base.read_text("utf-8").replace("<body", "<body data-x", 1), "utf-8")
    again = build(site, tmp_path / "out", cache_dir=cache, workers=1)
    assert again.rendered == again.pages
    assert b"<body data-x" in (tmp_path / "out/index.html").read_bytes()


def test_a_page_changed_by_hand_in_the_output_is_written_again(
    make_site: Callable[..., Path], tmp_path: Path, cache: Path
) -> None:
    site = make_site()
    out = tmp_path / "out"
    build(site, out, cache_dir=cache, workers=1)
    page = out / "products/green/index.html"
    good = page.read_bytes()
    page.write_bytes(good.replace(b"Green tea", b"Grey tea"))
    again = build(site, out, cache_dir=cache, workers=1)
    assert again.rendered == 1 and page.read_bytes() == good


def test_the_price_check_still_runs_on_pages_that_are_not_rendered_again(
    make_site: Callable[..., Path], tmp_path: Path, cache: Path
) -> None:
    """The product page keeps its price in a template of the site that stops showing the
    change: the catalog data changes, the page does not, and the build must refuse."""
    site = make_site()
    out = tmp_path / "out"
    build(site, out, cache_dir=cache, workers=1)
    before = tree(out)
    edit(site / "content/catalog/tea.yml", "price: 19.90", "price: 24.90")
    (site / "templates/partials").mkdir(parents=True)
    price = Path(__file__).resolve().parent.parent / "themes/default/templates/partials/price.html"
    text = price.read_text("utf-8")
    (site / "templates/partials/price.html").write_text(
        text.replace("item.price", "item.compare_at_price or item.price"), "utf-8"
    )
    with pytest.raises(ContentError):
        build(site, out, cache_dir=cache, workers=1)
    assert tree(out) == before, "a failed build leaves the output as it was"


def test_catalog_files_are_parsed_once_and_their_problems_reported_every_time(
    make_site: Callable[..., Path], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site()
    first, warnings = load_site(site, cache)
    parsed: list[str] = []
    real = generator.load.parse_catalog
    monkeypatch.setattr(generator.load, "parse_catalog", lambda src, *a: parsed.append(src.rel) or real(src, *a))
    again, warnings_again = load_site(site, cache)
    assert parsed == []
    assert warnings_again == warnings
    assert [repr(p) for p in again.products] == [repr(p) for p in first.products]
    assert [[r.id for r in p.related] for p in again.products] == [[r.id for r in p.related] for p in first.products]
    assert [[c.id for c in p.collections] for p in again.products] == [
        [c.id for c in p.collections] for p in first.products
    ]

    edit(site / "content/catalog/tea.yml", "tags: [green]", "tags: [green]\n    colour: green")
    errors = []
    for _ in range(2):
        with pytest.raises(ContentError) as failed:
            load_site(site, cache)
        errors.append(failed.value.problems)
    assert parsed == ["content/catalog/tea.yml"], "parsed once, though it failed"
    assert errors[0] == errors[1] and any("unknown field" in p.message for p in errors[0])

    edit(site / "content/catalog/tea.yml", "\n    colour: green", "")
    edit(site / "content/catalog/tea.yml", "title: Green tea", "title: Green tea, spring")
    edited, _ = load_site(site, cache)
    assert parsed == ["content/catalog/tea.yml"] * 2
    assert edited.products[0].title == "Green tea, spring"


def test_a_replaced_photo_parses_the_files_that_use_it_again(make_site: Callable[..., Path], cache: Path) -> None:
    site = make_site()
    first, _ = load_site(site, cache)
    assert (first.products[0].images[0].width, first.products[0].images[0].height) == (40, 30)
    Image.new("RGB", (64, 48), (10, 20, 30)).save(site / "content/images/green.jpg")
    again, _ = load_site(site, cache)
    assert (again.products[0].images[0].width, again.products[0].images[0].height) == (64, 48)


def test_a_state_file_that_came_with_the_shop_cannot_run_code(
    make_site: Callable[..., Path], tmp_path: Path, cache: Path
) -> None:
    """The cache folder may come with someone else's shop: a saved state that is not our JSON
    (here a pickle that would write a file when unpickled) is ignored, and the build renders all."""
    import pickle

    site = make_site()
    out = tmp_path / "out"
    first = build(site, out, cache_dir=cache, workers=1)
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (open, (str(marker), "w"))

    for saved in (cache / "pages").iterdir():
        saved.write_bytes(pickle.dumps(Exploit()))
    again = build(site, out, cache_dir=cache, workers=1)
    assert not marker.exists()
    assert again.rendered == first.pages, "an unreadable state means a full render"


def test_a_product_page_s_metadata_is_what_its_print_is_made_from(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    """A product page's metadata print is made from the product's own fields, its first
    collection and its card (build._product_meta), not from the metadata itself: within one
    set of settings, pages whose prints are made from the same things have the same metadata,
    over edits of the product, of its collection, and of other products."""
    from generator.build import _product_meta
    from generator.render import plan_pages

    site = make_site()
    tea = site / "content/catalog/tea.yml"
    edits = [
        ("title: Green tea", "title: Green tea, spring"),
        ("price: 128", "price: 118"),
        ("summary: Fresh and sweet.", "summary: Fresh."),
        ("title: Tea\n", "title: Teas\n"),
        ("stock: 0", "stock: 3"),
        ("tags: [green]", "tags: [green, black]"),
        ("published: false", "published: true"),
    ]
    seen: dict[object, str] = {}
    for old, new in [("", ""), *edits]:
        if old:
            edit(tea, old, new)
        loaded, _ = load_site(site)
        for page in plan_pages(loaded):
            if page.meta.kind == "product":
                made_from = _product_meta(page.extra["product"], page.meta)
                assert seen.setdefault(made_from, repr(page.meta)) == repr(page.meta), (old, page.output)
    assert len(seen) > len(edits), "each edit made pages of another metadata"
