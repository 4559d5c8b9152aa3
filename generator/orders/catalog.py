"""catalog.json as the order service reads it: what can be bought, at which price, from where."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..promotions import sale_minor


class CatalogError(Exception):
    """catalog.json is missing or not one that micromall built."""


@dataclass(frozen=True)
class Sellable:
    """One thing with a price and a stock line: a variant, or a product without variants."""

    key: str  # "product/variant" or "product"
    product: str
    variant: str | None
    title: str
    price: int
    stock: int | None  # as built; None = unlimited


@dataclass(frozen=True)
class Shipping:
    id: str
    label: str
    price: int
    free_over: int | None
    pickup: bool


@dataclass(frozen=True)
class StoreInfo:
    id: str
    name: str
    address: str
    hours: tuple[str, ...]
    pickup: bool


@dataclass(frozen=True)
class Sale:
    """A sale window from catalog.json: open while starts <= now < ends, on the service's clock."""

    title: str
    starts: dt.datetime
    ends: dt.datetime
    percent: int | None
    amount: int | None  # minor units
    products: frozenset[str] | None  # None: every product

    def price(self, product: str, price: int, now: dt.datetime) -> int:
        if not self.starts <= now < self.ends or (self.products is not None and product not in self.products):
            return price
        return sale_minor(price, self.percent, self.amount)


@dataclass(frozen=True)
class GroupBuyInfo:
    product: str
    min_orders: int
    ends: dt.datetime


@dataclass(frozen=True)
class Catalog:
    hash: str
    currency: str
    minor_digits: int
    base_url: str
    title: str
    sellables: dict[str, Sellable]
    products: frozenset[str]
    product_variants: dict[str, tuple[str, ...]]
    shipping: dict[str, Shipping]
    stores: dict[str, StoreInfo]
    payment_instructions: str
    promoters: frozenset[str] = frozenset()  # referral codes (catalogs built before promoters have none)
    sales: tuple[Sale, ...] = ()
    group_buys: dict[str, GroupBuyInfo] = field(default_factory=dict)
    language: str = "en"  # the shop's language: what buyers' emails are written in by default

    def unit_price(self, sellable: Sellable, now: dt.datetime) -> int:
        """The price charged at `now`: the lowest of the open sale windows, or the catalog's."""
        return min([sale.price(sellable.product, sellable.price, now) for sale in self.sales] + [sellable.price])

    def find(self, product: str, variant: str | None) -> Sellable | None:
        return self.sellables.get(f"{product}/{variant}" if variant else product)


def parse_catalog(data: dict[str, Any]) -> Catalog:
    """Trust only what micromall writes; a malformed file is a deployment error, not a buyer's."""
    try:
        sellables: dict[str, Sellable] = {}
        variants: dict[str, tuple[str, ...]] = {}
        for p in data["products"]:
            if p["variants"]:
                variants[p["id"]] = tuple(v["id"] for v in p["variants"])
                for v in p["variants"]:
                    key = f"{p['id']}/{v['id']}"
                    title = f"{p['title']} ({v['title']})" if v["title"] else p["title"]
                    sellables[key] = Sellable(key, p["id"], v["id"], title, int(v["price"]), v["stock"])
            else:
                sellables[p["id"]] = Sellable(p["id"], p["id"], None, p["title"], int(p["price"]), p["stock"])
        shipping = {
            m["id"]: Shipping(m["id"], m["label"], int(m["price"]), m["free_over"], bool(m["pickup"]))
            for m in data["shipping"]
        }
        stores = {
            s["id"]: StoreInfo(s["id"], s["name"], s["address"], tuple(s.get("hours", ())), bool(s["pickup"]))
            for s in data["stores"]
        }
        sales = tuple(
            Sale(
                str(x.get("title", "")), _moment(x["starts"]), _moment(x["ends"]), x.get("percent"), x.get("amount"),
                None if x.get("products") is None else frozenset(x["products"]),
            )
            for x in data.get("promotions", [])
        )  # fmt: skip
        group_buys = {
            p["id"]: GroupBuyInfo(p["id"], int(p["group_buy"]["min_orders"]), _moment(p["group_buy"]["ends"]))
            for p in data["products"]
            if p.get("group_buy")
        }
        checkout = data.get("checkout") or {}
        return Catalog(
            hash=data["catalog_hash"],
            currency=data["currency"],
            minor_digits=int(data["minor_digits"]),
            base_url=data["base_url"],
            title=data.get("title", ""),
            sellables=sellables,
            products=frozenset(p["id"] for p in data["products"]),
            product_variants=variants,
            shipping=shipping,
            stores=stores,
            payment_instructions=checkout.get("payment_instructions", ""),
            promoters=frozenset(str(code) for code in data.get("promoters", ())),
            sales=sales,
            group_buys=group_buys,
            language=str(data.get("language") or "en"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"catalog.json is not one micromall built ({type(exc).__name__}: {exc})") from None


def _moment(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text} has no time zone")
    return value


def load_catalog(path: Path) -> Catalog:
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path} not found: build the shop first (micromall build)") from None
    except (OSError, ValueError) as exc:
        raise CatalogError(f"{path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{path} is not one micromall built")
    return parse_catalog(data)
