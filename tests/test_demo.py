"""Facts about the demo shop that ships in the repository (and is the default input), built in
each bundled theme: a theme must not lose a page, a link or a product card."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import REPO
from linkcheck import broken_links


def test_demo_is_a_believable_shop(built_demo_theme: Path) -> None:
    catalog = json.loads((built_demo_theme / "catalog.json").read_text("utf-8"))
    products = catalog["products"]
    assert len(products) >= 12
    assert len({c for p in products for c in p["collections"]}) >= 3
    assert sum(1 for p in products if p["variants"]) >= 3
    assert any(p["sold_out"] for p in products)
    assert any(p["compare_at_price"] for p in products)
    stories = [p for p in (built_demo_theme / "stories").iterdir() if p.is_dir()]
    assert len(stories) >= 3
    assert (built_demo_theme / "about/index.html").is_file()
    assert (built_demo_theme / "shipping-and-returns/index.html").is_file()
    stores = (built_demo_theme / "stores/index.html").read_text("utf-8")
    assert len(catalog["stores"]) >= 2
    assert all(s["name"] in stores for s in catalog["stores"])


def test_demo_stories_embed_product_cards(built_demo_theme: Path) -> None:
    catalog = json.loads((built_demo_theme / "catalog.json").read_text("utf-8"))
    urls = {p["url"] for p in catalog["products"]}
    for story in (built_demo_theme / "stories").glob("*/index.html"):
        html = story.read_text("utf-8")
        linked = set(re.findall(r'href="(/products/[^"]+/)"', html))
        assert linked & urls, f"{story} shows no product card"


def test_demo_links_resolve(built_demo_theme: Path) -> None:
    assert broken_links(built_demo_theme, "https://example.com/") == []


def test_demo_images_are_small(built_demo: Path) -> None:
    total = sum(p.stat().st_size for p in (REPO / "content").rglob("*") if p.is_file())
    assert total < 5 * 1024 * 1024


def test_demo_loads_no_third_party_assets(built_demo_theme: Path) -> None:
    for page in built_demo_theme.rglob("*.html"):
        html = page.read_text("utf-8")
        for ref in re.findall(r'(?:src|href)="(https?://[^"]+)"', html):
            # links to other sites are fine (maps, canonical); assets from them are not
            assert not re.search(r"\.(css|js|woff2?|ttf|png|jpe?g|webp|svg|gif)(\?|$)", ref) or ref.startswith(
                "https://example.com/"
            ), f"{page}: {ref}"
        assert not re.search(r'<script[^>]+src="https?://', html)
        assert not re.search(r'<link[^>]+rel="stylesheet"[^>]+href="https?://', html)


def test_each_theme_leads_with_its_own_character(built_demo_theme: Path) -> None:
    """default opens on the shop (products first), editorial on the newest story."""
    home = (built_demo_theme / "index.html").read_text("utf-8")
    main = home.split('<main id="main"', 1)[1]
    first_link = re.search(r'href="/([^"]*)"', main)
    assert first_link is not None
    if "css/editorial.css" in home:
        assert first_link.group(1) == "stories/choosing-teaware/", "the newest story opens the home page"
        product = (built_demo_theme / "products/longjing-2026/index.html").read_text("utf-8")
        assert 'class="product product--spread"' in product and "The story behind it" in product
        assert "bottom-nav" not in home
    else:
        assert first_link.group(1) == "products/"
        assert 'class="bottom-nav' in home
