"""Related products (load.py `_link_related`): ranked once for each set of collections and tags
products share, with the same links as ranking every product on its own (the algorithm before
issue #6, kept here as the reference)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import pytest
from markupsafe import Markup

from generator.load import RELATED_COUNT, _link_related
from generator.model import Collection, Product, Variant
from generator.money import Money


def reference(products: list[Product]) -> dict[str, list[str]]:
    """Each product ranked on its own: every candidate sorted by rank, then by points."""
    by_collection: dict[str, list[str]] = defaultdict(list)
    by_tag: dict[str, list[str]] = defaultdict(list)
    rank = {p.id: int(p.sold_out) * (len(products) + 1) + n for n, p in enumerate(products)}
    for p in products:
        for c in p.collections:
            if len(by_collection[c.id]) < 200:
                by_collection[c.id].append(p.id)
        for t in p.tags:
            if len(by_tag[t]) < 200:
                by_tag[t].append(p.id)
    links = {}
    for p in products:
        score: Counter[str] = Counter()
        for c in p.collections:
            score.update(by_collection[c.id])
            score.update(by_collection[c.id])
        for t in p.tags:
            score.update(by_tag[t])
        score.pop(p.id, None)
        best = sorted(score, key=rank.__getitem__)
        best.sort(key=score.__getitem__, reverse=True)
        links[p.id] = best[:RELATED_COUNT]
    return links


def shop(size: int, seed: int) -> list[Product]:
    """A shop of `size` products in a few collections, with tags drawn from a small set (some
    written twice), some sold out: many products share their collections and tags."""
    rng = random.Random(seed)
    collections = [Collection(f"c{i}", f"C{i}", Markup(""), "", None, "x.yml") for i in range(rng.randint(1, 8))]
    tags = [f"t{i}" for i in range(rng.randint(1, 12))]
    products = []
    for n in range(size):
        stock = rng.choice([None, 0, 3])
        variants = (Variant("v", "V", {}, Money(100, "CNY"), None, "", 0, None),) if rng.random() < 0.1 else ()
        product = Product(
            id=f"p{n}", title="", base_price=Money(100, "CNY"), base_compare_at_price=None, sku="", summary="",
            description_html=Markup(""), images=(), tags=tuple(rng.choices(tags, k=rng.randint(0, 4))),
            base_stock=stock, options=(), variants=variants, published=True, featured=False, source="x.yml",
        )  # fmt: skip
        product.collections.extend(rng.sample(collections, k=rng.randint(0, min(3, len(collections)))))
        products.append(product)
    return products


@pytest.mark.parametrize("seed", range(12))
def test_related_products_are_those_of_ranking_each_product_on_its_own(seed: int) -> None:
    products = shop(random.Random(seed).choice([5, 60, 700]), seed)
    expected = reference(products)
    _link_related(products)
    assert {p.id: [r.id for r in p.related] for p in products} == expected
    assert any(expected.values())
