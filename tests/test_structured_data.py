"""JSON-LD in the built demo: the schema.org types and the fields search engines require,
with prices and availability that agree with catalog.json."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def json_ld(page: Path) -> dict[str, list[dict[str, Any]]]:
    by_type: dict[str, list[dict[str, Any]]] = {}
    for raw in SCRIPT.findall(page.read_text("utf-8")):
        item = json.loads(raw)
        assert item["@context"] == "https://schema.org"
        by_type.setdefault(item["@type"], []).append(item)
    return by_type


def test_products_have_offers_that_match_the_catalog(built_demo: Path) -> None:
    catalog = json.loads((built_demo / "catalog.json").read_text("utf-8"))
    digits = catalog["minor_digits"]
    for product in catalog["products"]:
        data = json_ld(built_demo / "products" / product["id"] / "index.html")
        (item,) = data["Product"]
        assert item["name"] == product["title"]
        assert item["image"] and all(u.startswith("https://example.com/media/") for u in item["image"])
        offers = item["offers"] if isinstance(item["offers"], list) else [item["offers"]]
        sellables = product["variants"] or [product]
        assert len(offers) == len(sellables)
        for offer, sellable in zip(offers, sellables, strict=True):
            assert Decimal(offer["price"]) == Decimal(sellable["price"]).scaleb(-digits), product["id"]
            assert offer["priceCurrency"] == catalog["currency"]
            sold_out = sellable["stock"] == 0
            assert offer["availability"].endswith("OutOfStock" if sold_out else "InStock"), product["id"]
            assert offer["url"].startswith("https://example.com/products/" + product["id"] + "/")
        (crumbs,) = data["BreadcrumbList"]
        positions = [e["position"] for e in crumbs["itemListElement"]]
        assert positions == list(range(1, len(positions) + 1)) and len(positions) >= 2
        assert crumbs["itemListElement"][-1]["item"] == "https://example.com" + product["url"]


def test_home_stores_and_stories(built_demo: Path) -> None:
    home = json_ld(built_demo / "index.html")
    (org,) = home["Organization"]
    assert org["name"] == "Cloud Terrace Tea" and org["logo"].startswith("https://example.com/media/")
    assert home["WebSite"][0]["potentialAction"]["@type"] == "SearchAction"
    stores = json_ld(built_demo / "stores" / "index.html")["Store"]
    assert len(stores) == 2 and all(s["address"]["streetAddress"] for s in stores)
    for story in (built_demo / "stories").glob("*/index.html"):
        data = json_ld(story)
        (article,) = data["Article"]
        assert article["headline"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", article["datePublished"])
        assert article["image"][0].startswith("https://example.com/media/")
        assert article["publisher"]["name"] == "Cloud Terrace Tea"


def test_json_ld_cannot_be_broken_out_of(make_site: Any, tmp_path: Path) -> None:
    from conftest import MINI_SITE

    from generator.build import build

    catalog = (MINI_SITE["content/catalog/tea.yml"] or "").replace(
        "summary: Fresh and sweet.", 'summary: "</script><script>alert(1)</script>"'
    )
    site = make_site({"content/catalog/tea.yml": catalog})
    build(site, tmp_path / "out")
    html = (tmp_path / "out" / "products" / "green" / "index.html").read_text("utf-8")
    assert "<script>alert(1)" not in html
    (item,) = json_ld(tmp_path / "out" / "products" / "green" / "index.html")["Product"]
    assert item["description"] == "</script><script>alert(1)</script>"
