"""sitemap.xml and robots.txt: what search engines may read, and where the list of pages is."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .model import Site
from .paging import listing_urls
from .xmldoc import xml_bytes

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: Pages for a buyer's session, not for search results.
PRIVATE = ("cart/", "checkout/", "order/")


def sitemap_urls(site: Site) -> list[tuple[str, str | None]]:
    """(site-relative URL, last modified date or None) of every page worth finding; every page
    of a listing in pages (paging.py), since later pages are how a crawler reaches the products."""
    size = site.config.products_per_page
    urls: list[tuple[str, str | None]] = [("", None)]
    urls += [(u, None) for u in listing_urls("products/", len(site.products), size)]
    urls += [("collections/", None), ("stories/", None), ("stores/", None)]
    urls += [(p.url, None) for p in site.products]
    urls += [(u, None) for c in site.collections for u in listing_urls(c.url, len(c.products), size)]
    urls += [(s.url, s.date.isoformat()) for s in site.stories]
    urls += [(d.url, None) for d in site.pages]
    return urls


def render_sitemap(site: Site) -> bytes:
    ET.register_namespace("", SITEMAP_NS)
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for url, lastmod in sitemap_urls(site):
        entry = ET.SubElement(root, f"{{{SITEMAP_NS}}}url")
        ET.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = site.config.base_url + url
        if lastmod:
            ET.SubElement(entry, f"{{{SITEMAP_NS}}}lastmod").text = lastmod
    return xml_bytes(root)


def render_robots(site: Site) -> bytes:
    """Crawlers read robots.txt only at a host's root: for a shop under a sub-path, copy these
    lines into the host's own robots.txt."""
    base = site.config.base_path
    lines = ["User-agent: *", "Allow: " + base]
    lines += [f"Disallow: {base}{path}" for path in PRIVATE]
    lines += ["", f"Sitemap: {site.config.base_url}sitemap.xml", ""]
    return "\n".join(lines).encode("utf-8")
