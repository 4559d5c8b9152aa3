"""sitemap.xml and robots.txt: what search engines may read, and where the list of pages is."""

from __future__ import annotations

from .model import Site
from .paging import listing_urls
from .xmldoc import xml_text

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
    """Written as text in ElementTree's layout: ten thousand products make a tree that takes
    longer to build and write than the lines."""
    lines = ["<?xml version='1.0' encoding='utf-8'?>", f'<urlset xmlns="{SITEMAP_NS}">']
    for url, lastmod in sitemap_urls(site):
        lines += ["  <url>", f"    <loc>{xml_text(site.config.base_url + url)}</loc>"]
        if lastmod:
            lines.append(f"    <lastmod>{xml_text(lastmod)}</lastmod>")
        lines.append("  </url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8", "xmlcharrefreplace")


def render_robots(site: Site) -> bytes:
    """Crawlers read robots.txt only at a host's root: for a shop under a sub-path, copy these
    lines into the host's own robots.txt."""
    base = site.config.base_path
    lines = ["User-agent: *", "Allow: " + base]
    lines += [f"Disallow: {base}{path}" for path in PRIVATE]
    lines += ["", f"Sitemap: {site.config.base_url}sitemap.xml", ""]
    return "\n".join(lines).encode("utf-8")
