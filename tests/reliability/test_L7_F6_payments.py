"""L7 and F6: Stripe events in any order and any number, and a Stripe API that fails or stalls.

The fake Stripe API and the signing helper are those of tests/test_orders_stripe.py (a local
server that records every request and keeps one session per Idempotency-Key, as Stripe does).
"""

from __future__ import annotations

import json
import random
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loadkit import check_invariants, run_together, tier
from reliability_shop import cart
from test_orders_stripe import (  # noqa: F401  (fixtures, used by name)
    CANCEL_URL,
    SECRET_KEY,
    SUCCESS_URL,
    WEBHOOK,
    WEBHOOK_SECRET,
    FakeStripe,
    fake_stripe,
    local_only,
    stripe_signature,
)
from wsgi_client import call, post_json

from generator.orders.app import OrderService, make_app
from generator.orders.config import ServiceConfig
from generator.orders.stripe import StripeHandler

pytestmark = pytest.mark.serial

PRICES = {"tea": 10000}
STOCK = 1000
#: How a session's life looks to us, and where the order must end whatever the delivery order.
SCENARIOS: dict[str, tuple[list[tuple[str, str]], str]] = {
    "card": ([("checkout.session.completed", "paid")], "paid"),
    "delayed, succeeded": ([("checkout.session.completed", "unpaid"),
                            ("checkout.session.async_payment_succeeded", "paid")], "paid"),
    "delayed, failed": ([("checkout.session.completed", "unpaid"),
                         ("checkout.session.async_payment_failed", "unpaid")], "cancelled"),
    "abandoned": ([("checkout.session.expired", "unpaid")], "cancelled"),
}  # fmt: skip
NOISE = ["payment_intent.created", "charge.succeeded", "checkout.session.async_payment_failed.unknown"]


def stripe_service(catalog: Path, database: str, api_base: str, **options: Any) -> OrderService:
    handler_options = {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET, "success_url": SUCCESS_URL,
                       "cancel_url": CANCEL_URL, "api_base": api_base, "timeout": 0.5, "backoff": 0.01,
                       **options}  # fmt: skip
    return OrderService(ServiceConfig(catalog=catalog, database=database, handler="stripe",
                                      handler_options=handler_options))  # fmt: skip


def session_events(order: dict[str, Any], scenario: str, total_events: int) -> list[dict[str, Any]]:
    """The signed-to-be events of one session: its scenario's events plus unrelated ones, `total_events` in all."""
    session = order["payment"]["session_id"]
    events = []
    kinds = SCENARIOS[scenario][0] + [(k, "unpaid") for k in NOISE]
    for kind, paid in kinds[:total_events]:
        obj = {"id": session, "object": "checkout.session", "client_reference_id": order["reference"],
               "metadata": {"reference": order["reference"]}, "amount_total": order["total"], "currency": "cny",
               "payment_status": paid}  # fmt: skip
        events.append({"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind, "data": {"object": obj}})
    return events


def deliver(app: Any, event: dict[str, Any]) -> int:
    body = json.dumps(event).encode()
    return call(app, "POST", WEBHOOK, body, {"Stripe-Signature": stripe_signature(body)}).status


def outbox_events(svc: OrderService) -> Counter[tuple[str, str]]:
    return Counter((row["reference"], row["event"]) for row in svc.store.outbox())


def test_L7_webhook_storm(make_shop: Callable[..., tuple[Path, Path]], tmp_path: Path, fake_stripe: FakeStripe) -> None:
    """L7 (storm). 250 Stripe sessions and 1,000 signed events (each session's own events plus
    unrelated ones), each delivered 1-4 times, shuffled, over 8 threads. Each paid order becomes
    paid exactly once; the outbox holds exactly 1 'order.paid' notification per paid order; every
    order ends as a sorted, sequential replay ends it; an expired or failed session gives its
    stock back exactly once (conservation holds)."""
    _, catalog = make_shop({"tea": (100, STOCK)})
    db = str(tmp_path / "l7.sqlite3")
    svc = stripe_service(catalog, db, fake_stripe.url)
    app = make_app(svc.config, svc)
    rng = random.Random("L7")
    names = list(SCENARIOS)
    orders, deliveries = [], []
    for i in range(250):
        res = post_json(app, "/api/orders", cart([("tea", 1)], PRICES), key=f"l7-{i}")
        assert res.status == 201, res.body
        scenario = names[i % 4]
        orders.append((res.json, scenario))
        for ev in session_events(res.json, scenario, 4):
            deliveries += [ev] * rng.randint(1, 4)
    rng.shuffle(deliveries)
    codes = run_together(len(deliveries), 8, lambda i: deliver(app, deliveries[i]))
    assert Counter(codes) == {200: len(deliveries)}
    events = outbox_events(svc)
    for order, scenario in orders:
        final = SCENARIOS[scenario][1]
        stored = svc.store.get(order["reference"])
        assert stored is not None and stored.status == final, (scenario, stored and stored.status)
        assert events[(order["reference"], "order.paid")] == (final == "paid")
        assert events[(order["reference"], "order.cancelled")] == (final == "cancelled")
    svc.store.close()
    check_invariants(db, {"tea": STOCK}, [{"reference": o["reference"], "total": o["total"]} for o, _ in orders])
    print(
        f"L7: 250 sessions, 1000 events, {len(deliveries)} deliveries over 8 threads: every order as the sorted "
        "replay, 1 paid notification per paid order, stock given back once per cancelled order"
    )


@settings(max_examples=tier(200, 200), derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(data=st.data())
def test_L7_any_permutation_ends_as_the_sorted_replay(data: st.DataObject,
                                                      make_shop: Callable[..., tuple[Path, Path]]) -> None:  # fmt: skip
    """L7 (permutations). Hypothesis draws 200 delivery orders of the four session lives (card,
    delayed succeeded, delayed failed, abandoned), every event delivered 1-4 times: each order ends
    as the sorted replay, with one paid (or cancelled) notification and stock given back once.
    The webhook handler is called directly (no HTTP) on a database in memory-backed storage."""
    _, catalog = make_shop({"tea": (100, STOCK)}, name="perm")
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as tmp:
        svc = OrderService(ServiceConfig(catalog=catalog, database=f"{tmp}/p.sqlite3"))  # manual: no Stripe call
        handler = StripeHandler(secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET, success_url=SUCCESS_URL,
                                cancel_url=CANCEL_URL)  # fmt: skip
        try:
            lives = []
            for i, scenario in enumerate(SCENARIOS):
                status, order = svc.create_order(cart([("tea", 1)], PRICES), f"p-{i}", f"p-{i}".encode())
                assert status == 201
                order["payment"] = {"session_id": f"cs_{i}"}
                lives.append((order, scenario, session_events(order, scenario, len(SCENARIOS[scenario][0]))))
            deliveries = [ev for _, _, evs in lives for ev in evs for _ in range(data.draw(st.integers(1, 4)))]
            for ev in data.draw(st.permutations(deliveries)):
                body = json.dumps(ev).encode()
                assert handler.webhook({"stripe-signature": stripe_signature(body)}, body, svc)[0] == 200
            events = outbox_events(svc)
            for order, scenario, _ in lives:
                final = SCENARIOS[scenario][1]
                stored = svc.store.get(order["reference"])
                assert stored is not None and stored.status == final
                assert events[(order["reference"], f"order.{final}")] == 1
            assert svc.store.stock()["tea"] == STOCK - 2  # two paid, two given back once
        finally:
            svc.store.close()


@pytest.mark.parametrize("failure", ["500", "429", "timeout", "down"])
def test_F6_payment_provider_faults(
    failure: str,
    make_shop: Callable[..., tuple[Path, Path]],
    tmp_path: Path,
    fake_stripe: FakeStripe,
) -> None:
    """F6. The fake Stripe times out or answers 500/429 on Checkout Session create (the first 2
    calls, or every call: 'down'), for 20 orders from 8 threads. Every retry for one order carries
    the same Idempotency-Key; <= 1 session per order; when Stripe stays down the client gets a
    retryable 503 (payment_unavailable, Retry-After) and the order's stock is back. Then each
    session expires (checkout.session.expired, delivered twice): reserved stock is released
    exactly once and conservation holds. Stripe's 24 h expiry reaches the service only as that
    event (the service sends expires_at; it keeps no clock of its own), so no clock is faked."""
    if failure == "timeout":
        fake_stripe.slow_first, fake_stripe.sleep = 2, 2.0
    elif failure == "down":
        fake_stripe.fail_first, fake_stripe.fail_status = 10_000, 503
    else:
        fake_stripe.fail_first, fake_stripe.fail_status = 2, int(failure)
    _, catalog = make_shop({"tea": (100, STOCK)})
    db = str(tmp_path / "f6.sqlite3")
    svc = stripe_service(catalog, db, fake_stripe.url, timeout=0.3)
    app = make_app(svc.config, svc)
    results = run_together(20, 8, lambda i: post_json(app, "/api/orders", cart([("tea", 1)], PRICES), key=f"f6-{i}"))
    by_key: dict[str, set[str]] = {}
    for r in fake_stripe.requests:
        by_key.setdefault(r.form["client_reference_id"], set()).add(r.headers["Idempotency-Key"])
    assert all(len(keys) == 1 for keys in by_key.values()), "one Idempotency-Key per order"
    sessions_per_order = Counter(k.removeprefix("micromall-checkout-") for k in fake_stripe.sessions)
    assert all(n <= 1 for n in sessions_per_order.values())
    if failure == "down":
        assert {(r.status, r.json["error"]["code"]) for r in results} == {(503, "payment_unavailable")}
        assert all(r.headers["Retry-After"].isdigit() for r in results)
        assert svc.store.stock()["tea"] == STOCK and all(o.status == "cancelled" for o in svc.store.orders())
    else:
        assert {r.status for r in results} == {201}, [r.body for r in results]
        assert len(fake_stripe.sessions) == 20
        for r in results:  # every session expires; the event arrives twice
            expired = {"id": f"evt_{uuid.uuid4().hex}", "type": "checkout.session.expired", "data": {"object": {
                "id": r.json["payment"]["session_id"], "client_reference_id": r.json["reference"],
                "payment_status": "unpaid"}}}  # fmt: skip
            assert deliver(app, expired) == 200 and deliver(app, expired) == 200
        assert svc.store.stock()["tea"] == STOCK
    svc.store.close()
    check_invariants(db, {"tea": STOCK})
    print(
        f"F6 ({failure}): {len(fake_stripe.requests)} Stripe calls for 20 orders, 1 key per order, "
        f"{len(fake_stripe.sessions)} sessions, stock back to {STOCK}"
    )
