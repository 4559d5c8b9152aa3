"""content/promotions.yml: banners and sale windows, checked with file:line:column errors.

A promotion is a banner (title, text, link) shown between `starts` and `ends`, and, with a
`percent` or `amount`, a sale on some products (listed, or in listed collections; all products
when neither is given). Windows are moments, not build times: catalog.json carries them, and the
cart (by the device's clock, for display) and the order service (by its own clock, for the
charge) decide whether a window is open, so a sale opens and closes without a rebuild.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .errors import did_you_mean
from .fields import Obj, SourceFile
from .model import Collection, Product
from .money import Money

FILE_KEYS = ("timezone", "promotions")
PROMOTION_KEYS = ("title", "text", "link", "starts", "ends", "products", "collections", "percent", "amount")
OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2}):?(\d{2})$")


@dataclass(frozen=True, eq=False)
class Promotion:
    title: str
    text: str
    link: str  # a site-relative path or an absolute URL; "" for none
    starts: dt.datetime  # aware; the window is starts <= now < ends
    ends: dt.datetime
    percent: int | None
    amount: Money | None
    products: tuple[str, ...] | None  # product ids on sale; None = every product (or no sale at all)

    @property
    def is_sale(self) -> bool:
        return self.percent is not None or self.amount is not None

    @property
    def last_day(self) -> dt.date:
        """The last day of the window, as a shop owner wrote it (`ends` is the moment after)."""
        return (self.ends - dt.timedelta(microseconds=1)).date()

    def applies_to(self, product_id: str) -> bool:
        return self.is_sale and (self.products is None or product_id in self.products)

    def open_at(self, now: dt.datetime) -> bool:
        return self.starts <= now < self.ends

    def sale_minor(self, price: int) -> int:
        """The price during the window, in minor units; the same rule as the order service's."""
        return sale_minor(price, self.percent, self.amount.minor if self.amount else None)


def sale_minor(price: int, percent: int | None, amount: int | None) -> int:
    """`price` less `percent` (rounded half up to the minor unit) or less `amount`, never below 0."""
    if percent is not None:
        off = int((Decimal(price) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return price - off
    if amount is not None:
        return max(0, price - amount)
    return price


def best_sale(promotions: tuple[Promotion, ...], product_id: str, price: Money) -> tuple[Promotion, Money] | None:
    """The sale promotion giving `product_id` its lowest price (first listed wins a tie), if any."""
    best: tuple[Promotion, Money] | None = None
    for promo in promotions:
        if promo.applies_to(product_id):
            sale = Money(promo.sale_minor(price.minor), price.currency)
            if sale < price and (best is None or sale < best[1]):
                best = (promo, sale)
    return best


def _zone(obj: Obj) -> dt.timezone:
    text = obj.text("timezone")
    if not text or text.upper() in ("UTC", "Z"):
        return dt.UTC
    m = OFFSET.match(text.replace(" ", ""))
    if m is None or int(m.group(2)) > 14 or int(m.group(3)) >= 60:
        obj.src.error(obj.at("timezone"), f"must be an offset from UTC such as +08:00, got '{text}'")
        return dt.UTC
    delta = dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
    return dt.timezone(delta if m.group(1) == "+" else -delta)


def moment(obj: Obj, key: str, zone: dt.tzinfo, end: bool) -> dt.datetime | None:
    """A date (the whole day, in `zone`: its start, or for `end` the start of the next day) or a
    date and time (YYYY-MM-DD HH:MM, in `zone` unless it names its own offset)."""
    value = obj.data.get(key)
    if value is None:
        obj.src.error(obj.at(key), "is required")
        return None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = dt.datetime.fromisoformat(value.strip()) if ":" in value else dt.date.fromisoformat(value.strip())
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=zone) if value.tzinfo is None else value
    if isinstance(value, dt.date):
        day = dt.datetime.combine(value, dt.time(), zone)
        return day + dt.timedelta(days=1) if end else day
    obj.src.error(obj.at(key), f"must be a date (YYYY-MM-DD) or a date and time (YYYY-MM-DD HH:MM), got {value!r}")
    return None


def parse_promotions(
    src: SourceFile, currency: str, products: dict[str, Product], collections: dict[str, Collection]
) -> tuple[Promotion, ...]:
    root = src.obj(src.doc.data, (), FILE_KEYS)
    if root is None:
        return ()
    zone = _zone(root)
    found = []
    for path, item in root.items("promotions", required=True):
        obj = src.obj(item, path, PROMOTION_KEYS)
        if obj is None:
            continue
        promo = _promotion(obj, currency, zone, products, collections)
        if promo is not None:
            found.append(promo)
    return tuple(found)


def _promotion(
    obj: Obj, currency: str, zone: dt.tzinfo, products: dict[str, Product], collections: dict[str, Collection]
) -> Promotion | None:
    src = obj.src
    title = obj.text("title", required=True)
    text = obj.text("text")
    link = obj.text("link")
    if link and not (link.startswith(("https://", "http://", "/")) or re.match(r"^[a-z0-9][\w\-./]*$", link)):
        src.error(obj.at("link"), "must be a page of the shop (products/tea/) or a full https:// address")
    starts = moment(obj, "starts", zone, end=False)
    ends = moment(obj, "ends", zone, end=True)
    if starts and ends and ends <= starts:
        src.error(obj.at("ends"), "must be after starts")
        return None
    percent = obj.integer("percent", minimum=1)
    if percent is not None and percent > 95:
        src.error(obj.at("percent"), f"must be from 1 to 95, got {percent}")
        percent = None
    amount = obj.price("amount", currency)
    if amount is not None and amount.minor <= 0:
        src.error(obj.at("amount"), "must be more than 0")
        amount = None
    if obj.has("percent") and obj.has("amount"):
        src.error(obj.at("amount"), "give either percent or amount, not both")
    ids: list[str] = []
    for p, pid in obj.items("products"):
        if not isinstance(pid, str) or pid not in products:
            src.error(p, f"unknown product '{pid}'{did_you_mean(str(pid), products)}")
        elif pid not in ids:
            ids.append(pid)
    for p, cid in obj.items("collections"):
        coll = collections.get(cid) if isinstance(cid, str) else None
        if coll is None:
            src.error(p, f"unknown collection '{cid}'{did_you_mean(str(cid), collections)}")
            continue
        ids.extend(pr.id for pr in coll.products if pr.id not in ids)
    listed = obj.has("products") or obj.has("collections")
    if listed and not (obj.has("percent") or obj.has("amount")):
        src.error(obj.path, "products or collections are on sale only with a percent or an amount")
    if not title or starts is None or ends is None:
        return None
    return Promotion(title, text, link, starts, ends, percent, amount, tuple(ids) if listed else None)
