"""The order service over HTTP (in-process WSGI): every refusal, and what is stored."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from orders_fixtures import CUSTOMER, LAKE_STORE, PICKUP, STANDARD, TEST_PRODUCTS, order_body, site_yml
from wsgi_client import call, post_json

from generator.orders.app import OrderService, make_app
from generator.orders.config import ServiceConfig
from generator.orders.pricing import Coupon

SHOP: dict[str, str | None] = {
    "site.yml": site_yml("Order Test Tea", STANDARD, PICKUP, payment="Pay by bank transfer to 6222 0000."),
    "content/catalog/shop.yml": TEST_PRODUCTS + "  - {id: gone, title: Sold out thing, price: 5, stock: 0}\n",
    "content/stores.yml": LAKE_STORE,
}


def stored(service: OrderService) -> int:
    return len(service.store.orders())


def test_an_order_is_priced_from_the_catalog_and_takes_stock(app: Any, service: OrderService) -> None:
    res = post_json(app, "/api/orders", order_body())
    assert res.status == 201, res.body
    doc = res.json
    assert doc["reference"].startswith("MM-") and len(doc["token"]) > 20
    assert doc["status"] == "pending_payment"
    assert [(i["product"], i["variant"], i["quantity"], i["unit_price"], i["line_total"]) for i in doc["items"]] == [
        ("tea", None, 1, 12800, 12800),
        ("cup", "m", 2, 3550, 7100),
    ]
    assert (doc["subtotal"], doc["discount"], doc["shipping_cost"], doc["total"]) == (19900, 0, 1000, 20900)
    assert doc["payment"] == {"handler": "manual", "instructions": "Pay by bank transfer to 6222 0000.",
                              "redirect_url": None}  # fmt: skip
    assert doc["catalog_hash"].startswith("sha256:")
    assert res.headers["Content-Type"] == "application/json; charset=utf-8"
    stock = service.store.stock()
    assert stock["tea"] == 49 and stock["cup/m"] is None and stock["cup/s"] == 5
    view = call(app, "GET", f"/api/orders/{doc['reference']}", headers={"X-Order-Token": doc["token"]})
    assert view.status == 200 and view.json["total"] == 20900 and "token" not in view.json
    assert call(app, "GET", f"/api/orders/{doc['reference']}", headers={"X-Order-Token": "wrong"}).status == 404
    assert call(app, "GET", f"/api/orders/{doc['reference']}").status == 404


def test_free_shipping_over_the_threshold_and_pickup(app: Any) -> None:
    body = order_body(items=[{"product": "tea", "variant": None, "quantity": 2}], expected_total=25600)
    assert post_json(app, "/api/orders", body).json["shipping_cost"] == 0
    pickup = order_body(shipping="pickup", store="lake", expected_total=19900,
                        customer={**CUSTOMER, "address": ""})  # fmt: skip
    res = post_json(app, "/api/orders", pickup, key="key-2")
    assert res.status == 201, res.body
    assert res.json["store"]["name"] == "Lake shop" and len(res.json["pickup_code"]) == 4


def test_a_retried_submission_returns_the_same_order(app: Any, service: OrderService) -> None:
    first = post_json(app, "/api/orders", order_body())
    again = post_json(app, "/api/orders", order_body())
    assert again.status == 201 and again.body == first.body
    assert stored(service) == 1 and service.store.stock()["tea"] == 49
    other = post_json(app, "/api/orders", order_body(note="changed"))
    assert other.status == 422 and other.json["error"]["code"] == "idempotency_conflict"


def test_a_changed_total_is_refused_with_the_new_total(app: Any, service: OrderService) -> None:
    res = post_json(app, "/api/orders", order_body(expected_total=1))
    assert res.status == 409
    assert res.json["error"]["code"] == "price_changed" and res.json["error"]["total"] == 20900
    assert stored(service) == 0 and service.store.stock()["tea"] == 50


def test_a_price_claimed_by_the_client_is_never_used(app: Any, service: OrderService) -> None:
    """Tampering: the body claims 0.01. A price field is refused; an order is stored at the catalog price."""
    cheat = order_body()
    cheat["items"][0]["price"] = 1
    res = post_json(app, "/api/orders", cheat)
    assert res.status == 422 and res.json["error"] == {
        "code": "invalid_field", "message": "items[0].price: unknown field", "field": "items[0].price",
        "request_id": res.headers["X-Request-Id"]}  # fmt: skip
    assert post_json(app, "/api/orders", order_body(expected_total=1), key="k2").status == 409
    honest = post_json(app, "/api/orders", order_body(), key="k3")
    assert honest.status == 201
    (order,) = service.store.orders()
    assert order.total == 20900 and order.items[0]["unit_price"] == 12800


BAD: dict[str, tuple[Any, int, str, str]] = {
    # name: (body or a callable making the request, status, code, message)
    "unknown top-level field": (order_body(total=1), 422, "invalid_field", "total: unknown field"),
    "status field": (order_body(status="paid"), 422, "invalid_field", "status: unknown field"),
    "unknown product": (order_body(items=[{"product": "nope", "variant": None, "quantity": 1}]), 422,
                        "unknown_product", "items[0].product: no product 'nope'"),
    "unknown variant": (order_body(items=[{"product": "cup", "variant": "xl", "quantity": 1}]), 422,
                        "unknown_product", "items[0].variant: no variant 'xl' of 'cup'"),
    "variant missing": (order_body(items=[{"product": "cup", "variant": None, "quantity": 1}]), 422,
                        "invalid_field", "items[0].variant: choose one of: s, m"),
    "no items": (order_body(items=[]), 422, "invalid_field", "items: must list at least one item"),
    "quantity 0": (order_body(items=[{"product": "tea", "variant": None, "quantity": 0}]), 422,
                   "invalid_field", "items[0].quantity: must be a whole number from 1 to 99"),
    "quantity -1": (order_body(items=[{"product": "tea", "variant": None, "quantity": -1}]), 422,
                    "invalid_field", "items[0].quantity: must be a whole number from 1 to 99"),
    "quantity 1.5": (order_body(items=[{"product": "tea", "variant": None, "quantity": 1.5}]), 422,
                     "invalid_field", "items[0].quantity: must be a whole number from 1 to 99"),
    "quantity text": (order_body(items=[{"product": "tea", "variant": None, "quantity": "1"}]), 422,
                      "invalid_field", "items[0].quantity: must be a whole number from 1 to 99"),
    "quantity true": (order_body(items=[{"product": "tea", "variant": None, "quantity": True}]), 422,
                      "invalid_field", "items[0].quantity: must be a whole number from 1 to 99"),
    "quantity 100": (order_body(items=[{"product": "tea", "variant": None, "quantity": 100}]), 422,
                     "invalid_field", "items[0].quantity: must be a whole number from 1 to 99"),
    "too many lines": (order_body(items=[{"product": "tea", "variant": None, "quantity": 1}] * 51), 422,
                       "invalid_field", "items: must list at most 50 items"),
    "missing name": (order_body(customer={**CUSTOMER, "name": ""}), 422, "invalid_field", "customer.name: is required"),
    "missing phone": (order_body(customer={**CUSTOMER, "phone": None}), 422, "invalid_field",
                      "customer.phone: is required"),
    "bad phone": (order_body(customer={**CUSTOMER, "phone": "call me"}), 422, "invalid_field",
                  "customer.phone: must be a phone number such as +86 138 0000 0000"),
    "missing email": (order_body(customer={k: v for k, v in CUSTOMER.items() if k != "email"}), 422,
                      "invalid_field", "customer.email: is required"),
    "bad email": (order_body(customer={**CUSTOMER, "email": "li@"}), 422, "invalid_field",
                  "customer.email: must be an email address such as name@example.com"),
    "missing address": (order_body(customer={**CUSTOMER, "address": " "}), 422, "invalid_field",
                        "customer.address: is required"),
    "customer extra field": (order_body(customer={**CUSTOMER, "vip": True}), 422, "invalid_field",
                             "customer.vip: unknown field"),
    "unknown shipping": (order_body(shipping="drone"), 422, "invalid_field",
                         "shipping: must be one of: standard, pickup"),
    "pickup without store": (order_body(shipping="pickup", expected_total=19900), 422, "invalid_field",
                             "store: choose a pickup store: lake"),
    "store without pickup": (order_body(store="lake"), 422, "invalid_field", "store: is only for store pickup"),
    "unknown coupon": (order_body(coupon="FREE"), 422, "unknown_coupon", "coupon: 'FREE' is not a valid code"),
    "note too long": (order_body(note="x" * 501), 422, "invalid_field", "note: must be at most 500 characters"),
    "expected_total missing": ({k: v for k, v in order_body().items() if k != "expected_total"}, 422,
                               "invalid_field",
                               "expected_total: must be the total shown to the buyer, in minor units"),
    "body not an object": ([1, 2], 422, "invalid_field", "body: must be a JSON object"),
    "out of stock": (order_body(items=[{"product": "gone", "variant": None, "quantity": 1}], expected_total=1500),
                     409, "out_of_stock", "Not enough stock for: gone"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD))
def test_bad_orders_are_refused_and_change_nothing(name: str, app: Any, service: OrderService) -> None:
    body, status, code, message = BAD[name]
    before = service.store.stock()
    res = post_json(app, "/api/orders", body)
    assert (res.status, res.json["error"]["code"], res.json["error"]["message"]) == (status, code, message)
    assert b"Traceback" not in res.body
    assert stored(service) == 0
    assert service.store.stock() == before


def test_out_of_stock_names_every_short_item(app: Any, service: OrderService) -> None:
    body = order_body(items=[{"product": "tea", "variant": None, "quantity": 51},
                             {"product": "cup", "variant": "s", "quantity": 6}], expected_total=1)  # fmt: skip
    body["items"][0]["quantity"] = 50
    res = post_json(app, "/api/orders", {**body, "expected_total": 50 * 12800 + 6 * 3000})
    assert res.status == 409
    assert res.json["error"]["items"] == [{"product": "cup", "variant": "s", "available": 5}]
    assert service.store.stock()["tea"] == 50, "a refused order takes no stock at all"


def test_transport_errors(app: Any, service: OrderService) -> None:
    raw = json.dumps(order_body()).encode()
    cases = [
        (call(app, "POST", "/api/orders", b"{not json", {"Idempotency-Key": "a"}), 400, "invalid_json"),
        (call(app, "POST", "/api/orders", raw, {"Idempotency-Key": "a"}, content_type="text/plain"), 415,
         "unsupported_media_type"),
        (call(app, "POST", "/api/orders", raw, {"Idempotency-Key": "a"},
              content_type="application/x-www-form-urlencoded"), 415, "unsupported_media_type"),
        (call(app, "POST", "/api/orders", b"{" + b" " * 70_000 + b"}", {"Idempotency-Key": "a"}), 413,
         "body_too_large"),
        (call(app, "POST", "/api/orders", raw), 400, "missing_idempotency_key"),
        (call(app, "POST", "/api/orders", raw, {"Idempotency-Key": "x" * 256}), 400, "invalid_idempotency_key"),
        (call(app, "POST", "/api/orders", raw, {"Idempotency-Key": "with space"}), 400, "invalid_idempotency_key"),
        (call(app, "GET", "/api/orders"), 405, "method_not_allowed"),
        (call(app, "POST", "/api/orders", b"[" * 100_00 + b"]" * 100_00, {"Idempotency-Key": "a"}), 400,
         "invalid_json"),
    ]  # fmt: skip
    for res, status, code in cases:
        assert (res.status, res.json["error"]["code"]) == (status, code), res.body
        assert b"Traceback" not in res.body
    assert stored(service) == 0


def test_cors_allows_only_the_shop_origin(app: Any) -> None:
    ok = call(app, "OPTIONS", "/api/orders", headers={"Origin": "https://shop.example.com"})
    assert ok.status == 204 and ok.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "Idempotency-Key" in ok.headers["Access-Control-Allow-Headers"]
    for origin in ("https://evil.example", "null"):
        res = call(app, "OPTIONS", "/api/orders", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in res.headers
    res = post_json(app, "/api/orders", order_body(), Origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in res.headers


def test_stock_and_health(app: Any) -> None:
    stock = call(app, "GET", "/api/stock").json
    assert stock["stock"] == {"tea": 50, "cup/s": 5, "cup/m": None, "gone": 0}
    assert call(app, "GET", "/api/health").json["status"] == "ok"


COUPONS = {
    "TEN": Coupon("TEN", percent_off=10),
    "FIVE": Coupon("FIVE", amount_off=Decimal("5.50"), min_spend=Decimal(100)),
    "OLD": Coupon("OLD", percent_off=50, expires=dt.date(2020, 1, 1)),
    "TWICE": Coupon("TWICE", percent_off=1, max_uses=2),
    "ONCE": Coupon("ONCE", percent_off=1, once_per_customer=True),
}  # fmt: skip


def test_coupons(make_service: Callable[..., OrderService]) -> None:
    svc = make_service(coupons=COUPONS)
    app = make_app(svc.config, svc)
    tea = [{"product": "tea", "variant": None, "quantity": 1}]
    res = post_json(app, "/api/orders", order_body(items=tea, coupon="ten", expected_total=12800 - 1280 + 1000))
    assert res.status == 201 and res.json["discount"] == 1280 and res.json["coupon"] == "TEN"
    res = post_json(
        app, "/api/orders", order_body(items=tea, coupon="FIVE", expected_total=12800 - 550 + 1000), key="2"
    )
    assert res.status == 201 and res.json["discount"] == 550
    cup = [{"product": "cup", "variant": "s", "quantity": 1}]
    res = post_json(app, "/api/orders", order_body(items=cup, coupon="FIVE", expected_total=1), key="3")
    assert res.json["error"]["code"] == "coupon_min_spend"
    res = post_json(app, "/api/orders", order_body(items=tea, coupon="OLD", expected_total=1), key="4")
    assert res.json["error"]["code"] == "coupon_expired"
    total = 12800 - 128 + 1000
    codes = [post_json(app, "/api/orders", order_body(items=tea, coupon="TWICE", expected_total=total,
                                                      customer={**CUSTOMER, "email": f"b{i}@example.com"}),
                       key=f"t{i}").status for i in range(3)]  # fmt: skip
    assert codes == [201, 201, 409]
    once = order_body(items=tea, coupon="ONCE", expected_total=total)
    first = post_json(app, "/api/orders", once, key="o1")
    same_person = {**once, "customer": {**CUSTOMER, "email": "LI@example.com"}}
    again = post_json(app, "/api/orders", same_person, key="o2")
    assert first.status == 201 and again.status == 409 and again.json["error"]["code"] == "coupon_exhausted"


def test_status_changes_follow_the_rules_and_cancel_restocks(app: Any, service: OrderService) -> None:
    ref = post_json(app, "/api/orders", order_body()).json["reference"]
    store = service.store
    assert store.stock()["tea"] == 49
    from generator.orders.pricing import OrderError

    with pytest.raises(OrderError, match="is pending_payment; it can become: cancelled, paid"):
        store.set_status(ref, "shipped")
    assert store.set_status(ref, "paid").status == "paid"
    assert store.set_status(ref, "cancelled").status == "cancelled"
    assert store.stock()["tea"] == 50
    with pytest.raises(OrderError):
        store.set_status(ref, "paid")


def test_a_rebuilt_catalog_moves_live_stock_by_its_change(app: Any, service: OrderService, catalog_path: Path) -> None:
    post_json(app, "/api/orders", order_body())
    data = json.loads(catalog_path.read_text())
    for p in data["products"]:
        if p["id"] == "tea":
            p["stock"] = 80
    catalog_path.write_text(json.dumps(data) + " ")
    assert call(app, "GET", "/api/stock").json["stock"]["tea"] == 49 + 30


def test_a_locked_database_answers_503_and_a_retry_succeeds(
    catalog_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from generator.orders import store_sqlite

    monkeypatch.setattr(store_sqlite, "BUSY_TIMEOUT_S", 0.2)
    db = str(tmp_path / "locked.sqlite3")
    svc = OrderService(ServiceConfig(catalog=catalog_path, database=db))
    app = make_app(svc.config, svc)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    res = post_json(app, "/api/orders", order_body())
    assert res.status == 503 and res.json["error"]["code"] == "retry" and res.headers["Retry-After"] == "2"
    assert b"Traceback" not in res.body and b"locked" not in res.body
    other.execute("ROLLBACK")
    other.close()
    retry = post_json(app, "/api/orders", order_body())
    assert retry.status == 201
    assert len(svc.store.orders()) == 1
    svc.store.close()


class RecordingHandler:
    """A third-party checkout handler, loaded by its module:Class path."""

    name = "recording"

    def __init__(self, greeting: str = "hi") -> None:
        self.greeting = greeting

    def payment(self, order: dict[str, Any], catalog: Any) -> dict[str, Any]:
        return {"handler": self.name, "instructions": self.greeting, "redirect_url": None}

    def webhook(self, headers: dict[str, str], body: bytes, service: Any) -> tuple[int, dict[str, Any]]:
        return 200, {"received": True}


def test_a_handler_from_a_module_path(catalog_path: Path, tmp_path: Path) -> None:
    config = ServiceConfig(
        catalog=catalog_path, database=str(tmp_path / "h.sqlite3"),
        handler="test_orders_http:RecordingHandler", handler_options={"greeting": "Pay at the door"},
    )  # fmt: skip
    svc = OrderService(config)
    app = make_app(config, svc)
    res = post_json(app, "/api/orders", order_body())
    assert res.json["payment"] == {"handler": "recording", "instructions": "Pay at the door", "redirect_url": None}
    assert call(app, "POST", "/api/payments/recording/webhook", b"{}").json == {"received": True}
    assert call(app, "POST", "/api/payments/other/webhook", b"{}").status == 404
    svc.store.close()
