"""Feeds for readers and marketplaces: an Atom feed of stories, and the product feed for
shopping ads (Google Merchant Center RSS 2.0 with the g: namespace, and the same as CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from .markup import plain_text
from .model import Product, Site, SiteConfig, Variant
from .money import Money, minor_digits
from .xmldoc import xml_bytes, xml_text

ATOM_NS = "http://www.w3.org/2005/Atom"
G_NS = "http://base.google.com/ns/1.0"


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def render_atom(site: Site) -> bytes:
    cfg = site.config
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": cfg.language})
    sub(feed, "id", cfg.base_url + "stories/")
    sub(feed, "title", f"{cfg.title}: stories")
    if cfg.tagline:
        sub(feed, "subtitle", cfg.tagline)
    newest = max((s.date for s in site.stories), default=dt.date(2000, 1, 1))
    sub(feed, "updated", _stamp(newest))
    sub(feed, "link", rel="self", type="application/atom+xml", href=cfg.base_url + "feed.xml")
    sub(feed, "link", rel="alternate", type="text/html", href=cfg.base_url + "stories/")
    author = sub(feed, "author")
    sub(author, "name", cfg.title)
    for story in site.stories:
        entry = sub(feed, "entry")
        url = cfg.base_url + story.url
        sub(entry, "id", url)
        sub(entry, "title", story.title)
        sub(entry, "link", rel="alternate", type="text/html", href=url)
        sub(entry, "published", _stamp(story.date))
        sub(entry, "updated", _stamp(story.date))
        body = "".join(
            str(part.html) if part.product is None
            else f'<p><a href="{cfg.base_url}{part.product.url}">{_escape(part.product.title)}</a></p>'
            for part in story.body
        )  # fmt: skip
        summary = story.summary or plain_text(body)
        sub(entry, "summary", summary)
        sub(entry, "content", body, type="html")
        for tag in story.tags:
            sub(entry, "category", term=tag)
    return xml_bytes(feed)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class FeedItem:
    """One row of the product feed: a product without variants, or one variant."""

    id: str
    title: str
    description: str
    link: str
    image_link: str
    price: str  # the regular price, "88.00 CNY"
    sale_price: str  # "" unless on sale
    availability: str  # in_stock | out_of_stock
    brand: str
    condition: str
    item_group_id: str
    mpn: str

    @staticmethod
    def columns() -> list[str]:
        return list(FeedItem.__dataclass_fields__)


def _price(money: Money) -> str:
    return f"{money.amount:.{minor_digits(money.currency)}f} {money.currency}"


def feed_items(site: Site) -> list[FeedItem]:
    return [item for p in site.products for item in product_feed_items(p, site.config)]


def product_feed_items(p: Product, cfg: SiteConfig) -> list[FeedItem]:
    """The product's rows: one, or one per variant."""
    items = []
    description = p.summary or plain_text(p.description_html, 5000) or p.title
    offers: list[tuple[Product | Variant, str, str]] = (
        [(v, f"{p.id}-{v.id}", f"{p.title} ({v.title})") for v in p.variants] if p.variants else [(p, p.id, p.title)]
    )
    for offer, item_id, title in offers:
        image = offer.image if isinstance(offer, Variant) and offer.image else p.image
        regular = offer.compare_at_price if offer.on_sale and offer.compare_at_price else offer.price
        items.append(
            FeedItem(
                id=item_id,
                title=title[:150],
                description=description[:5000],
                link=cfg.base_url + p.url + (f"?variant={offer.id}" if isinstance(offer, Variant) else ""),
                image_link=cfg.base_url + image.url if image else "",
                price=_price(regular),
                sale_price=_price(offer.price) if offer.on_sale else "",
                availability="out_of_stock" if offer.sold_out else "in_stock",
                brand=cfg.title,
                condition="new",
                item_group_id=p.id if p.variants else "",
                mpn=offer.sku,
            )
        )
    return items


#: How each item of products.xml and each of its lines starts (ET.indent's two spaces a level).
_ITEM_INDENT = "\n    "
_FIELD_INDENT = "\n      "


def rss_items(items: Sequence[FeedItem]) -> str:
    """The <item> elements of products.xml for these rows, written as ElementTree writes them in
    the whole feed (indented, the empty fields left out), so that the feed is joined from each
    product's items instead of being built as one tree (datafiles.py keeps them by product)."""
    written = []
    for item in items:
        fields = [
            f"<g:{name}>{xml_text(value)}</g:{name}>" for name in FeedItem.columns() if (value := getattr(item, name))
        ]
        inside = "".join(_FIELD_INDENT + f for f in fields)
        written.append(f"<item>{inside}{_ITEM_INDENT}</item>" if fields else "<item />")
    return _ITEM_INDENT.join(written)


def render_product_rss(site: Site, items: Sequence[str] | None = None) -> bytes:
    """products.xml; `items` are each product's `rss_items` when the caller kept them."""
    cfg = site.config
    if items is None:
        items = [rss_items(product_feed_items(p, cfg)) for p in site.products]
    items = [i for i in items if i]
    rss = ET.Element("rss", {"xmlns:g": G_NS, "version": "2.0"} if items else {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = cfg.title
    ET.SubElement(channel, "link").text = cfg.base_url
    ET.SubElement(channel, "description").text = cfg.tagline or cfg.title
    skeleton = xml_bytes(rss).decode("utf-8")
    if not items:
        return skeleton.encode("utf-8")
    end = "\n  </channel>"
    at = skeleton.rindex(end)
    joined = skeleton[:at] + _ITEM_INDENT + _ITEM_INDENT.join(items) + skeleton[at:]
    return joined.encode("utf-8", "xmlcharrefreplace")  # as ElementTree encodes


def _csv_lines(rows: Sequence[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def csv_rows(items: Sequence[FeedItem]) -> str:
    """products.csv's lines for these rows (datafiles.py keeps them by product)."""
    return _csv_lines([[getattr(item, name) for name in FeedItem.columns()] for item in items])


def render_product_csv(site: Site, rows: Sequence[str] | None = None) -> bytes:
    """products.csv; `rows` are each product's `csv_rows` when the caller kept them."""
    if rows is None:
        rows = [csv_rows(product_feed_items(p, site.config)) for p in site.products]
    return (_csv_lines([FeedItem.columns()]) + "".join(rows)).encode("utf-8")
