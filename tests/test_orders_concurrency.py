"""The last units under concurrency: never oversold, never lost, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from order_server import order_server, post_order, run_together
from orders_fixtures import write_catalog

from generator.orders.app import make_store
from generator.orders.config import ServiceConfig

SITE = {
    "site.yml": """\
        title: Last Units
        base_url: https://shop.example.com/
        currency: CNY
        shipping: [{id: standard, label: Standard, price: 10}]
        """,
    "content/catalog/shop.yml": "products:\n  - {id: tea, title: Tea, price: 100, stock: 50}\n",
}
BODY = {
    "items": [{"product": "tea", "variant": None, "quantity": 1}],
    "shipping": "standard",
    "customer": {"name": "Buyer", "phone": "+86 138 0000 0000", "email": "b@example.com", "address": "1 Road"},
    "expected_total": 10000 + 1000,
}


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, Path]:
    site = tmp_path / "site"
    return site, write_catalog(site, SITE)


def check_invariants(catalog: Path, db: str, accepted: int) -> None:
    store = make_store(ServiceConfig(catalog=catalog, database=db))
    try:
        orders = store.orders()
        assert len(orders) == accepted
        assert sum(i["quantity"] for o in orders for i in o.items) == accepted
        assert store.stock()["tea"] == 50 - accepted  # conservation: initial = left + sold
    finally:
        store.close()


def test_200_orders_for_50_units_from_20_threads(shop: tuple[Path, Path], database: str) -> None:
    site, catalog = shop
    with order_server(site, catalog, database) as port:
        results: list[Any] = run_together(200, 20, lambda i: post_order(port, BODY, f"key-{i}"))
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 50, 409: 150}
    assert {body["error"]["code"] for status, body in results if status == 409} == {"out_of_stock"}
    check_invariants(catalog, database, 50)


def test_two_service_processes_share_one_postgresql(shop: tuple[Path, Path], postgres_url: str) -> None:
    site, catalog = shop
    with order_server(site, catalog, postgres_url) as a, order_server(site, catalog, postgres_url) as b:
        ports = (a, b)
        results: list[Any] = run_together(200, 20, lambda i: post_order(ports[i % 2], BODY, f"key-{i}"))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert Counter(status for status, _ in results) == {201: 50, 409: 150}
    check_invariants(catalog, postgres_url, 50)
