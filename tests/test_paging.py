"""Long listings in pages: "All products" and the collections of a 120-product shop.

Pinned: which pages exist, what each shows, how they link to each other (for people and for
search engines), the sitemap, the JSON-LD, valid HTML, and that the demo shop (19 products)
keeps one page per listing.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from linkcheck import broken_links
from paged_shop import IN_MANY, TOTAL, product_id, write_paged_shop

from generator.build import build
from generator.paging import PageLink, page_count, paginate

BASE = "https://shop.example.com/"


# ---- paging.py ------------------------------------------------------------------------------


def numbers(links: tuple[PageLink | None, ...]) -> list[int | None]:
    return [None if link is None else link.number for link in links]


def test_pages_of_a_listing() -> None:
    pages = paginate(list(range(120)), "products/", 48)
    assert [(p.number, p.first, p.last, list(items)[:1]) for p, items in pages] == [
        (1, 1, 48, [0]),
        (2, 49, 96, [48]),
        (3, 97, 120, [96]),
    ]
    second = pages[1][0]
    assert (second.url, second.previous, second.next) == ("products/page/2/", "products/", "products/page/3/")
    assert (pages[0][0].previous, pages[2][0].next) == (None, None)
    assert [link for link in second.links if link and link.current] == [PageLink(2, "products/page/2/", True)]


def test_an_empty_listing_and_an_exact_fit_are_one_page() -> None:
    (empty, shown), = paginate([], "collections/x/", 48)  # fmt: skip
    assert (empty.count, empty.first, empty.last, empty.is_paged, list(shown)) == (1, 0, 0, False, [])
    assert [p.count for p, _ in paginate(list(range(96)), "products/", 48)] == [2, 2]
    assert page_count(0, 48) == 1 and page_count(48, 48) == 1 and page_count(49, 48) == 2


def test_the_numbered_links_keep_the_ends_and_the_neighbours() -> None:
    pages = [p for p, _ in paginate(list(range(209 * 48)), "products/", 48)]
    assert numbers(pages[5].links) == [1, None, 4, 5, 6, 7, 8, None, 209]
    assert numbers(pages[0].links) == [1, 2, 3, None, 209]
    assert numbers(pages[-1].links) == [1, None, 207, 208, 209]
    # a gap of one page shows that page: "1 2 3 4 5 6", not "1 … 3 4 5 6"
    assert numbers(pages[3].links) == [1, 2, 3, 4, 5, 6, None, 209]
    assert numbers(paginate(list(range(5)), "products/", 1)[2][0].links) == [1, 2, 3, 4, 5]


# ---- a built shop of 120 products -----------------------------------------------------------


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 120-product shop, built once (pages of 48)."""
    site = write_paged_shop(tmp_path_factory.mktemp("paged") / "site")
    out = site.parent / "public"
    result = build(site, out)
    assert result.warnings == [], result.warnings
    return out


def page(out: Path, rel: str) -> str:
    return (out / rel / "index.html").read_text("utf-8")


def cards(html: str) -> list[str]:
    """The product ids of the add-to-cart buttons of the grid, in order."""
    return re.findall(r'data-add-to-cart data-product="([^"]+)"', html)


def head_links(html: str) -> dict[str, str]:
    return dict(re.findall(r'<link rel="(canonical|prev|next)" href="([^"]+)"', html))


def item_list(html: str) -> dict[str, object]:
    blocks = [json.loads(b) for b in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html)]
    (found,) = [b for b in blocks if b["@type"] == "ItemList"]
    return found


def test_all_products_are_in_pages_of_48_and_the_last_is_partial(paged: Path) -> None:
    listing = sorted(p.relative_to(paged).as_posix() for p in (paged / "products").glob("**/index.html"))
    assert [p for p in listing if "/page/" in p or p == "products/index.html"] == [
        "products/index.html",
        "products/page/2/index.html",
        "products/page/3/index.html",
    ]
    assert cards(page(paged, "products")) == [product_id(n) for n in range(1, 49)]
    assert cards(page(paged, "products/page/2")) == [product_id(n) for n in range(49, 97)]
    assert cards(page(paged, "products/page/3")) == [product_id(n) for n in range(97, TOTAL + 1)]
    assert not (paged / "products/page/4").exists() and not (paged / "products/page/1").exists()
    assert "97–120 of 120 products" in page(paged, "products/page/3")


def test_each_page_links_its_neighbours_and_names_itself(paged: Path) -> None:
    first, second, last = (page(paged, p) for p in ("products", "products/page/2", "products/page/3"))
    assert head_links(first) == {"canonical": BASE + "products/", "next": BASE + "products/page/2/"}
    assert head_links(second) == {
        "canonical": BASE + "products/page/2/",
        "prev": BASE + "products/",
        "next": BASE + "products/page/3/",
    }
    assert head_links(last) == {"canonical": BASE + "products/page/3/", "prev": BASE + "products/page/2/"}
    assert "<title>All products · Mini Tea</title>" in first
    assert "<title>All products, page 2 · Mini Tea</title>" in second
    nav = re.search(r'<nav class="pagination" aria-label="Pages">(.*?)</nav>', second, re.S)
    assert nav is not None
    assert re.findall(r'<a class="pagination__step[^"]*" href="([^"]+)" rel="(\w+)"', nav[1]) == [
        ("/products/", "prev"),
        ("/products/page/3/", "next"),
    ]
    link = r'class="pagination__page" href="([^"]+)" aria-label="Page (\d)"( aria-current="page")?'
    numbered = re.findall(link, nav[1])
    assert numbered == [("/products/", "1", ""), ("/products/page/2/", "2", ' aria-current="page"'),
                        ("/products/page/3/", "3", "")]  # fmt: skip
    assert "Page 2 of 3" in nav[1]


def test_a_collection_in_pages_keeps_its_introduction_on_page_one(paged: Path) -> None:
    first, last = page(paged, "collections/many"), page(paged, "collections/many/page/3")
    assert cards(first) == [product_id(n) for n in range(1, 49)]
    assert cards(last) == [product_id(n) for n in range(97, IN_MANY + 1)]
    assert "<strong>big</strong>" in first and "<strong>big</strong>" not in last
    assert "<title>Many things, page 3 · Mini Tea</title>" in last
    assert head_links(last) == {
        "canonical": BASE + "collections/many/page/3/",
        "prev": BASE + "collections/many/page/2/",
    }
    assert "97–100 of 100 products" in last


def test_short_and_empty_collections_are_one_page_without_navigation(paged: Path) -> None:
    few, empty = page(paged, "collections/few"), page(paged, "collections/empty")
    assert len(cards(few)) == TOTAL - IN_MANY and "20 products" in few
    assert cards(empty) == [] and "No products in this category yet." in empty and "0 products" in empty
    for html in (few, empty):
        assert 'class="pagination"' not in html and 'rel="next"' not in html and 'rel="prev"' not in html
    assert not (paged / "collections/few/page").exists() and not (paged / "collections/empty/page").exists()


def test_the_sitemap_lists_every_page_of_every_listing(paged: Path) -> None:
    sitemap = (paged / "sitemap.xml").read_text("utf-8")
    listed = re.findall(r"<loc>https://shop\.example\.com/(.*?)</loc>", sitemap)
    assert [u for u in listed if "page/" in u] == [
        "products/page/2/",
        "products/page/3/",
        "collections/many/page/2/",
        "collections/many/page/3/",
    ]
    assert {"products/", "collections/many/", "collections/few/", "collections/empty/"} <= set(listed)
    assert len([u for u in listed if re.fullmatch(r"products/p\d+/", u)]) == TOTAL


def test_each_page_has_an_item_list_of_its_own_products(paged: Path) -> None:
    listing = item_list(page(paged, "products/page/2"))
    elements = listing["itemListElement"]
    assert isinstance(elements, list)
    assert listing["numberOfItems"] == TOTAL
    assert [e["position"] for e in elements] == list(range(49, 97))
    assert elements[0]["url"] == BASE + "products/p049/"
    collection = item_list(page(paged, "collections/many/page/3"))
    assert collection["numberOfItems"] == IN_MANY
    assert [(e["position"], e["url"]) for e in collection["itemListElement"]] == [  # type: ignore[attr-defined]
        (n, f"{BASE}products/{product_id(n)}/") for n in range(97, IN_MANY + 1)
    ]
    assert item_list(page(paged, "collections/empty")) == {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "numberOfItems": 0,
        "itemListElement": [],
    }


def test_every_link_of_the_paged_shop_resolves(paged: Path) -> None:
    assert broken_links(paged, BASE) == []


@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java (apt-get install default-jre-headless)")
def test_the_listing_pages_are_valid_html(paged: Path) -> None:
    from test_html_valid import vnu_errors

    pages = [paged / rel / "index.html" for rel in ("products", "products/page/2", "products/page/3",
                                                    "collections/many/page/2", "collections/empty")]  # fmt: skip
    errors = vnu_errors(pages, paged)[0]
    assert errors == [], "\n".join(errors)


def test_a_shop_sets_its_page_size(tmp_path: Path) -> None:
    site = write_paged_shop(tmp_path / "site", per_page=119)
    out = tmp_path / "public"
    build(site, out)
    assert len(cards(page(out, "products"))) == 119 and cards(page(out, "products/page/2")) == ["p120"]
    assert "Product 120 of 120" in page(out, "products/page/2")
    assert not (out / "collections/many/page").exists(), "100 products fit on one page of 119"


def test_the_demo_shop_keeps_one_page_per_listing() -> None:
    from generator.load import load_site
    from generator.render import plan_pages

    site, _ = load_site(Path(__file__).resolve().parent.parent)
    urls = [spec.meta.url for spec in plan_pages(site)]
    assert "products/" in urls and not [u for u in urls if "/page/" in u]
    listing = next(spec for spec in plan_pages(site) if spec.meta.url == "products/")
    assert len(listing.extra["products"]) == len(site.products) > 10


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "9,985–10,000 of 10,000 products"), ("zh-CN", "共 10,000 件商品，第 9,985–10,000 件")],
)
def test_large_counts_are_written_with_the_languages_digit_groups(language: str, expected: str) -> None:
    from dataclasses import replace

    from conftest import REPO

    from generator.load import load_site
    from generator.paging import Pagination
    from generator.render import make_environment
    from generator.themes import load_theme

    site, _ = load_site(REPO)
    site = replace(site, config=replace(site.config, language=language))
    env = make_environment(site, load_theme(site.config.theme, REPO), REPO, {})
    last = Pagination(209, 209, 10_000, 9_985, 10_000, "products/page/209/", "products/page/208/", None, ())
    assert env.get_template("partials/page_count.html").render(pagination=last).strip() == expected


@pytest.mark.parametrize(
    ("language", "many", "one"), [("en", "1,200 products", "1 product"), ("zh-CN", "1,200 件商品", "1 件商品")]
)
def test_a_collection_tile_writes_a_large_count_with_digit_groups(language: str, many: str, one: str) -> None:
    from dataclasses import replace

    from conftest import REPO

    from generator.load import load_site
    from generator.render import make_environment
    from generator.themes import load_theme

    site, _ = load_site(REPO)
    site = replace(site, config=replace(site.config, language=language))
    tile = make_environment(site, load_theme(site.config.theme, REPO), REPO, {}).get_template(
        "partials/collection_tile.html"
    )
    big = replace(site.collections[0], own_image=None, products=[site.products[0]] * 1200)
    assert f'<span class="tile__count">{many}</span>' in tile.render(collection=big)
    single = replace(big, products=[site.products[0]])
    assert f'<span class="tile__count">{one}</span>' in tile.render(collection=single)
