"""One catalog, one truth: every output that states a product's price says the same thing.

A buyer sees a price on the product page; the cart charges from the page's add-to-cart data
and catalog.json; Google reads the JSON-LD and the Merchant feeds; a chat app reads the Open
Graph tags. They are made by different code and templates (a theme override can print any
number), so after rendering and before anything is written, the build reads every one of
them back and compares it with catalog.json, the statement the order service prices from. A
disagreement is a build error naming the product and the two outputs, never a shop that
advertises one price and charges another.

Each reader turns one output into offers by product: `{offer: (minor units, currency, in stock)}`
where the offer is a variant id, "" for a product without variants, or PRODUCT for the
product's own headline price (its cheapest variant in stock; what the page and Open Graph show).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .errors import Problem
from .feeds import G_NS, FeedItem
from .model import Product, Site
from .money import Money, format_money, is_currency, minor_digits
from .render import output_path

Offer = tuple[int | None, str, bool]  # minor units (None: unreadable), currency, in stock
Offers = dict[str, Offer]
PRODUCT = "(product)"  # the key of a product's headline price
REFERENCE = "catalog.json"


def _minor(amount: str, currency: str) -> int | None:
    """'88.00' in CNY -> 8800; None for what is not a number in that currency."""
    try:
        value = Decimal(amount.strip()).scaleb(minor_digits(currency))
    except (InvalidOperation, ValueError, KeyError):
        return None
    return int(value) if value == value.to_integral_value() else None


def _feed_price(text: str) -> tuple[int | None, str]:
    """'88.00 CNY' -> (8800, 'CNY')."""
    amount, _, currency = text.strip().partition(" ")
    return _minor(amount, currency), currency


# ---- catalog.json: the reference --------------------------------------------------------


def _catalog_offers(p: Mapping[str, Any], currency: str) -> Offers:
    offers: Offers = {PRODUCT: (p["price"], currency, not p["sold_out"])}
    for v in p["variants"]:
        offers[v["id"]] = (v["price"], currency, v["stock"] != 0)
    if not p["variants"]:
        offers[""] = (p["price"], currency, not p["sold_out"])
    return offers


def from_catalog(data: bytes) -> dict[str, Offers]:
    doc = json.loads(data)
    return {p["id"]: _catalog_offers(p, doc["currency"]) for p in doc["products"]}


def from_catalog_entry(text: str, currency: str) -> dict[str, Offers]:
    """What one product's entry in catalog.json states (catalog_json.CatalogEntry's text), read
    back the way `from_catalog` reads the whole file: the build checks the entries it joins."""
    p = json.loads(text)
    return {p["id"]: _catalog_offers(p, currency)}


# ---- the Merchant feeds -----------------------------------------------------------------


def _feed_offers(rows: Iterable[Mapping[str, str]], ids: Mapping[str, tuple[str, str]]) -> dict[str, Offers]:
    """Offers from feed rows; `ids` maps a feed item id to (product id, variant id)."""
    found: dict[str, Offers] = {}
    for row in rows:
        product, variant = ids.get(row.get("id", ""), (row.get("id", ""), ""))
        minor, currency = _feed_price(row.get("sale_price") or row.get("price") or "")
        found.setdefault(product, {})[variant] = (minor, currency, row.get("availability") == "in_stock")
    return found


def feed_ids(site: Site) -> dict[str, tuple[str, str]]:
    """The feed item id of every offer, as feeds.py writes it."""
    return {item: offer for p in site.products for item, offer in product_feed_ids(p).items()}


def product_feed_ids(p: Product) -> dict[str, tuple[str, str]]:
    """The feed item ids of one product's offers: (product id, variant id) by item id."""
    ids = {f"{p.id}-{v.id}": (p.id, v.id) for v in p.variants}
    if not p.variants:
        ids[p.id] = (p.id, "")
    return ids


def from_rss(data: bytes, ids: Mapping[str, tuple[str, str]]) -> dict[str, Offers]:
    root = ET.fromstring(data)  # nosec B314 - this build's own feed
    rows = [{child.tag.split("}")[-1]: (child.text or "") for child in item} for item in root.iter("item")]
    return _feed_offers(rows, ids)


def from_csv(data: bytes, ids: Mapping[str, tuple[str, str]]) -> dict[str, Offers]:
    return _feed_offers(csv.DictReader(io.StringIO(data.decode("utf-8"))), ids)


def from_rss_items(text: str, ids: Mapping[str, tuple[str, str]]) -> dict[str, Offers]:
    """What some <item>s of products.xml state (one product's, as datafiles.py joins them)."""
    return from_rss(f'<rss xmlns:g="{G_NS}"><channel>{text}</channel></rss>'.encode(), ids)


def from_csv_rows(text: str, ids: Mapping[str, tuple[str, str]]) -> dict[str, Offers]:
    """What some lines of products.csv state, under the file's header (FeedItem's columns)."""
    return _feed_offers(csv.DictReader(io.StringIO(text), fieldnames=FeedItem.columns()), ids)


# ---- the product page: its HTML, its JSON-LD, its Open Graph tags, its cart data ----------


#: A start or end tag, a comment, or a script with its text: one regular expression instead of
#: html.parser, which took twice as long, and the build reads every product page.
_TOKEN = re.compile(
    r"<!--.*?-->|<script\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>(.*?)</script\s*>"
    r"|<(/?)([a-zA-Z][\w-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.S,
)
_ATTR = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_VOID = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]
)


def _attrs(text: str) -> list[tuple[str, str | None]]:
    return [(m[1].lower(), html.unescape(m[2] or m[3] or m[4] or "")) for m in _ATTR.finditer(text)]


class _PageReader:
    """Collects what a product page states about prices, from the places the theme must keep:
    `data-amount`/`data-currency` on the price the buyer sees (in `data-price-display`, and in
    each `[data-variant-info]` element: the variants' prices), `data-price` on the add-to-cart
    button and on each variant radio (what the cart stores), `disabled` on them (sold out), the
    JSON-LD scripts and the `product:*` meta tags."""

    def __init__(self, product_id: str) -> None:
        self.product_id = product_id
        self.shown: dict[str, tuple[str, str]] = {}  # offer -> (data-amount, data-currency)
        self.cart: dict[str, tuple[str, bool]] = {}  # offer -> (data-price, enabled)
        self.meta: dict[str, str] = {}
        self.json_ld: list[str] = []
        self.config = ""
        self._scope: list[str] = []  # the offer each open element belongs to ("" outside)
        self._script: str | None = None
        self._text: list[str] = []

    def feed(self, text: str) -> None:
        for m in _TOKEN.finditer(text):
            script_attrs, script_text, closing, tag, attrs = m.groups()
            if script_attrs is not None:  # a script: its text is not markup
                self.handle_starttag("script", _attrs(script_attrs))
                self.handle_data(script_text)
                self.handle_endtag("script")
            elif tag is None:  # a comment
                continue
            elif closing:
                self.handle_endtag(tag.lower())
            else:
                name = tag.lower()
                interesting = "data-" in attrs or name in ("meta", "input", "button")
                self.handle_starttag(name, _attrs(attrs) if interesting else [])
                if attrs.rstrip().endswith("/") and name not in _VOID:
                    self.handle_endtag(name)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        scope = self._scope[-1] if self._scope else None
        if "data-price-display" in a:
            scope = PRODUCT
        elif "data-variant-info" in a:
            scope = "variant:" + a["data-variant-info"]
        if tag not in _VOID:
            self._scope.append(scope or "")
        if "data-amount" in a and scope and scope not in self.shown:
            self.shown[scope] = (a["data-amount"], a.get("data-currency", ""))
        if tag == "input" and a.get("name") == "variant" and "data-price" in a:
            self.cart["variant:" + a.get("value", "")] = (a["data-price"], "disabled" not in a)
        if tag == "button" and "data-add-to-cart" in a and a.get("data-product") == self.product_id:
            self.cart[PRODUCT] = (a.get("data-price", ""), "disabled" not in a)
        if tag == "meta" and a.get("property", "").startswith("product:"):
            self.meta[a["property"]] = a.get("content", "")
        if tag == "script" and a.get("type") in ("application/ld+json", "application/json"):
            self._script, self._text = a.get("type", "") + "#" + a.get("id", ""), []

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self._scope:
            self._scope.pop()
        if tag == "script" and self._script is not None:
            text = "".join(self._text)
            if self._script.startswith("application/ld+json"):
                self.json_ld.append(text)
            elif self._script == "application/json#micromall-config":
                self.config = text
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text.append(data)


def _json_ld_offers(scripts: list[str]) -> Offers:
    offers: Offers = {}
    for text in scripts:
        try:
            item: Any = json.loads(text)
        except ValueError:
            continue
        if not isinstance(item, dict) or item.get("@type") != "Product":
            continue
        listed = item.get("offers", [])
        for offer in listed if isinstance(listed, list) else [listed]:
            variant = parse_qs(urlsplit(str(offer.get("url", ""))).query).get("variant", [""])[0]
            currency = str(offer.get("priceCurrency", ""))
            in_stock = str(offer.get("availability", "")).endswith("/InStock")
            offers[variant] = (_minor(str(offer.get("price", "")), currency), currency, in_stock)
    return offers


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def from_page(markup: bytes, product_id: str, variants: bool) -> dict[str, Offers]:
    """The offers a product page states, by output: 'page', 'JSON-LD', 'Open Graph', 'cart'."""
    reader = _PageReader(product_id)
    reader.feed(markup.decode("utf-8"))

    def offer_key(scope: str) -> str:
        return scope.removeprefix("variant:") if scope.startswith("variant:") else scope

    try:
        cart_currency = str(json.loads(reader.config).get("currency", ""))
    except (ValueError, AttributeError):
        cart_currency = ""
    page: Offers = {}
    cart: Offers = {}
    enabled = {offer_key(k): ok for k, (_, ok) in reader.cart.items()}
    for scope, (amount, currency) in reader.shown.items():
        key = offer_key(scope)
        page[key] = (_int(amount), currency, enabled.get(key, True))
    for scope, (price, ok) in reader.cart.items():
        cart[offer_key(scope)] = (_int(price), cart_currency, ok)
    if not variants:  # the product is its only offer
        for offers in (page, cart):
            if PRODUCT in offers:
                offers[""] = offers[PRODUCT]
    else:  # the button holds the price of the variant picked at first, checked with the radios
        cart.pop(PRODUCT, None)
    og: Offers = {}
    currency = reader.meta.get("product:price:currency", "")
    if "product:price:amount" in reader.meta:
        available = reader.meta.get("product:availability", "in stock") != "out of stock"
        og[PRODUCT] = (_minor(reader.meta["product:price:amount"], currency), currency, available)
    return {"page": page, "JSON-LD": _json_ld_offers(reader.json_ld), "Open Graph": og, "cart": cart}


# ---- the check --------------------------------------------------------------------------


def _describe(offer: Offer | None, language: str) -> str:
    """'CN¥88.00, in stock' (the shop owner's way of writing it), or what is wrong with it."""
    if offer is None:
        return "no offer"
    minor, currency, in_stock = offer
    if minor is None:
        price = f"an unreadable price in {currency or '(no currency)'}"
    elif is_currency(currency):
        price = format_money(Money(minor, currency), language)
    else:
        price = f"{minor} in the unknown currency '{currency}'"
    return f"{price}, {'in stock' if in_stock else 'sold out'}"


def _offer_name(key: str) -> str:
    return "the product's price" if key == PRODUCT else ("the offer" if key == "" else f"variant '{key}'")


def compare(
    site: Site,
    reference: dict[str, Offers],
    stated: Mapping[str, list[tuple[str, Offers]]],
    products: Iterable[Product] | None = None,
) -> list[Problem]:
    """Problems for every product on which an output disagrees with catalog.json (`reference`).
    `stated` gives, by product id, each output's name and offers. An output that states the
    offers must state all of them (a feed that leaves a variant out is as wrong as one with
    another price); one that states only the headline price (Open Graph) is checked on that.
    `products` limits the comparison to these (default: all)."""
    problems = []
    language = site.config.language
    for product in site.products if products is None else products:
        truth = reference.get(product.id, {})
        for name, offers in stated.get(product.id, []):
            where = (product.source, 0, f"product '{product.id}'")
            if not offers:
                problems.append(Problem(*where, f"{name} states no price for it; {REFERENCE} does"))
                continue
            listed = [k for k in offers if k != PRODUCT]
            keys = [k for k in truth if k != PRODUCT] + [k for k in listed if k not in truth] if listed else []
            checked = [*keys, PRODUCT] if PRODUCT in offers else keys
            for key in checked:
                if offers.get(key) != truth.get(key):
                    says, true = _describe(offers.get(key), language), _describe(truth.get(key), language)
                    what = f"{name} and {REFERENCE} disagree on {_offer_name(key)}"
                    message = f"{what}: {name} says {says}, {REFERENCE} says {true}"
                    problems.append(Problem(*where, message))
                    break
    return problems


@dataclass
class DataOffers:
    """What the data files state: catalog.json (the reference) and each feed, by product id."""

    reference: dict[str, Offers]
    feeds: dict[str, dict[str, Offers]]


def read_data_offers(site: Site, files: Mapping[str, bytes | Path]) -> DataOffers:
    def read(name: str) -> bytes:
        value = files[name]
        return value if isinstance(value, bytes) else value.read_bytes()

    ids = feed_ids(site)
    feeds = {"products.xml": from_rss(read("products.xml"), ids), "products.csv": from_csv(read("products.csv"), ids)}
    return DataOffers(from_catalog(read("catalog.json")), feeds)


def check_truth(
    site: Site,
    files: Mapping[str, bytes | Path],
    pages: Mapping[str, dict[str, Offers]] | None = None,
    data: DataOffers | None = None,
    only: AbstractSet[str] | None = None,
) -> list[Problem]:
    """Read the rendered outputs back and compare every product's prices (see the module doc).

    `pages` gives what `from_page` read from product pages, by output path, for the pages
    already read where they were rendered (the build reads each page in the worker that renders
    it, and remembers what an unchanged page states); the other pages are read from `files`.
    `data` is what the data files state when it is known (the build keeps it while they do not
    change). `only` limits the check to these product ids: a build whose data files did not
    change checks the products whose pages it rendered again, the others being as checked then."""

    def read(name: str) -> bytes:
        value = files[name]
        return value if isinstance(value, bytes) else value.read_bytes()

    if data is None:
        data = read_data_offers(site, files)
    stated: dict[str, list[tuple[str, Offers]]] = {}
    products = site.products if only is None else [p for p in site.products if p.id in only]
    for product in products:
        found = stated[product.id] = [(name, feed.get(product.id, {})) for name, feed in data.feeds.items()]
        page = output_path(product.url)
        known = pages.get(page) if pages is not None else None
        read_back = known if known is not None else from_page(read(page), product.id, bool(product.variants))
        for name, offers in read_back.items():
            found.append((f"{page} ({name})" if name != "page" else page, offers))
    return compare(site, data.reference, stated, products)
