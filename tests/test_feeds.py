"""sitemap.xml, robots.txt, the Atom feed of stories and the product feeds."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.feeds import G_NS, feed_items, render_atom, render_product_csv, render_product_rss
from generator.load import load_site
from generator.model import Site
from generator.sitemap import SITEMAP_NS, render_robots, render_sitemap


@pytest.fixture
def site(make_site: Callable[..., Path]) -> Site:
    loaded, _ = load_site(make_site())
    return loaded


def test_sitemap_lists_the_public_pages(site: Site) -> None:
    root = ET.fromstring(render_sitemap(site))
    assert root.tag == f"{{{SITEMAP_NS}}}urlset"
    locs = [u.findtext(f"{{{SITEMAP_NS}}}loc") for u in root]
    base = "https://shop.example.com/"
    assert base in locs and base + "products/green/" in locs and base + "stories/harvest/" in locs
    assert base + "about/" in locs and base + "collections/tea/" in locs
    assert not any(loc and ("cart/" in loc or "checkout/" in loc or "hidden" in loc) for loc in locs)
    harvest = next(u for u in root if u.findtext(f"{{{SITEMAP_NS}}}loc") == base + "stories/harvest/")
    assert harvest.findtext(f"{{{SITEMAP_NS}}}lastmod") == "2026-04-02"


def test_robots_points_at_the_sitemap(site: Site) -> None:
    text = render_robots(site).decode()
    assert "Sitemap: https://shop.example.com/sitemap.xml" in text
    assert "Disallow: /checkout/" in text


def test_atom_feed_of_stories(site: Site) -> None:
    feedparser = pytest.importorskip("feedparser")
    feed = feedparser.parse(render_atom(site))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Mini Tea: stories"
    assert feed.feed.links[0]["href"] == "https://shop.example.com/feed.xml"
    (entry,) = feed.entries
    assert entry.title == "The harvest"
    assert entry.link == "https://shop.example.com/stories/harvest/"
    assert entry.published_parsed[:3] == (2026, 4, 2)
    assert entry.summary == "Picking in April."
    assert 'href="https://shop.example.com/products/green/"' in entry.content[0].value


def test_product_feed_rss(site: Site) -> None:
    root = ET.fromstring(render_product_rss(site))
    items = {i.findtext(f"{{{G_NS}}}id"): i for i in root.iter("item")}
    assert set(items) == {"green", "black-small", "black-large"}
    green = items["green"]
    assert green.findtext(f"{{{G_NS}}}price") == "158.00 CNY"
    assert green.findtext(f"{{{G_NS}}}sale_price") == "128.00 CNY"
    assert green.findtext(f"{{{G_NS}}}availability") == "in_stock"
    assert green.findtext(f"{{{G_NS}}}link") == "https://shop.example.com/products/green/"
    assert green.findtext(f"{{{G_NS}}}image_link") == "https://shop.example.com/media/images/green.jpg"
    assert green.findtext(f"{{{G_NS}}}brand") == "Mini Tea" and green.findtext(f"{{{G_NS}}}condition") == "new"
    small = items["black-small"]
    assert small.findtext(f"{{{G_NS}}}item_group_id") == "black"
    assert small.findtext(f"{{{G_NS}}}availability") == "out_of_stock"
    assert small.findtext(f"{{{G_NS}}}price") == "19.90 CNY"
    assert small.findtext(f"{{{G_NS}}}sale_price") is None


def test_product_feed_csv_matches_the_rss(site: Site) -> None:
    rows = list(csv.DictReader(io.StringIO(render_product_csv(site).decode())))
    assert [r["id"] for r in rows] == [i.id for i in feed_items(site)]
    assert rows[0]["price"] == "158.00 CNY" and rows[0]["sale_price"] == "128.00 CNY"


def test_a_build_writes_the_feeds(built_demo: Path) -> None:
    for name in ("sitemap.xml", "robots.txt", "feed.xml", "products.xml", "products.csv"):
        assert (built_demo / name).is_file(), name
    root = ET.fromstring((built_demo / "sitemap.xml").read_bytes())
    for url in root:
        loc = url.findtext(f"{{{SITEMAP_NS}}}loc") or ""
        rel = loc.removeprefix("https://example.com/")
        assert (built_demo / rel / "index.html").is_file() or (built_demo / rel).is_file(), loc
    assert 'type="application/atom+xml"' in (built_demo / "index.html").read_text("utf-8")
