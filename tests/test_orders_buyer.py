"""The order service for the buyer's own space and the seller's selling tools: finding an order
by reference and email, sale windows on the service's clock, and group buys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from orders_fixtures import STANDARD, TEST_PRODUCTS, order_body, site_yml, write_catalog
from wsgi_client import call, post_json

from generator.orders.app import OrderService, make_app
from generator.orders.config import ServiceConfig

SHOP: dict[str, str | None] = {
    "site.yml": site_yml("Buyer Test Tea", STANDARD),
    "content/catalog/shop.yml": TEST_PRODUCTS.rstrip(" ")
    + """\
      - {id: pot, title: Clay teapot, price: 300, stock: 10, group_buy: {min_orders: 2, ends: 2026-12-10}}
      - {id: kettle, title: Kettle, price: 500, stock: 10, group_buy: {min_orders: 3, ends: "2026-12-10 20:00+08:00"}}
    """,
    "content/promotions.yml": """\
        timezone: "+08:00"
        promotions:
          - title: December tea sale
            text: 20% off our green tea.
            link: products/tea/
            starts: 2026-12-01
            ends: 2026-12-07
            products: [tea]
            percent: 20
          - {title: Gift wrapping is free, starts: 2026-11-01, ends: 2026-12-31}
        """,
}


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
    # the same answer, but for the correlation id every refusal carries
    assert wrong.body.replace(wrong.json["error"]["request_id"].encode(), b"") == unknown.body.replace(
        unknown.json["error"]["request_id"].encode(), b""
    )
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


def at(service: OrderService, when: str) -> None:
    """Set the service's clock (an ISO moment with its offset)."""
    moment = dt.datetime.fromisoformat(when)
    service.clock = lambda: moment


def test_a_sale_window_charges_the_sale_price_only_inside_the_window(app: Any, service: OrderService) -> None:
    full = 12800 + 2 * 3550 + 1000
    sale = 10240 + 2 * 3550 + 1000  # 20% off the tea only; the subtotal stays under free shipping
    cases = [
        ("2026-11-30T23:59:59+08:00", full),  # before: the window opens at midnight in the shop's time zone
        ("2026-12-01T00:00:00+08:00", sale),
        ("2026-12-07T23:59:59+08:00", sale),  # the whole of the last day
        ("2026-12-08T00:00:00+08:00", full),  # after
    ]
    for i, (when, total) in enumerate(cases):
        at(service, when)
        other = sale if total == full else full
        refused = post_json(app, "/api/orders", order_body(expected_total=other), key=f"wrong-{i}")
        assert refused.status == 409 and refused.json["error"]["total"] == total, (when, refused.body)
        placed = post_json(app, "/api/orders", order_body(expected_total=total), key=f"right-{i}")
        assert placed.status == 201, (when, placed.body)
        tea = placed.json["items"][0]
        assert tea["product"] == "tea" and tea["unit_price"] == (10240 if total == sale else 12800)
        stored = service.store.get(placed.json["reference"])
        assert stored is not None and stored.total == total and stored.items[0]["unit_price"] == tea["unit_price"]


def outbox_events(service: OrderService, reference: str) -> list[str]:
    return sorted(row["event"] for row in service.store.outbox() if row["reference"] == reference)


def test_a_group_buy_that_reaches_its_threshold_confirms_all_its_orders(app: Any, service: OrderService) -> None:
    at(service, "2026-12-05T12:00:00+00:00")
    pot = {"items": [{"product": "pot", "variant": None, "quantity": 1}], "expected_total": 30000 + 0}
    refs = []
    for i in range(2):
        res = post_json(app, "/api/orders", order_body(**pot), key=f"pot-{i}")
        assert res.status == 201, res.body
        assert res.json["status"] == "preorder"
        refs.append(res.json["reference"])
    progress = call(app, "GET", "/api/group-buys/pot").json
    assert progress == {"product": "pot", "min_orders": 2, "ends": "2026-12-11T00:00:00Z", "open": True,
                        "joined": 2, "outcome": None, "settled_at": None}  # fmt: skip
    mixed = {"items": pot["items"] + [{"product": "tea", "variant": None, "quantity": 1}], "expected_total": 1}
    res = post_json(app, "/api/orders", order_body(**mixed), key="mixed")
    assert res.status == 422 and res.json["error"]["field"] == "items"
    assert res.json["error"]["code"] == "group_buy_alone" and "Clay teapot" in res.json["error"]["message"]
    both = {"items": pot["items"] + [{"product": "kettle", "variant": None, "quantity": 1}], "expected_total": 1}
    res = post_json(app, "/api/orders", order_body(**both), key="two-group-buys")
    assert res.status == 422 and res.json["error"]["code"] == "group_buy_alone", "two group buys are two orders"

    assert service.settle_group_buys() == [], "nothing has ended yet"
    at(service, "2026-12-11T00:00:00+00:00")
    late = post_json(app, "/api/orders", order_body(**pot), key="late")
    assert late.status == 422 and late.json["error"]["code"] == "group_buy_closed"
    assert call(app, "GET", "/api/group-buys/pot").json["open"] is False
    settled = service.settle_group_buys()
    assert ("pot", "confirmed", refs) in settled
    for ref in refs:
        order = service.store.get(ref)
        assert order is not None and order.status == "confirmed"
        assert outbox_events(service, ref) == ["order.confirmed", "order.created"]
    assert service.settle_group_buys() == [], "settling again changes nothing"
    assert all(outbox_events(service, ref).count("order.confirmed") == 1 for ref in refs)
    progress = call(app, "GET", "/api/group-buys/pot").json
    assert progress["outcome"] == "confirmed" and progress["joined"] == 2
    # a confirmed order goes on like any other
    assert service.store.set_status(refs[0], "paid").status == "paid"


def test_a_group_buy_short_of_its_threshold_cancels_its_orders_and_gives_the_stock_back(
    app: Any, service: OrderService
) -> None:
    at(service, "2026-12-10T11:00:00+00:00")
    kettle = {"items": [{"product": "kettle", "variant": None, "quantity": 2}], "expected_total": 100000}
    refs = [post_json(app, "/api/orders", order_body(**kettle), key=f"k-{i}").json["reference"] for i in range(2)]
    assert service.store.stock()["kettle"] == 6
    at(service, "2026-12-10T12:00:00+00:00")  # 20:00 in +08:00: the end
    settled = service.settle_group_buys()
    assert ("kettle", "cancelled", refs) in settled
    assert service.store.stock()["kettle"] == 10
    for ref in refs:
        order = service.store.get(ref)
        assert order is not None and order.status == "cancelled"
        assert outbox_events(service, ref) == ["order.cancelled", "order.created"]
        row = next(r for r in service.store.outbox() if r["reference"] == ref and r["event"] == "order.cancelled")
        assert row["done_at"] is None  # waiting for the outbox worker
    assert service.settle_group_buys() == []
    assert service.store.stock()["kettle"] == 10, "settling again gives nothing back twice"
    assert call(app, "GET", "/api/group-buys/kettle").json["outcome"] == "cancelled"
    assert call(app, "GET", "/api/group-buys/tea").status == 404


def test_the_seller_settles_from_cron_and_pastes_the_participant_list(tmp_path: Path, cli: Callable[..., Any]) -> None:
    site = tmp_path / "site"
    products = str(SHOP["content/catalog/shop.yml"]).replace("2026-12-10", "2025-12-10")
    shop = {**SHOP, "content/catalog/shop.yml": products}
    catalog = write_catalog(site, shop)
    svc = OrderService(ServiceConfig(catalog=catalog, database=str(site / "orders.sqlite3")))
    at(svc, "2025-12-09T10:00:00+00:00")  # the orders come in before the group buy ends
    app = make_app(svc.config, svc)
    buyers = [("Li Wei", "+86 138 1234 5678"), ("王小明", "13900001111")]
    refs = []
    for i, (name, phone) in enumerate(buyers):
        customer = {"name": name, "phone": phone, "email": f"b{i}@example.com", "address": "1 Rd"}
        body = order_body(items=[{"product": "pot", "variant": None, "quantity": i + 1}], customer=customer,
                          expected_total=(i + 1) * 30000)  # fmt: skip
        res = post_json(app, "/api/orders", body, key=f"p{i}")
        assert res.status == 201, res.body
        refs.append(res.json["reference"])
    svc.store.close()

    listed = cli("orders", "export", str(site), "--group-buy", "pot")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0] == "Clay teapot: group buy, 2 of 2 joined (until 2025-12-11 00:00 UTC)"
    assert lines[2] == f"1. L* W**  138****5678  x1  {refs[0][-4:]}"
    assert lines[3] == f"2. 王**  139****1111  x2  {refs[1][-4:]}"
    assert "Li Wei" not in listed.output and "5678" in listed.output and "1234" not in listed.output
    assert cli("orders", "export", str(site), "--group-buy", "tea").exit_code != 0
    assert cli("orders", "export", str(site)).exit_code != 0, "--csv or --group-buy"

    # by the real clock both group buys have ended: pot has its 2, kettle nobody
    first = cli("orders", "settle-group-buys", str(site))
    assert first.exit_code == 0, first.output
    assert f"pot: confirmed, 2 order(s): {refs[0]} {refs[1]}" in first.output
    assert "kettle: cancelled, 0 order(s)" in first.output
    again = cli("orders", "settle-group-buys", str(site))
    assert again.exit_code == 0 and again.output.strip() == "No group buy to settle."
    shown = cli("orders", "show", str(site), refs[0])
    assert "confirmed" in shown.output
    assert "it goes ahead" in cli("orders", "export", str(site), "--group-buy", "pot").output


def test_the_running_service_settles_on_its_own_clock(app: Any, service: OrderService) -> None:
    import time

    from generator.orders.app import GroupBuySettler

    at(service, "2026-12-09T00:00:00+00:00")
    pot = {"items": [{"product": "pot", "variant": None, "quantity": 1}], "expected_total": 30000}
    ref = post_json(app, "/api/orders", order_body(**pot), key="pot").json["reference"]
    settler = GroupBuySettler(service, interval=0.05)
    settler.start()
    try:
        time.sleep(0.2)
        assert service.store.get(ref).status == "preorder", "not ended yet"  # type: ignore[union-attr]
        at(service, "2026-12-11T00:00:00+00:00")
        deadline = time.monotonic() + 10
        while service.store.group_buy("pot")["outcome"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        settler.stop()
        settler.join(timeout=5)
    assert service.store.group_buy("pot")["outcome"] == "cancelled"  # 1 of 2 joined
    assert service.store.get(ref).status == "cancelled"  # type: ignore[union-attr]


def test_the_answers_match_docs_openapi(app: Any, service: OrderService) -> None:
    import yaml
    from test_openapi import SPEC_FILE, check

    spec = yaml.safe_load(SPEC_FILE.read_text("utf-8"))
    at(service, "2026-11-20T00:00:00+00:00")  # before the tea sale; the group buys are open
    placed = post_json(app, "/api/orders", order_body())
    check(spec, placed, "post", "/api/orders")
    pot = {"items": [{"product": "pot", "variant": None, "quantity": 1}], "expected_total": 30000}
    preorder = post_json(app, "/api/orders", order_body(**pot), key="pot")
    check(spec, preorder, "post", "/api/orders")
    found = lookup(app, {"reference": placed.json["reference"], "email": "li@example.com"})
    for res in (found, lookup(app, {"reference": "MM-NONE", "email": "x@y.cn"}), lookup(app, {"email": 1})):
        check(spec, res, "post", "/api/orders/lookup")
    assert [found.status] == [200]
    for product in ("pot", "tea"):
        check(spec, call(app, "GET", f"/api/group-buys/{product}"), "get", "/api/group-buys/{product}")
    at(service, "2026-12-12T00:00:00+00:00")
    service.settle_group_buys()
    settled = call(app, "GET", "/api/group-buys/pot")
    assert settled.json["outcome"] == "cancelled"
    check(spec, settled, "get", "/api/group-buys/{product}")
    closed = post_json(app, "/api/orders", order_body(**pot), key="late")
    check(spec, closed, "post", "/api/orders")
    view = call(
        app, "GET", f"/api/orders/{preorder.json['reference']}", headers={"X-Order-Token": preorder.json["token"]}
    )
    assert view.json["status"] == "cancelled"
    check(spec, view, "get", "/api/orders/{reference}")
