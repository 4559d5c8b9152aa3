"""catalog.json: the one machine-readable statement of what is for sale and at what price.

The cart reads it in the browser and the order service prices orders from it, so it carries
integer minor units only, and a hash of its own contents that an order can record.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .markup import markdown_text
from .model import GroupBuy, Product, Site, Variant
from .money import Money, minor_digits
from .promotions import Promotion


def _minor(value: Money | None) -> int | None:
    return None if value is None else value.minor


def _variant(v: Variant, base_path: str) -> dict[str, Any]:
    return {
        "id": v.id,
        "title": v.title,
        "options": v.options,
        "price": v.price.minor,
        "compare_at_price": _minor(v.compare_at_price),
        "sku": v.sku,
        "stock": v.stock,
        "image": base_path + v.image.url if v.image else None,
    }


def _product(p: Product, base_path: str) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "url": base_path + p.url,
        "price": p.price.minor,
        "compare_at_price": _minor(p.compare_at_price),
        "sku": p.sku,
        "stock": p.stock,
        "sold_out": p.sold_out,
        "image": base_path + p.image.url if p.image else None,
        "options": {o.name: list(o.values) for o in p.options},
        "variants": [_variant(v, base_path) for v in p.variants],
        "collections": [c.id for c in p.collections],
        "group_buy": _group_buy(p.group_buy),
    }


def _moment(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _group_buy(gb: GroupBuy | None) -> dict[str, Any] | None:
    return None if gb is None else {"min_orders": gb.min_orders, "ends": _moment(gb.ends)}


def _promotion(p: Promotion) -> dict[str, Any]:
    """A sale window as the cart and the order service apply it (banners alone are left out)."""
    return {
        "title": p.title,
        "starts": _moment(p.starts),
        "ends": _moment(p.ends),
        "percent": p.percent,
        "amount": _minor(p.amount),
        "products": None if p.products is None else list(p.products),
    }


@dataclass(frozen=True)
class CatalogEntry:
    """One product in catalog.json, as the file states it (`indented`, at its depth in the file)
    and as its hash covers it (`canonical`: sorted keys, no spaces). Rendered once per product and
    joined, so that a change to one product does not render the other ten thousand again."""

    indented: str
    canonical: str


def catalog_entry(p: Product, base_path: str) -> CatalogEntry:
    entry = _product(p, base_path)
    indented = json.dumps(entry, ensure_ascii=False, indent=1).replace("\n", "\n  ")  # a JSON string has no raw newline
    return CatalogEntry(indented, json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


def _around(body: dict[str, Any], sort: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keys written before "products" and those after it."""
    keys = sorted(body) if sort else list(body)
    at = keys.index("products")
    return {k: body[k] for k in keys[:at]}, {k: body[k] for k in keys[at + 1 :]}


def _around_products(
    head: str, tail: str, opened: str, listed: str, closed: str, comma: str, end: str = ""
) -> tuple[str, ...]:
    """The pieces of an object with "products" between `head` and `tail` (objects, as json.dumps
    writes them): its list is `opened`, `listed`, `closed`."""
    before, after = head[: head.rindex("}")].rstrip(), tail[tail.index("{") + 1 :].lstrip("\n")
    return before, comma, opened, listed, closed, comma.rstrip(" "), after, end


def render_catalog_json(site: Site, entries: Sequence[CatalogEntry] | None = None) -> bytes:
    """catalog.json; `entries` are the products' entries when the caller kept them (datafiles.py)."""
    cfg = site.config
    base_path = cfg.base_path
    if entries is None:
        entries = [catalog_entry(p, base_path) for p in site.products]
    body: dict[str, Any] = {
        "title": cfg.title,
        "currency": cfg.currency,
        "minor_digits": minor_digits(cfg.currency),
        "language": cfg.language,
        "base_url": cfg.base_url,
        "products": [],  # joined from `entries` below
        "shipping": [
            {"id": m.id, "label": m.label, "price": m.price.minor, "free_over": _minor(m.free_over), "pickup": m.pickup}
            for m in cfg.shipping
        ],
        "stores": [
            {"id": s.id, "name": s.name, "address": s.address, "hours": list(s.hours), "pickup": s.pickup}
            for s in site.stores
        ],
        # Promoter codes only, so the order service can tell a real referral from a typo: the codes
        # are in every shared link anyway. Names and commissions stay in content/promoters.yml.
        "promoters": [pr.code for pr in site.promoters],
        "promotions": [_promotion(p) for p in site.promotions if p.is_sale],
        "checkout": {
            "handler": cfg.checkout.handler,
            "endpoint": cfg.checkout.endpoint,
            "payment_instructions": markdown_text(cfg.checkout.payment_instructions),
        },
    }
    # The products' entries are joined once per form, and neither form is copied again: the
    # hash reads the canonical form in pieces, the file is encoded from one join (22 MB of data
    # files are made at each edit in a preview of 10,000 products).
    before, after = _around(body, sort=True)
    dump = functools.partial(json.dumps, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256()
    for piece in _around_products(
        dump(before), dump(after), '"products":[', ",".join(e.canonical for e in entries), "]", ","
    ):
        digest.update(piece.encode("utf-8"))
    document = {"version": 1, "catalog_hash": f"sha256:{digest.hexdigest()}", **body}
    before, after = _around(document, sort=False)
    dump = functools.partial(json.dumps, ensure_ascii=False, indent=1)
    listed = (
        ('"products": [\n  ', ",\n  ".join(e.indented for e in entries), "\n ]")
        if entries
        else ('"products": []', "", "")
    )
    text = "".join(_around_products(dump(before), dump(after), *listed, ",\n ", end="\n"))
    return text.encode("utf-8")
