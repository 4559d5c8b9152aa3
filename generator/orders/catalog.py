"""catalog.json as the order service reads it: what can be bought, at which price, from where."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"catalog.json is not one micromall built ({type(exc).__name__}: {exc})") from None


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
