"""Structured data (schema.org JSON-LD) for search engines, built from the model.

Made in Python rather than in templates so that a price or an availability can only come
from the same objects the page shows; `base.html` writes each item with `|tojson`, which
escapes `<` and so cannot be broken out of by content.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .model import Collection, Product, Site, Store, Story

SCHEMA = "https://schema.org"
JsonLd = dict[str, Any]


def _abs(site: Site, url: str) -> str:
    return site.config.base_url + url


def _availability(sold_out: bool) -> str:
    return f"{SCHEMA}/OutOfStock" if sold_out else f"{SCHEMA}/InStock"


def organization(site: Site) -> JsonLd:
    cfg = site.config
    data: JsonLd = {"@context": SCHEMA, "@type": "Organization", "name": cfg.title, "url": cfg.base_url}
    if cfg.logo is not None:
        data["logo"] = _abs(site, cfg.logo.url)
    contact = {k: v for k, v in (("email", cfg.contact.email), ("telephone", cfg.contact.phone)) if v}
    if contact:
        data["contactPoint"] = {"@type": "ContactPoint", "contactType": "customer service", **contact}
    return data


def website(site: Site) -> JsonLd:
    return {
        "@context": SCHEMA,
        "@type": "WebSite",
        "name": site.config.title,
        "url": site.config.base_url,
        "potentialAction": {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": _abs(site, "search/") + "?q={search_term_string}"},
            "query-input": "required name=search_term_string",
        },
    }


def breadcrumbs(site: Site, trail: list[tuple[str, str]]) -> JsonLd:
    """trail: (name, site-relative URL) from the home page down to this page."""
    return {
        "@context": SCHEMA,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i + 1, "name": name, "item": _abs(site, url)}
            for i, (name, url) in enumerate(trail)
        ],
    }


def product(site: Site, p: Product) -> JsonLd:
    url = _abs(site, p.url)
    currency = site.config.currency
    offers: list[JsonLd] = []
    sellables = [(v.price, v.sold_out, v.sku, f"{url}?variant={v.id}") for v in p.variants] or [
        (p.price, p.sold_out, p.sku, url)
    ]
    for price, sold_out, sku, offer_url in sellables:
        offer: JsonLd = {
            "@type": "Offer",
            "url": offer_url,
            "price": f"{price.amount}",
            "priceCurrency": currency,
            "availability": _availability(sold_out),
            "itemCondition": f"{SCHEMA}/NewCondition",
        }
        if sku:
            offer["sku"] = sku
        offers.append(offer)
    data: JsonLd = {
        "@context": SCHEMA,
        "@type": "Product",
        "name": p.title,
        "url": url,
        "brand": {"@type": "Brand", "name": site.config.title},
        "offers": offers[0] if len(offers) == 1 else offers,
    }
    if p.summary:
        data["description"] = p.summary
    if p.images:
        data["image"] = [_abs(site, img.url) for img in p.images]
    if p.sku:
        data["sku"] = p.sku
    return data


def store(site: Site, s: Store) -> JsonLd:
    data: JsonLd = {
        "@context": SCHEMA,
        "@type": "Store",
        "name": s.name,
        "address": {"@type": "PostalAddress", "streetAddress": s.address},
        "url": _abs(site, "stores/"),
        "parentOrganization": {"@type": "Organization", "name": site.config.title, "url": site.config.base_url},
    }
    if s.phone:
        data["telephone"] = s.phone
    if s.image is not None:
        data["image"] = _abs(site, s.image.url)
    if s.hours:
        data["description"] = "; ".join(s.hours)  # free text: not the machine format openingHours wants
    return data


def article(site: Site, s: Story) -> JsonLd:
    publisher = organization(site)
    publisher.pop("@context")
    data: JsonLd = {
        "@context": SCHEMA,
        "@type": "Article",
        "headline": s.title[:110],
        "url": _abs(site, s.url),
        "datePublished": s.date.isoformat(),
        "dateModified": s.date.isoformat(),
        "author": {"@type": "Organization", "name": site.config.title, "url": site.config.base_url},
        "publisher": publisher,
    }
    if s.cover is not None:
        data["image"] = [_abs(site, s.cover.url)]
    if s.summary:
        data["description"] = s.summary
    return data


def for_product(site: Site, p: Product) -> tuple[JsonLd, ...]:
    trail = [(site.config.title, "")]
    if p.collections:
        trail.append((p.collections[0].title, p.collections[0].url))
    return product(site, p), breadcrumbs(site, [*trail, (p.title, p.url)])


def item_list(site: Site, products: Sequence[Product], first: int = 1, total: int | None = None) -> JsonLd:
    """The products one page of a listing shows, as an ItemList of links to their pages (the
    "summary page" form: each product page has its own Product data). `first` is the position
    of the page's first product in the whole listing, `total` how many the listing has in all,
    so page 2 of a paged listing says "items 49 to 96 of 120"."""
    return {
        "@context": SCHEMA,
        "@type": "ItemList",
        "numberOfItems": len(products) if total is None else total,
        "itemListElement": [
            {"@type": "ListItem", "position": first + i, "url": _abs(site, p.url)} for i, p in enumerate(products)
        ],
    }


def for_collection(
    site: Site,
    c: Collection,
    section: str = "Categories",
    products: Sequence[Product] | None = None,
    first: int = 1,
) -> tuple[JsonLd, ...]:
    """`section`: the name of the collections page in the shop's language; `products`: those
    this page of the collection shows (all of them unless told), from position `first`."""
    shown = c.products if products is None else products
    trail = breadcrumbs(site, [(site.config.title, ""), (section, "collections/"), (c.title, c.url)])
    return trail, item_list(site, shown, first, len(c.products))


def for_story(site: Site, s: Story, section: str = "Stories") -> tuple[JsonLd, ...]:
    trail = [(site.config.title, ""), (section, "stories/"), (s.title, s.url)]
    return article(site, s), breadcrumbs(site, trail)
