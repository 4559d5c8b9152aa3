"""The reliability suite's shop (tests/reliability/): known stock, order bodies, fresh databases.

A fixture plugin (listed in tests/conftest.py), so the suite needs no conftest of its own, whose
module name would clash with tests/conftest.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from orders_fixtures import write_catalog

#: The shop every L and F check sells from; stock numbers are set per test.
SITE_YML = """\
    title: Reliability
    base_url: https://shop.example.com/
    currency: CNY
    contact: {email: seller@example.com}
    shipping: [{id: standard, label: Standard, price: 10}]
    """

BUYER = {"name": "Buyer", "phone": "+86 138 0000 0000", "email": "b@example.com", "address": "1 Road"}
SHIPPING = 1000  # minor units


def products_yaml(products: dict[str, tuple[int, int | None]]) -> str:
    """products: id -> (price in whole yuan, stock or None for unlimited)."""
    lines = ["products:"]
    for pid, (price, stock) in products.items():
        stock_part = "" if stock is None else f", stock: {stock}"
        lines.append(f"  - {{id: {pid}, title: {pid.capitalize()}, price: {price}{stock_part}}}")
    return "\n".join(lines) + "\n"


def cart(lines: list[tuple[str, int]], prices: dict[str, int], **extra: Any) -> dict[str, Any]:
    """An order body for (product, qty) lines with the right expected_total (prices in minor units)."""
    total = sum(prices[p] * q for p, q in lines) + SHIPPING
    body: dict[str, Any] = {
        "items": [{"product": p, "variant": None, "quantity": q} for p, q in lines],
        "shipping": "standard",
        "customer": dict(BUYER),
        "expected_total": total,
    }
    body.update(extra)
    return body


@pytest.fixture
def make_shop(tmp_path: Path) -> Callable[..., tuple[Path, Path]]:
    """make_shop({'tea': (100, 100)}) -> (site dir, catalog.json) of a shop selling those products."""

    def make(products: dict[str, tuple[int, int | None]], name: str = "site") -> tuple[Path, Path]:
        site = tmp_path / name
        return site, write_catalog(site, {"site.yml": SITE_YML, "content/catalog/shop.yml": products_yaml(products)})

    return make


@pytest.fixture
def fresh_postgres(postgres_server: str) -> Iterator[Callable[[], str]]:
    """fresh_postgres() -> the URL of a new empty database; all are dropped after the test."""
    import psycopg

    made: list[str] = []

    def make() -> str:
        name = "r_" + uuid.uuid4().hex[:12]
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        made.append(name)
        return postgres_server.replace("/postgres?", f"/{name}?")

    yield make
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        for name in made:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
