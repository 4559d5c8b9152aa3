"""The client-side search index: every product, collection and story as a small record.

Search runs in the browser, offline, over `search.json`. Matching is by substring on
normalised text, which needs no word splitting and so works for Chinese queries (no spaces
between words) as well as for English; title matches rank first.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from itertools import chain
from typing import Any

from .markup import plain_text
from .model import Product, Site
from .money import format_money


def normalise(text: str) -> str:
    """Case- and width-folded text without accents: 'Café' and 'ＣＡＦＥ' both become 'cafe'."""
    if text.isascii():  # nothing to fold but the case (most of a large English catalog)
        return text.lower()
    folded = unicodedata.normalize("NFKD", text.lower())  # lower(), as the browser's toLowerCase()
    # each distinct character looked up once: a description is long, its alphabet short
    marks = {ord(c): None for c in set(folded) if unicodedata.combining(c)}
    return folded.translate(marks) if marks else folded


def _record(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def product_record(p: Product, base: str, language: str) -> str:
    """The product's record in search.json, as it is written there (datafiles.py keeps it)."""
    extra = " ".join([p.summary, *p.tags, *(c.title for c in p.collections), p.sku,
                      plain_text(p.description_html, 400)])  # fmt: skip
    return _record({
        "k": "product", "u": base + p.url, "t": p.title, "s": p.summary,
        "p": format_money(p.price, language), "i": base + p.image.url if p.image else "",
        "n": normalise(p.title), "x": normalise(extra), "o": p.sold_out,
    })  # fmt: skip


def render_search_index(site: Site, products: Sequence[str] | None = None) -> bytes:
    """search.json; `products` are the products' `product_record`s when the caller kept them."""
    base = site.config.base_path
    if products is None:
        products = [product_record(p, base, site.config.language) for p in site.products]
    docs = []  # the collections' and stories' records, after the products'
    for c in site.collections:
        docs.append(_record({"k": "collection", "u": base + c.url, "t": c.title, "s": c.summary, "p": "",
                             "i": base + c.image.url if c.image else "", "n": normalise(c.title),
                             "x": normalise(c.summary), "o": False}))  # fmt: skip
    for s in site.stories:
        docs.append(_record({"k": "story", "u": base + s.url, "t": s.title, "s": s.summary, "p": "",
                             "i": base + s.cover.url if s.cover else "", "n": normalise(s.title),
                             "x": normalise(" ".join([s.summary, *s.tags])), "o": False}))  # fmt: skip
    listed = ",".join(chain(products, docs))  # (joined once: 6 MB at 10,000 products)
    return "".join(('{"version":1,"docs":[', listed, "]}")).encode("utf-8")
