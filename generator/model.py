"""The shop as plain objects: what templates, feeds and the order service read. No I/O here.

Objects are frozen; the cross-links that make cycles (a product's collections and stories, a
collection's products) are lists filled once by `resolve` and never changed after, and are left
out of `repr` and equality so that printing a product does not walk the whole shop. A product's
`share` is filled the same way, once, by the build, which knows the shop's address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from markupsafe import Markup

from .money import Money
from .paging import DEFAULT_PAGE_SIZE

if TYPE_CHECKING:
    from .promotions import Promotion
    from .rates import DisplayRates

LOW_STOCK = 5  # "only N left" from this many down


@dataclass(frozen=True, eq=False)
class Image:
    path: str  # relative to content/, forward slashes
    url: str  # site-relative output URL
    width: int
    height: int


@dataclass(frozen=True, eq=False)
class ShareImage:
    """A picture made by the build for sharing (a card or a poster)."""

    url: str  # site-relative, with a ?v= version that changes when the picture does
    width: int
    height: int
    alt: str


class Html(Protocol):
    """Text that templates print as it is (markupsafe's protocol): Markup, or markup read when
    it is printed."""

    def __html__(self) -> str: ...


@dataclass(frozen=True, eq=False)
class ProductShare:
    """What a product page needs to share the product: made by the build (generator/share.py)."""

    url: str  # the product page's absolute URL, which the QR code holds
    text: str  # ready to paste: title, price, summary and link, in the shop's language
    card: ShareImage  # 1200x630, the page's og:image
    poster_square: ShareImage  # 1080x1080
    poster_story: ShareImage  # 1080x1920
    qr_svg_url: str  # site-relative
    qr_png_url: str  # site-relative
    qr_svg: Html  # the QR code as inline SVG markup


@dataclass(frozen=True, eq=False)
class Option:
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Variant:
    id: str
    title: str
    options: dict[str, str]
    price: Money
    compare_at_price: Money | None
    sku: str
    stock: int | None
    image: Image | None

    @property
    def sold_out(self) -> bool:
        return self.stock == 0

    @property
    def on_sale(self) -> bool:
        return self.compare_at_price is not None and self.compare_at_price > self.price

    @property
    def low_stock(self) -> bool:
        return self.stock is not None and 0 < self.stock <= LOW_STOCK


@dataclass(frozen=True, eq=False)
class GroupBuy:
    """A threshold pre-order (接龙): the product is made or bought in only if `min_orders`
    orders come in before `ends`; the order service counts them and settles the outcome."""

    min_orders: int
    ends: dt.datetime  # aware; orders are taken while now < ends

    @property
    def last_day(self) -> dt.date:
        """The last day orders are taken, as the shop owner wrote it (`ends` is the moment after)."""
        return (self.ends - dt.timedelta(microseconds=1)).date()


@dataclass(frozen=True, eq=False)
class Collection:
    id: str
    title: str
    description_html: Markup
    summary: str
    own_image: Image | None
    source: str  # the catalog file that defines it
    products: list[Product] = field(default_factory=list, repr=False)

    @property
    def url(self) -> str:
        return f"collections/{self.id}/"

    @property
    def image(self) -> Image | None:
        if self.own_image is not None:
            return self.own_image
        return next((p.image for p in self.products if p.image is not None), None)


@dataclass(frozen=True, eq=False)
class Product:
    id: str
    title: str
    base_price: Money
    base_compare_at_price: Money | None
    sku: str
    summary: str
    description_html: Markup
    images: tuple[Image, ...]
    tags: tuple[str, ...]
    base_stock: int | None
    options: tuple[Option, ...]
    variants: tuple[Variant, ...]
    published: bool
    featured: bool
    source: str
    group_buy: GroupBuy | None = None
    collections: list[Collection] = field(default_factory=list, repr=False)
    related: list[Product] = field(default_factory=list, repr=False)
    stories: list[Story] = field(default_factory=list, repr=False)
    _share: list[ProductShare] = field(default_factory=list, repr=False)  # filled by the build
    #: The hash of its repr, once taken (content_print): the same for every copy that a load
    #: makes of one parse, which shares the fields that the repr shows, and this list.
    _print: list[int] = field(default_factory=list, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"products/{self.id}/"

    @property
    def share(self) -> ProductShare | None:
        """Sharing links, text and QR code; set in a build (None when only checking content)."""
        return self._share[0] if self._share else None

    @property
    def image(self) -> Image | None:
        return self.images[0] if self.images else None

    def _cheapest(self) -> Variant | None:
        if not self.variants:
            return None
        available = [v for v in self.variants if not v.sold_out] or list(self.variants)
        return min(available, key=lambda v: v.price.minor)

    @property
    def default_variant(self) -> Variant | None:
        """The variant chosen when the page opens: the cheapest still in stock, None if all sold out."""
        cheapest = self._cheapest()
        return cheapest if cheapest is not None and not cheapest.sold_out else None

    @property
    def price(self) -> Money:
        """The price a buyer sees first: the cheapest variant still in stock."""
        cheapest = self._cheapest()
        return cheapest.price if cheapest is not None else self.base_price

    @property
    def compare_at_price(self) -> Money | None:
        cheapest = self._cheapest()
        if cheapest is not None:
            return cheapest.compare_at_price if cheapest.on_sale else None
        cap = self.base_compare_at_price
        return cap if cap is not None and cap > self.base_price else None

    @property
    def on_sale(self) -> bool:
        return self.compare_at_price is not None

    @property
    def price_varies(self) -> bool:
        return len({v.price.minor for v in self.variants}) > 1

    @property
    def stock(self) -> int | None:
        """Units left in all; None when any part of the product is unlimited."""
        if not self.variants:
            return self.base_stock
        stocks = [v.stock for v in self.variants]
        if any(s is None for s in stocks):
            return None
        return sum(s for s in stocks if s is not None)

    @property
    def sold_out(self) -> bool:
        return self.stock == 0

    @property
    def low_stock(self) -> bool:
        stock = self.stock
        return stock is not None and 0 < stock <= LOW_STOCK


def content_print(product: Product) -> int:
    """A hash of a product's own fields (its repr, which leaves out the links to other items):
    what its fingerprint (depends.py) and its kept share plan (sharememo.py) are keyed by. Taken
    once per parse, and kept with the parse in the cache folder (catalog_codec.py): at 10,000
    products the reprs alone take 0.15 s."""
    kept = product._print
    if not kept:
        kept.append(int.from_bytes(hashlib.blake2b(repr(product).encode("utf-8"), digest_size=8).digest(), "big"))
    return kept[0]


@dataclass(frozen=True, eq=False)
class StoryPart:
    """A run of rendered Markdown, or a product card placed by the shortcode."""

    html: Markup = Markup("")
    product: Product | None = None


@dataclass(frozen=True, eq=False)
class Story:
    slug: str
    title: str
    date: dt.date
    cover: Image | None
    summary: str
    tags: tuple[str, ...]
    body: tuple[StoryPart, ...]
    draft: bool
    source: str
    products: list[Product] = field(default_factory=list, repr=False)

    @property
    def url(self) -> str:
        return f"stories/{self.slug}/"


@dataclass(frozen=True, eq=False)
class Doc:
    """A trust page (about, shipping and returns, contact), linked from the footer."""

    slug: str
    title: str
    summary: str
    body_html: Markup
    order: int
    source: str

    @property
    def url(self) -> str:
        return f"{self.slug}/"


@dataclass(frozen=True, eq=False)
class Store:
    id: str
    name: str
    address: str
    hours: tuple[str, ...]
    phone: str
    map_url: str
    image: Image | None
    pickup: bool


@dataclass(frozen=True, eq=False)
class Promoter:
    """Someone who sells on the shop's behalf, from content/promoters.yml."""

    code: str  # travels in links as ?ref=CODE and is stored with the orders it brings
    name: str
    commission: Decimal | None  # a fraction of the order subtotal (0.1 = 10%); None = not set
    kit_url: str  # site-relative "kit/<code>-<16 hex>/"; "" when read without the kit secret


@dataclass(frozen=True, eq=False)
class KitItem:
    """One product in a promoter's kit: the promoter's own link, text, posters and QR code."""

    product: Product
    url: str  # the product page's absolute URL with ?ref=CODE
    text: str  # ready-to-paste share text ending with `url`
    poster_square: ShareImage
    poster_story: ShareImage
    qr_png_url: str  # site-relative
    qr_svg_url: str  # site-relative


@dataclass(frozen=True, eq=False)
class PromoterKit:
    """A promoter's unlisted kit page: made by the build (generator/share.py)."""

    promoter: Promoter
    items: tuple[KitItem, ...]


@dataclass(frozen=True, eq=False)
class ShippingMethod:
    id: str
    label: str
    price: Money
    free_over: Money | None
    pickup: bool


@dataclass(frozen=True, eq=False)
class Contact:
    email: str = ""
    phone: str = ""
    wechat: str = ""
    whatsapp: str = ""
    address: str = ""


@dataclass(frozen=True, eq=False)
class Checkout:
    """How orders are placed: `message` (the buyer sends the order) or `http` (an order service)."""

    handler: str = "message"
    endpoint: str = "/api/orders"
    channels: tuple[str, ...] = ()
    payment_instructions: str = ""  # the Markdown source, also sent as plain text by the service
    payment_instructions_html: Markup = Markup("")
    payment_qr: Image | None = None


@dataclass(frozen=True, eq=False)
class SiteConfig:
    """site.yml, checked. Attribute names are the YAML keys."""

    title: str
    tagline: str
    base_url: str
    language: str
    currency: str
    theme: str
    logo: Image | None
    contact: Contact
    shipping: tuple[ShippingMethod, ...]
    checkout: Checkout
    theme_settings: Mapping[str, object] = field(default_factory=dict)  # checked against the theme
    display_currencies: tuple[str, ...] = ()  # approximate prices in these too (content/rates.yml)
    products_per_page: int = DEFAULT_PAGE_SIZE  # cards on each page of "All products" and of a collection (paging.py)

    @property
    def base_path(self) -> str:
        """The path part of base_url, always starting and ending with '/'."""
        from urllib.parse import urlsplit

        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"


@dataclass(frozen=True, eq=False)
class Site:
    """Everything a build needs to know about one shop, resolved and checked."""

    config: SiteConfig
    collections: tuple[Collection, ...]
    products: tuple[Product, ...]  # published only
    stories: tuple[Story, ...]  # published only, newest first
    pages: tuple[Doc, ...]
    stores: tuple[Store, ...]
    promoters: tuple[Promoter, ...] = ()
    promotions: tuple[Promotion, ...] = ()  # content/promotions.yml, as written (past ones too)
    display_rates: DisplayRates | None = None  # content/rates.yml, for config.display_currencies

    @cached_property
    def featured(self) -> list[Product]:
        """(Asked for by the share plan, the home page and the fingerprints: made once.)"""
        return [p for p in self.products if p.featured]

    @property
    def pickup_stores(self) -> list[Store]:
        if not any(m.pickup for m in self.config.shipping):
            return []
        return [s for s in self.stores if s.pickup]
