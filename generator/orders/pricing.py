"""Reading an order request and pricing it from the catalog. Pure: the clock is passed in; no storage.

The request schema is strict (an unknown field is refused, never ignored), and nothing the
client says about money is used: unit prices, shipping and discounts all come from the
catalog and the seller's coupon rules. The client's `expected_total` is only compared.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .catalog import Catalog, Sellable, Shipping, StoreInfo

MAX_LINES = 50
MAX_QUANTITY = 99
BODY_KEYS = frozenset(
    {"items", "shipping", "store", "customer", "note", "coupon", "expected_total", "ref", "source_store"}
)
ITEM_KEYS = frozenset({"product", "variant", "quantity"})
CUSTOMER_KEYS = frozenset({"name", "phone", "email", "address"})
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE = re.compile(r"^\+?[0-9 ()\-.]{5,25}$")
ATTRIBUTION = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # a promoter code or store id
MAX_ATTRIBUTION = 40


class OrderError(Exception):
    """A refusal with a stable code, an HTTP status and a sentence for the buyer."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def document(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


def invalid(field_path: str, message: str) -> OrderError:
    return OrderError(422, "invalid_field", f"{field_path}: {message}", field=field_path)


@dataclass(frozen=True)
class Coupon:
    """A seller's coupon rule, from the service configuration (never from the built site)."""

    code: str
    percent_off: int | None = None
    amount_off: Decimal | None = None  # in the shop's currency, like a price: 10 or 9.90
    min_spend: Decimal = Decimal(0)  # compared with the subtotal
    expires: dt.date | None = None  # last valid day, in UTC
    max_uses: int | None = None
    once_per_customer: bool = False
    promotion: str | None = None  # codes of one promotion share its use count and its cap

    @property
    def counter(self) -> str:
        """What `max_uses` and `once_per_customer` count against: the promotion, or the code."""
        return f"promotion:{self.promotion}" if self.promotion else self.code


@dataclass(frozen=True)
class Line:
    sellable: Sellable
    quantity: int
    unit_price: int  # the catalog's price, or the sale price when a sale window is open

    @property
    def total(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Customer:
    name: str
    phone: str
    email: str
    address: str


@dataclass(frozen=True)
class PricedOrder:
    lines: tuple[Line, ...]
    shipping: Shipping
    store: StoreInfo | None
    customer: Customer
    note: str
    coupon: Coupon | None
    subtotal: int
    discount: int
    shipping_cost: int
    total: int
    currency: str
    catalog_hash: str
    stock_needed: dict[str, int] = field(default_factory=dict)
    ref: str | None = None  # the promoter who brought the order: a code the catalog knows
    source_store: str | None = None  # the store whose poster brought the buyer: a store id
    group_buy: str | None = None  # the group-buy product this pre-order joins


def _text(data: dict[str, Any], key: str, path: str, limit: int, required: bool) -> str:
    value = data.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise invalid(path, "must be text")
    value = value.strip()
    if required and not value:
        raise invalid(path, "is required")
    if len(value) > limit:
        raise invalid(path, f"must be at most {limit} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise invalid(path, "must not contain control characters")
    return value


def _strict(data: object, keys: frozenset[str], path: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise invalid(path or "body", "must be a JSON object")
    for key in data:
        if key not in keys:
            where = f"{path}.{key}" if path else str(key)
            raise OrderError(422, "invalid_field", f"{where}: unknown field", field=where)
    return data


def _quantity(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(path, f"must be a whole number from 1 to {MAX_QUANTITY}")
    if not 1 <= value <= MAX_QUANTITY:
        raise invalid(path, f"must be a whole number from 1 to {MAX_QUANTITY}")
    return value


def read_lines(body: dict[str, Any], catalog: Catalog, now: dt.datetime) -> tuple[Line, ...]:
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise invalid("items", "must list at least one item")
    if len(items) > MAX_LINES:
        raise invalid("items", f"must list at most {MAX_LINES} items")
    merged: dict[str, Line] = {}
    for i, raw in enumerate(items):
        path = f"items[{i}]"
        item = _strict(raw, ITEM_KEYS, path)
        product, variant = item.get("product"), item.get("variant")
        if not isinstance(product, str) or not product:
            raise invalid(f"{path}.product", "must be a product id")
        if variant is not None and not isinstance(variant, str):
            raise invalid(f"{path}.variant", "must be a variant id or null")
        quantity = _quantity(item.get("quantity"), f"{path}.quantity")
        if product not in catalog.products:
            raise OrderError(422, "unknown_product", f"{path}.product: no product '{product}'", field=f"{path}.product")
        if product in catalog.product_variants and not variant:
            raise invalid(f"{path}.variant", f"choose one of: {', '.join(catalog.product_variants[product])}")
        sellable = catalog.find(product, variant or None)
        if sellable is None:
            raise OrderError(
                422,
                "unknown_product",
                f"{path}.variant: no variant '{variant}' of '{product}'",
                field=f"{path}.variant",
            )
        previous = merged.get(sellable.key)
        total = quantity + (previous.quantity if previous else 0)
        if total > MAX_QUANTITY:
            raise invalid(f"{path}.quantity", f"must be a whole number from 1 to {MAX_QUANTITY}")
        merged[sellable.key] = Line(sellable, total, catalog.unit_price(sellable, now))
    return tuple(merged.values())


def group_buy_of(lines: tuple[Line, ...], catalog: Catalog, now: dt.datetime) -> str | None:
    """The group buy an order joins, if any. A pre-order holds that product alone (its outcome
    decides the whole order), and is taken only until the group buy ends."""
    joined = {line.sellable.product for line in lines if line.sellable.product in catalog.group_buys}
    if not joined:
        return None
    product = sorted(joined)[0]
    if len(joined) > 1 or any(line.sellable.product != product for line in lines):
        # Its outcome decides the whole order: beside other items, a failed group buy would cancel
        # them too, and a confirmed one hold them back until it ends. The cart says so first.
        title = next(line.sellable.title for line in lines if line.sellable.product == product)
        message = (f"'{title}' is a group-buy pre-order and is ordered on its own: place one order for it"
                   " and another for the other items.")  # fmt: skip
        raise OrderError(422, "group_buy_alone", message, field="items")
    if now >= catalog.group_buys[product].ends:
        raise OrderError(422, "group_buy_closed", f"The group buy for '{product}' has ended.", field="items")
    return product


def read_customer(body: dict[str, Any], pickup: bool) -> Customer:
    data = _strict(body.get("customer"), CUSTOMER_KEYS, "customer")
    name = _text(data, "name", "customer.name", 100, True)
    phone = _text(data, "phone", "customer.phone", 30, True)
    if not PHONE.match(phone) or sum(c.isdigit() for c in phone) < 5:
        raise invalid("customer.phone", "must be a phone number such as +86 138 0000 0000")
    email = _text(data, "email", "customer.email", 254, True)
    if not EMAIL.match(email):
        raise invalid("customer.email", "must be an email address such as name@example.com")
    address = _text(data, "address", "customer.address", 500, not pickup)
    return Customer(name, phone, email, address)


def to_minor(amount: Decimal, minor_digits: int) -> int:
    return int(amount.scaleb(minor_digits).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(amount: int, percent: int) -> int:
    """The one rounding rule for money: half up, to the minor unit."""
    return int((Decimal(amount) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def read_attribution(data: dict[str, Any], key: str, known: frozenset[str] | set[str]) -> str | None:
    """A referral code or a store id that the buyer's browser kept from a link or a poster.

    It is never the buyer's to fix, so only a wrong type (a client bug) is refused; a code that
    is malformed, or that the catalog does not know (a removed promoter, a typed-in link), is
    dropped and the order goes through without it.
    """
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(key, "must be text or null")
    value = value.strip()
    if len(value) > MAX_ATTRIBUTION or not ATTRIBUTION.match(value) or value not in known:
        return None
    return value


def price_order(body: object, catalog: Catalog, coupons: dict[str, Coupon], now: dt.datetime) -> PricedOrder:
    """Check the request and price it at `now` (the service's clock: sale windows, coupon
    expiry, group-buy ends); raise OrderError for the first thing wrong."""
    today = now.astimezone(dt.UTC).date()
    data = _strict(body, BODY_KEYS, "")
    lines = read_lines(data, catalog, now)
    group_buy = group_buy_of(lines, catalog, now)

    shipping_id = data.get("shipping")
    if not isinstance(shipping_id, str) or shipping_id not in catalog.shipping:
        choices = ", ".join(catalog.shipping) or "none"
        raise invalid("shipping", f"must be one of: {choices}")
    shipping = catalog.shipping[shipping_id]
    store = None
    store_id = data.get("store")
    if shipping.pickup:
        pickup_stores = {k: s for k, s in catalog.stores.items() if s.pickup}
        if not isinstance(store_id, str) or store_id not in pickup_stores:
            raise invalid("store", f"choose a pickup store: {', '.join(pickup_stores) or 'none'}")
        store = pickup_stores[store_id]
    elif store_id not in (None, ""):
        raise invalid("store", "is only for store pickup")

    customer = read_customer(data, shipping.pickup)
    note = _text(data, "note", "note", 500, False)
    subtotal = sum(line.total for line in lines)

    coupon = None
    discount = 0
    code = _text(data, "coupon", "coupon", 40, False)
    if code:
        coupon = coupons.get(code.upper())
        if coupon is None:
            raise OrderError(422, "unknown_coupon", f"coupon: '{code}' is not a valid code", field="coupon")
        if coupon.expires is not None and today > coupon.expires:
            raise OrderError(422, "coupon_expired", f"coupon: '{code}' expired on {coupon.expires}", field="coupon")
        min_spend = to_minor(coupon.min_spend, catalog.minor_digits)
        if subtotal < min_spend:
            raise OrderError(
                422, "coupon_min_spend", f"coupon: '{code}' needs a subtotal of at least {coupon.min_spend}",
                field="coupon", min_spend=min_spend,
            )  # fmt: skip
        if coupon.percent_off is not None:
            discount = percent_of(subtotal, coupon.percent_off)
        elif coupon.amount_off is not None:
            discount = min(to_minor(coupon.amount_off, catalog.minor_digits), subtotal)

    free = shipping.free_over is not None and subtotal >= shipping.free_over
    shipping_cost = 0 if free else shipping.price
    total = subtotal - discount + shipping_cost

    expected = data.get("expected_total")
    if isinstance(expected, bool) or not isinstance(expected, int):
        raise invalid("expected_total", "must be the total shown to the buyer, in minor units")
    if expected != total:
        raise OrderError(
            409, "price_changed", "The total has changed since the page was loaded; please check it.",
            total=total, expected_total=expected,
        )  # fmt: skip
    ref = read_attribution(data, "ref", catalog.promoters)
    source_store = read_attribution(data, "source_store", set(catalog.stores))
    return PricedOrder(
        lines=lines,
        shipping=shipping,
        store=store,
        customer=customer,
        note=note,
        coupon=coupon,
        subtotal=subtotal,
        discount=discount,
        shipping_cost=shipping_cost,
        total=total,
        currency=catalog.currency,
        catalog_hash=catalog.hash,
        stock_needed={line.sellable.key: line.quantity for line in lines},
        ref=ref,
        source_store=source_store,
        group_buy=group_buy,
    )
