"""The order service for the buyer's own space and the seller's selling tools: finding an order
by reference and email, sale windows on the service's clock, and group buys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from orders_fixtures import TEST_PRODUCTS, order_body, write_catalog
from wsgi_client import call, post_json

from generator.orders.app import OrderService

SHOP: dict[str, str | None] = {
    "site.yml": """\
        title: Buyer Test Tea
        base_url: https://shop.example.com/
        currency: CNY
        contact: {email: seller@example.com}
        checkout: {handler: http, payment_instructions: "Pay by bank transfer."}
        shipping:
          - {id: standard, label: Standard, price: 10, free_over: 200}
        """,
    "content/catalog/shop.yml": TEST_PRODUCTS,
}


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "shop", SHOP)


@pytest.fixture
def make_service(catalog_path: Path, service_factory: Callable[..., OrderService]) -> Callable[..., OrderService]:
    return lambda **settings: service_factory(catalog_path, **settings)


def lookup(app: Any, payload: Any) -> Any:
    return post_json(app, "/api/orders/lookup", payload, key=None)


def test_an_order_is_found_by_reference_and_email_with_a_token_of_its_own(app: Any) -> None:
    placed = post_json(app, "/api/orders", order_body()).json
    found = lookup(app, {"reference": placed["reference"].lower(), "email": "  LI@Example.com "})
    assert found.status == 200, found.body
    assert found.json["reference"] == placed["reference"]
    assert found.json["token"] != placed["token"]
    assert found.json["created_at"] == placed["created_at"]
    for token in (found.json["token"], placed["token"]):  # the new token reads it, the first one still does
        got = call(app, "GET", f"/api/orders/{placed['reference']}", headers={"X-Order-Token": token})
        assert got.status == 200 and got.json["total"] == placed["total"]
    # a token found for one order reads no other
    other = post_json(app, "/api/orders", order_body(), key="key-2").json
    got = call(app, "GET", f"/api/orders/{other['reference']}", headers={"X-Order-Token": found.json["token"]})
    assert got.status == 404


def test_a_wrong_email_and_an_unknown_reference_look_the_same(app: Any) -> None:
    placed = post_json(app, "/api/orders", order_body()).json
    wrong = lookup(app, {"reference": placed["reference"], "email": "someone@example.com"})
    unknown = lookup(app, {"reference": "MM-ZZZZZZ", "email": "li@example.com"})
    assert wrong.status == unknown.status == 404
    assert wrong.body == unknown.body
    assert "token" not in wrong.json


@pytest.mark.parametrize(
    ("payload", "field"),
    [([], "body"), ({"reference": "MM-A"}, "email"), ({"reference": 5, "email": "a@b.cn"}, "reference"),
     ({"reference": "MM-A", "email": "a@b.cn", "token": "x"}, "token")],
)  # fmt: skip
def test_a_lookup_must_name_a_reference_and_an_email(app: Any, payload: Any, field: str) -> None:
    res = lookup(app, payload)
    assert res.status == 422
    assert res.json["error"]["code"] == "invalid_field" and res.json["error"]["field"] == field


def test_lookup_takes_only_post(app: Any) -> None:
    res = call(app, "GET", "/api/orders/lookup")
    assert res.status == 405 and res.headers["Allow"] == "POST"
