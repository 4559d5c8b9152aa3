"""B1-B3: tampered, malformed and arithmetic-heavy orders against the order service (in-process).

Plan criteria, not loosened:
- B1: every accepted order's stored total = the catalog-computed total; any unknown field ->
  422 invalid_field naming it; 0 5xx.
- B2: each malformed quantity/variant/option/shipping/size -> 422 with a field path; 0 5xx; valid
  orders carry server-derived prices and shipping cost; a client-given cost is never used.
- B3: money is integer minor units (no float columns); lines - discount + shipping = total
  exactly, never negative; rounding follows the one documented rule (half up, to the minor unit).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from orders_fixtures import CUSTOMER, order_body
from shop import COUPONS
from support import count, shop, shop_catalog  # noqa: F401  (fixtures)
from wsgi_client import call, post_json

from generator.orders.catalog import Catalog, Sellable, Shipping
from generator.orders.pricing import MAX_LINES, MAX_QUANTITY, OrderError, percent_of, price_order, to_minor

REPO = Path(__file__).resolve().parents[2]
PRICES = {("tea", None): 12800, ("cup", "s"): 3000, ("cup", "m"): 3550, ("odd", None): 99, ("big", None): 999999}
SHIPPING = {"standard": (1000, 20000), "express": (2550, None)}
TAMPER = ["price", "unit_price", "total", "discount", "status", "paid", "shipping_cost", "catalog_hash", "line_total"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def catalog_total(items: list[dict[str, Any]], shipping: str, coupon: str = "") -> int:
    """The total computed from the shop's table above, independently of pricing.py."""
    subtotal = sum(PRICES[(i["product"], i.get("variant"))] * i["quantity"] for i in items)
    price, free_over = SHIPPING[shipping]
    discount = 0
    if coupon:
        c = COUPONS[coupon]
        if c.percent_off is not None:
            discount = int(Fraction(subtotal * c.percent_off, 100) + Fraction(1, 2))
        else:
            discount = min(int((c.amount_off or 0) * 100), subtotal)
    shipping_cost = 0 if free_over is not None and subtotal >= free_over else price
    return subtotal - discount + shipping_cost


def stored_totals(db: str) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT total FROM orders")]


# -- B1 ------------------------------------------------------------------------------------------


@st.composite
def tampered(draw: st.DrawFn) -> tuple[dict[str, Any], str | None]:
    """An otherwise valid order with extra or changed fields; returns (body, unknown field path)."""
    lines = draw(st.lists(st.sampled_from(sorted(PRICES, key=str)), min_size=1, max_size=4, unique=True))
    items = [{"product": p, "variant": v, "quantity": draw(st.integers(1, 3))} for p, v in lines]
    shipping = draw(st.sampled_from(sorted(SHIPPING)))
    coupon = draw(st.sampled_from(["", "TEN", "FIVE", "THIRD"]))
    body = order_body(items=items, shipping=shipping, coupon=coupon,
                      expected_total=catalog_total(items, shipping, coupon))  # fmt: skip
    where = draw(st.sampled_from(["none", "top", "item", "customer", "change"]))
    name = draw(st.sampled_from(TAMPER) | st.text(min_size=1, max_size=10))
    value = draw(json_values)
    if where == "top" and name not in body:
        body[name] = value
        return body, name
    if where == "item" and name not in items[0]:
        items[0][name] = value
        return body, f"items[0].{name}"
    if where == "customer" and name not in body["customer"]:
        body["customer"][name] = value
        return body, f"customer.{name}"
    if where == "change":
        body["expected_total"] = draw(st.integers(0, 10**7))  # a client-chosen total is only compared
    return body, None


def test_B1_price_and_field_tampering(shop: Any) -> None:
    """B1: 1,000 tampered carts: stored total = catalog total; unknown field -> 422 naming it; 0 5xx."""
    service, app = shop
    seen = {"accepted": 0, "unknown_field": 0, "price_changed": 0}
    n = [0]

    @settings(max_examples=count(1000, 1000))
    @given(tampered())
    def run(case: tuple[dict[str, Any], str | None]) -> None:
        body, unknown = case
        n[0] += 1
        res = post_json(app, "/api/orders", body, key=f"b1-{n[0]}")
        assert res.status < 500 and b"Traceback" not in res.body, res.body
        if unknown is not None:
            assert res.status == 422 and res.json["error"]["code"] == "invalid_field", res.body
            assert res.json["error"]["field"] == unknown
            seen["unknown_field"] += 1
            return
        if res.status == 201:
            expected = catalog_total(body["items"], body["shipping"], body["coupon"])
            assert res.json["total"] == expected == body["expected_total"]
            stored = service.store.get(res.json["reference"])
            assert stored is not None and stored.total == expected
            seen["accepted"] += 1
        elif res.json["error"]["code"] == "out_of_stock":  # tea and cup/s run out over 1,000 orders
            assert res.status == 409
        else:
            assert res.status == 409 and res.json["error"]["code"] == "price_changed", res.body
            assert res.json["error"]["total"] == catalog_total(body["items"], body["shipping"], body["coupon"])
            seen["price_changed"] += 1

    run()
    assert all(seen.values()), seen  # every branch was exercised
    print(f"B1: {n[0]} examples, 0 5xx, {seen}")


# -- B2 ------------------------------------------------------------------------------------------

BAD_QUANTITIES = [0, -1, 1.5, "1", True, 10**9, float("nan"), MAX_QUANTITY + 1, None, [1], {"n": 1}, 1e9]


@pytest.mark.parametrize("quantity", BAD_QUANTITIES, ids=repr)
def test_B2_bad_quantities(shop: Any, quantity: Any) -> None:
    """B2: each bad quantity -> 422 with the field path items[0].quantity; 0 5xx."""
    _, app = shop
    raw = json.dumps(order_body(items=[{"product": "tea", "variant": None, "quantity": quantity}]))
    res = call(app, "POST", "/api/orders", raw.encode(), {"Idempotency-Key": "b2"})
    assert res.status == 422 and res.json["error"]["field"] == "items[0].quantity", res.body


B2_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "too many lines": (order_body(items=[{"product": "tea", "quantity": 1}] * (MAX_LINES + 1)), "items"),
    "merged lines over the max": (
        order_body(items=[{"product": "tea", "quantity": 60}, {"product": "tea", "quantity": 60}]),
        "items[1].quantity",
    ),
    "unknown variant": (order_body(items=[{"product": "cup", "variant": "xl", "quantity": 1}]), "items[0].variant"),
    "variant left out": (order_body(items=[{"product": "cup", "quantity": 1}]), "items[0].variant"),
    "option instead of variant": (
        order_body(items=[{"product": "cup", "variant": "m", "quantity": 1, "options": {"size": "M"}}]),
        "items[0].options",
    ),
    "unknown product": (order_body(items=[{"product": "nope", "quantity": 1}]), "items[0].product"),
    "unknown shipping": (order_body(shipping="teleport"), "shipping"),
    "shipping as an object with cost 0": (order_body(shipping={"id": "standard", "cost": 0}), "shipping"),
    "shipping_cost given": (order_body(shipping_cost=0), "shipping_cost"),
    "pickup without store": (order_body(shipping="pickup"), "store"),
    "store on delivery": (order_body(store="lake"), "store"),
}


@pytest.mark.parametrize("name", B2_CASES)
def test_B2_variant_option_and_shipping_tampering(shop: Any, name: str) -> None:
    """B2: each tampered line or shipping choice -> 422 with a field path; 0 5xx."""
    _, app = shop
    body, field = B2_CASES[name]
    res = post_json(app, "/api/orders", body, key="b2-" + name.replace(" ", "-"))
    assert res.status == 422 and res.json["error"]["field"] == field, res.body


def test_B2_shipping_cost_and_prices_come_from_the_server(shop: Any) -> None:
    """B2: a valid order carries the catalog's prices and shipping cost, whatever the client believed."""
    service, app = shop
    items = [{"product": "odd", "variant": None, "quantity": 3}]
    res = post_json(app, "/api/orders", order_body(items=items, shipping="express", expected_total=297 + 2550))
    assert res.status == 201, res.body
    assert (res.json["shipping_cost"], res.json["items"][0]["unit_price"], res.json["total"]) == (2550, 99, 2847)
    stored = service.store.get(res.json["reference"])
    assert stored is not None and stored.total == 2847


# -- B3 ------------------------------------------------------------------------------------------

#: (amount in minor units, percent, discount): the one rule, half up to the minor unit.
ROUNDING_GOLDEN = [
    (0, 10, 0),
    (1, 10, 0),
    (5, 10, 1),
    (4, 10, 0),
    (15, 10, 2),
    (14, 10, 1),
    (25, 10, 3),
    (35, 10, 4),
    (45, 10, 5),
    (95, 10, 10),
    (1, 50, 1),
    (3, 50, 2),
    (5, 50, 3),
    (7, 50, 4),
    (99, 50, 50),
    (1, 33, 0),
    (2, 33, 1),
    (3, 33, 1),
    (50, 33, 17),
    (150, 33, 50),
    (151, 33, 50),
    (152, 33, 50),
    (1999, 33, 660),
    (1, 1, 0),
    (50, 1, 1),
    (49, 1, 0),
    (150, 1, 2),
    (249, 1, 2),
    (250, 1, 3),
    (12800, 15, 1920),
    (1990, 15, 299),
    (1990, 5, 100),
    (1989, 5, 99),
    (1999, 25, 500),
    (1998, 25, 500),
    (1997, 25, 499),
    (3, 25, 1),
    (2, 25, 1),
    (1, 25, 0),
    (7, 75, 5),
    (6, 75, 5),
    (5, 75, 4),
    (999999, 99, 989999),
    (999999, 100, 999999),
    (100, 100, 100),
    (1, 100, 1),
    (333, 3, 10),
    (350, 3, 11),
    (1650, 3, 50),
    (1683, 3, 50),
]


def test_B3_rounding_golden_table() -> None:
    """B3: 50 edge cases of the documented rule: a percentage discount rounds half up to the minor unit."""
    assert len(ROUNDING_GOLDEN) == 50
    for amount, percent, discount in ROUNDING_GOLDEN:
        assert percent_of(amount, percent) == discount, (amount, percent)
    # prices and fixed amounts with 2 or 3 decimals become minor units exactly, half up beyond that
    cases = [("19.99", 2), ("0.005", 2), ("0.004", 2), ("1.2345", 3), ("7.5", 0), ("6.5", 0), ("0.001", 3)]
    assert [to_minor(Decimal(v), d) for v, d in cases] == [1999, 1, 0, 1235, 8, 7, 1]


def shop_with(currency: str, digits: int, prices: list[int], shipping: int, free_over: int | None) -> Catalog:
    sellables = {f"p{i}": Sellable(f"p{i}", f"p{i}", None, f"P{i}", price, None) for i, price in enumerate(prices)}
    return Catalog(
        hash="sha256:" + "0" * 64, currency=currency, minor_digits=digits, base_url="https://x.example/",
        title="t", sellables=sellables, products=frozenset(sellables), product_variants={},
        shipping={"s": Shipping("s", "S", shipping, free_over, False)}, stores={}, payment_instructions="",
    )  # fmt: skip


CURRENCIES = [("JPY", 0), ("CNY", 2), ("USD", 2), ("KWD", 3), ("BHD", 3)]


@st.composite
def carts(draw: st.DrawFn) -> tuple[Catalog, dict[str, Any], dict[str, Any]]:
    currency, digits = draw(st.sampled_from(CURRENCIES))
    # prices written with up to `digits` decimals, as the owner writes them, turned into minor units
    prices = draw(st.lists(st.integers(0, 10**7), min_size=1, max_size=5))
    catalog = shop_with(currency, digits, prices, draw(st.integers(0, 10**5)),
                        draw(st.none() | st.integers(0, 10**8)))  # fmt: skip
    lines = draw(st.lists(st.sampled_from(sorted(catalog.sellables)), min_size=1, max_size=5, unique=True))
    items = [{"product": p, "quantity": draw(st.integers(1, MAX_QUANTITY))} for p in lines]
    kind = draw(st.sampled_from(["none", "percent", "amount"]))
    coupons: dict[str, Any] = {}
    code = ""
    if kind == "percent":
        coupons["C"] = COUPONS["TEN"].__class__("C", percent_off=draw(st.integers(1, 100)))
        code = "C"
    elif kind == "amount":
        amount = Decimal(draw(st.integers(0, 10**8))).scaleb(-draw(st.integers(0, 3)))
        coupons["C"] = COUPONS["TEN"].__class__("C", amount_off=amount)
        code = "C"
    body = {"items": items, "shipping": "s", "customer": dict(CUSTOMER), "coupon": code, "expected_total": -1}
    return catalog, body, coupons


def test_B3_money_arithmetic() -> None:
    """B3: 10,000 carts (2,000 in CI: generating one costs about 9 ms) over 5 currencies (0, 2 and 3
    decimals) with % and fixed coupons:
    subtotal - discount + shipping = total exactly, nothing negative, the discount by the one rule."""
    n = [0]

    @settings(max_examples=count(2_000, 10_000))
    @given(carts())
    def run(case: tuple[Catalog, dict[str, Any], dict[str, Any]]) -> None:
        catalog, body, coupons = case
        n[0] += 1
        with pytest.raises(OrderError) as refused:
            price_order(body, catalog, coupons, dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
        assert refused.value.code == "price_changed"  # expected_total -1 is never right
        total = refused.value.extra["total"]
        body["expected_total"] = total
        order = price_order(body, catalog, coupons, dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
        subtotal = sum(catalog.sellables[i["product"]].price * i["quantity"] for i in body["items"])
        assert order.subtotal == subtotal == sum(line.total for line in order.lines)
        coupon = coupons.get("C")
        if coupon is None:
            expected_discount = 0
        elif coupon.percent_off is not None:
            exact = Fraction(subtotal * coupon.percent_off, 100)
            expected_discount = int(exact) + (1 if exact - int(exact) >= Fraction(1, 2) else 0)
        else:
            minor = (coupon.amount_off.scaleb(catalog.minor_digits)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            expected_discount = min(int(minor), subtotal)
        assert order.discount == expected_discount
        assert order.total == order.subtotal - order.discount + order.shipping_cost == total
        assert min(order.total, order.discount, order.shipping_cost, order.subtotal) >= 0
        assert all(type(v) is int for v in (order.total, order.discount, order.shipping_cost, order.subtotal))

    run()
    print(f"B3: {n[0]} carts, 0 mismatches")


def test_B3_no_money_column_is_a_float(shop: Any) -> None:
    """B3: the schema stores money as integers: no REAL/FLOAT/DOUBLE/NUMERIC column in SQLite or PostgreSQL DDL."""
    service, _ = shop
    with sqlite3.connect(service.config.database) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        columns = [(t, c[1], c[2].upper()) for t in tables for c in conn.execute(f"PRAGMA table_info({t})")]
    money = [c for c in columns if any(w in c[1] for w in ("total", "price", "cost", "discount", "amount"))]
    assert len(money) >= 6, money
    assert all(kind in ("INTEGER", "BIGINT") for _, _, kind in money), money
    float_money = re.compile(r"\w*(total|price|cost|discount|amount)\w*\s+(REAL|FLOAT|DOUBLE|NUMERIC|DECIMAL)", re.I)
    for name in ("store.py", "store_postgres.py", "store_sqlite.py"):
        ddl = (REPO / "generator" / "orders" / name).read_text("utf-8")
        assert float_money.search(ddl) is None, name
        assert re.search(r"\bsubtotal BIGINT NOT NULL", ddl) or name != "store.py"
