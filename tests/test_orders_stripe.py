"""The stripe checkout handler against a local fake of Stripe's API (never stripe.com).

The fake is a real HTTP server on 127.0.0.1 that records every request, creates at most one
session per Idempotency-Key as Stripe does, and can fail or stall its first calls. Webhook
payloads are signed here by Stripe's documented scheme, not by the handler's own code.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

import pytest
from orders_fixtures import STANDARD, TEST_PRODUCTS, order_body, site_yml, write_catalog
from wsgi_client import Response, call, post_json

from generator.orders.app import OrderService, make_app
from generator.orders.config import ServiceConfig
from generator.orders.handlers import HandlerError, load_handler
from generator.orders.pricing import Coupon
from generator.orders.store import Busy
from generator.orders.stripe import StripeHandler

SECRET_KEY = "sk_test_micromall"
WEBHOOK_SECRET = "whsec_test_micromall"
WEBHOOK = "/api/payments/stripe/webhook"
SUCCESS_URL = "https://shop.example.com/order/?ref={reference}&session={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://shop.example.com/checkout/?cancelled={reference}"

SHOP: dict[str, str | None] = {
    "site.yml": site_yml("Stripe Test Tea", STANDARD, payment=None),
    "content/catalog/shop.yml": TEST_PRODUCTS,
}
COUPONS = {"ONCE": Coupon("ONCE", percent_off=10, once_per_customer=True)}


# -- a fake Stripe API ---------------------------------------------------------------------------


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class FakeStripe:
    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)  # by Idempotency-Key, as Stripe keeps them
    fail_first: int = 0  # answer the first N calls with fail_status
    fail_status: int = 500
    slow_first: int = 0  # create the session but answer the first N calls only after `sleep` seconds
    sleep: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


def stripe_api(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen = Seen(self.path, dict(self.headers.items()), dict(parse_qsl(raw.decode(), keep_blank_values=True)))
            with fake.lock:
                number = len(fake.requests)
                fake.requests.append(seen)
            if number < fake.fail_first:
                kind = "rate_limit_error" if fake.fail_status == 429 else "api_error"
                return self.answer(fake.fail_status, {"error": {"type": kind, "message": "try later"}})
            if self.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
                return self.answer(401, {"error": {"type": "invalid_request_error", "message": "bad key"}})
            key = self.headers.get("Idempotency-Key") or uuid.uuid4().hex
            with fake.lock:
                if key not in fake.sessions:
                    sid = f"cs_test_{len(fake.sessions) + 1}"
                    fake.sessions[key] = {"id": sid, "object": "checkout.session",
                                          "url": f"https://checkout.stripe.test/c/pay/{sid}"}  # fmt: skip
                session = fake.sessions[key]
            if number < fake.slow_first:
                fake.stopping.wait(fake.sleep)  # the session exists; its answer comes too late
            self.answer(200, session)

        def answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    server = ThreadingHTTPServer(("127.0.0.1", 0), stripe_api(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    fake.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def local_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every HTTP request a test makes goes to 127.0.0.1: never to stripe.com."""
    real = urllib.request.urlopen

    def guarded(request: Any, *args: Any, **kwargs: Any) -> Any:
        url = request.full_url if isinstance(request, urllib.request.Request) else str(request)
        assert urlsplit(url).hostname == "127.0.0.1", url
        return real(request, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded)


# -- the service ---------------------------------------------------------------------------------


@pytest.fixture
def make_service(
    catalog_path: Path, service_factory: Callable[..., OrderService], fake_stripe: FakeStripe
) -> Callable[..., OrderService]:
    def make(**options: Any) -> OrderService:
        handler_options = {
            "secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET, "success_url": SUCCESS_URL,
            "cancel_url": CANCEL_URL, "api_base": fake_stripe.url, "timeout": 0.5, "backoff": 0.01, **options,
        }  # fmt: skip
        return service_factory(catalog_path, handler="stripe", handler_options=handler_options, coupons=COUPONS)

    return make


def handler(service: OrderService) -> StripeHandler:
    return cast(StripeHandler, service.handler)


def place(app: Any, key: str = "key-1", **changes: Any) -> dict[str, Any]:
    res = post_json(app, "/api/orders", order_body(**changes), key=key)
    assert res.status == 201, res.body
    return cast(dict[str, Any], res.json)


# -- signing webhook events as Stripe does -------------------------------------------------------


def stripe_signature(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's documented scheme: t=<unix time>,v1=hex(HMAC-SHA256(secret, "<t>.<raw body>"))."""
    t = int(time.time()) if timestamp is None else timestamp
    v1 = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={v1}"


def event(kind: str, order: dict[str, Any], event_id: str | None = None, **session: Any) -> dict[str, Any]:
    obj = {
        "id": order["payment"]["session_id"], "object": "checkout.session", "client_reference_id": order["reference"],
        "metadata": {"reference": order["reference"]}, "amount_total": order["total"], "currency": "cny",
        "payment_status": "paid" if kind != "checkout.session.expired" else "unpaid", **session,
    }  # fmt: skip
    return {"id": event_id or f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind, "data": {"object": obj}}


def deliver(app: Any, payload: dict[str, Any] | bytes, signature: str | None = "sign") -> Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = (
        {} if signature is None else {"Stripe-Signature": stripe_signature(body) if signature == "sign" else signature}
    )
    return call(app, "POST", WEBHOOK, body, headers)


def status_of(service: OrderService, reference: str) -> str:
    found = service.store.get(reference)
    assert found is not None
    return found.status


# -- creating the Checkout Session ---------------------------------------------------------------


def test_an_order_redirects_to_a_checkout_session(app: Any, service: OrderService, fake_stripe: FakeStripe) -> None:
    doc = place(app)
    ref = doc["reference"]
    assert doc["status"] == "pending_payment"
    assert doc["payment"] == {"handler": "stripe", "instructions": "", "session_id": "cs_test_1",
                              "redirect_url": "https://checkout.stripe.test/c/pay/cs_test_1"}  # fmt: skip
    (seen,) = fake_stripe.requests
    assert seen.path == "/v1/checkout/sessions"
    assert seen.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert seen.headers["Idempotency-Key"] == f"micromall-checkout-{ref}"
    assert seen.form == {
        "mode": "payment",
        "client_reference_id": ref,
        "metadata[reference]": ref,
        "success_url": f"https://shop.example.com/order/?ref={ref}&session={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"https://shop.example.com/checkout/?cancelled={ref}",
        "line_items[0][price_data][currency]": "cny",
        "line_items[0][price_data][unit_amount]": "12800",
        "line_items[0][price_data][product_data][name]": "Green tea",
        "line_items[0][quantity]": "1",
        "line_items[1][price_data][currency]": "cny",
        "line_items[1][price_data][unit_amount]": "3550",
        "line_items[1][price_data][product_data][name]": doc["items"][1]["title"],
        "line_items[1][quantity]": "2",
        "line_items[2][price_data][currency]": "cny",
        "line_items[2][price_data][unit_amount]": "1000",
        "line_items[2][price_data][product_data][name]": "Shipping: Standard",
        "line_items[2][quantity]": "1",
    }
    assert doc["total"] == 12800 + 2 * 3550 + 1000
    assert service.store.stock()["tea"] == 49
    view = call(app, "GET", f"/api/orders/{ref}", headers={"X-Order-Token": doc["token"]})
    assert view.json["payment"] == doc["payment"]
    again = post_json(app, "/api/orders", order_body(), key="key-1")
    assert again.status == 201 and again.json == doc, "a retried submission gets the same session"
    assert len(fake_stripe.requests) == 1


def test_a_discount_becomes_one_line_for_the_total(app: Any, fake_stripe: FakeStripe) -> None:
    tea = [{"product": "tea", "variant": None, "quantity": 2}]  # 256.00: free shipping
    plain = place(app, "k1", items=tea, expected_total=25600)
    assert [v for k, v in fake_stripe.requests[0].form.items() if k.endswith("[unit_amount]")] == ["12800"]
    assert fake_stripe.requests[0].form["line_items[0][quantity]"] == "2", "no shipping line when shipping is free"
    discounted = place(app, "k2", items=tea, coupon="ONCE", expected_total=25600 - 2560)
    form = fake_stripe.requests[1].form
    assert {k: v for k, v in form.items() if k.startswith("line_items")} == {
        "line_items[0][price_data][currency]": "cny",
        "line_items[0][price_data][unit_amount]": "23040",
        "line_items[0][price_data][product_data][name]": f"Order {discounted['reference']}",
        "line_items[0][quantity]": "1",
    }
    assert plain["payment"]["session_id"] != discounted["payment"]["session_id"]


def test_expires_at_comes_from_the_order_time(make_service: Callable[..., OrderService],
                                              fake_stripe: FakeStripe) -> None:  # fmt: skip
    svc = make_service(expires_in=3600)
    doc = place(make_app(svc.config, svc))
    created = doc["created_at"]
    import datetime as dt

    stamp = int(dt.datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp())
    assert fake_stripe.requests[0].form["expires_at"] == str(stamp + 3600)


@pytest.mark.parametrize("failure", ["500", "429", "timeout"])
def test_retries_reuse_the_idempotency_key_and_make_one_session(
    failure: str, make_service: Callable[..., OrderService], fake_stripe: FakeStripe
) -> None:
    if failure == "timeout":
        fake_stripe.slow_first, fake_stripe.sleep = 1, 3.0
    else:
        fake_stripe.fail_first, fake_stripe.fail_status = 2, int(failure)
    svc = make_service(timeout=0.3)
    doc = place(make_app(svc.config, svc))
    assert len(fake_stripe.requests) == (2 if failure == "timeout" else 3)
    assert {r.headers["Idempotency-Key"] for r in fake_stripe.requests} == {f"micromall-checkout-{doc['reference']}"}
    assert len({json.dumps(r.form, sort_keys=True) for r in fake_stripe.requests}) == 1, "the same parameters"
    assert len(fake_stripe.sessions) == 1
    assert doc["payment"]["session_id"] == "cs_test_1"


@pytest.mark.parametrize(("fail_status", "calls"), [(500, 4), (400, 1), (401, 1)])
def test_a_failing_stripe_cancels_the_order_and_gives_everything_back(
    fail_status: int, calls: int, app: Any, service: OrderService, fake_stripe: FakeStripe
) -> None:
    fake_stripe.fail_first, fake_stripe.fail_status = 1000, fail_status
    body = order_body(coupon="ONCE", expected_total=19900 - 1990 + 1000)
    res = post_json(app, "/api/orders", body, key="attempt-1")
    assert res.status == 503 and res.json["error"]["code"] == "payment_unavailable"
    assert res.headers["Retry-After"].isdigit()
    assert b"Traceback" not in res.body and SECRET_KEY.encode() not in res.body
    assert len(fake_stripe.requests) == calls, "network errors, 429 and 5xx are retried; other refusals are not"
    assert service.store.stock()["tea"] == 50, "the stock is given back"
    (cancelled,) = service.store.orders()
    assert cancelled.status == "cancelled"
    # Stripe is back: the buyer's retry with the same key and the same once-per-customer coupon works
    fake_stripe.fail_first = 0
    again = post_json(app, "/api/orders", body, key="attempt-1")
    assert again.status == 201, again.body
    assert again.json["reference"] != cancelled.reference and again.json["payment"]["redirect_url"]
    assert service.store.stock()["tea"] == 49
    assert post_json(app, "/api/orders", body, key="attempt-1").json == again.json


def test_a_request_that_failed_half_way_is_finished_by_its_retry(
    app: Any, service: OrderService, fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session was made but storing it failed (busy database): the retry gets that same session."""
    real = service.store.set_payment
    calls: list[str] = []

    def busy_once(reference: str, payment: dict[str, Any]) -> bool:
        calls.append(reference)
        if len(calls) == 1:
            raise Busy("database is locked")
        return real(reference, payment)

    monkeypatch.setattr(service.store, "set_payment", busy_once)
    first = post_json(app, "/api/orders", order_body())
    assert first.status == 503 and first.json["error"]["code"] == "retry"
    doc = place(app)
    assert doc["payment"]["session_id"] == "cs_test_1" and len(fake_stripe.sessions) == 1
    assert len(service.store.orders()) == 1 and service.store.stock()["tea"] == 49


def test_the_handler_is_loaded_by_name_and_checks_its_options(fake_stripe: FakeStripe) -> None:
    options = {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET, "success_url": SUCCESS_URL,
               "cancel_url": CANCEL_URL, "api_base": fake_stripe.url}  # fmt: skip
    loaded = load_handler("stripe", options)
    assert isinstance(loaded, StripeHandler) and loaded.name == "stripe" and loaded.needs_reference
    assert loaded.timeout == 10.0 and loaded.tolerance == 300.0
    assert StripeHandler(**{**options, "api_base": "https://api.stripe.com"}).api_base == "https://api.stripe.com"
    with pytest.raises(HandlerError, match="secret_key"):
        load_handler("stripe", {k: v for k, v in options.items() if k != "secret_key"})
    with pytest.raises(HandlerError, match="unexpected keyword argument 'colour'"):
        load_handler("stripe", {**options, "colour": "blue"})
    with pytest.raises(HandlerError, match="api_base must be an http"):
        load_handler("stripe", {**options, "api_base": "ftp://example.com"})


# -- webhook events ------------------------------------------------------------------------------


def test_a_signed_completed_event_marks_the_order_paid_once(app: Any, service: OrderService) -> None:
    doc = place(app)
    completed = event("checkout.session.completed", doc)
    res = deliver(app, completed)
    assert res.status == 200 and res.json == {"received": True, "result": "paid"}
    assert status_of(service, doc["reference"]) == "paid"
    outbox = len(service.store.outbox())
    replay = deliver(app, completed)
    assert replay.status == 200 and replay.json == {"received": True, "duplicate": True}
    assert status_of(service, doc["reference"]) == "paid" and len(service.store.outbox()) == outbox
    assert service.store.stock()["tea"] == 49


def test_a_late_payment_event_is_accepted_too(app: Any, service: OrderService) -> None:
    doc = place(app)
    assert deliver(app, event("checkout.session.async_payment_succeeded", doc)).json["result"] == "paid"
    assert status_of(service, doc["reference"]) == "paid"


def bad_signatures(body: bytes, now: int) -> dict[str, str | None]:
    good_v1 = stripe_signature(body, timestamp=now).split("v1=")[1]
    return {
        "wrong secret": stripe_signature(body, secret="whsec_someone_else", timestamp=now),
        "changed body byte": stripe_signature(body[:-2] + b" }", timestamp=now),
        "missing header": None,
        "empty header": "",
        "garbage": "not a signature",
        "no timestamp": f"v1={good_v1}",
        "no v1": f"t={now}",
        "only v0": f"t={now},v0={good_v1}",
        "timestamp not a number": f"t=now,v1={good_v1}",
        "two timestamps": f"t={now},t={now},v1={good_v1}",
        "non-ascii signature": f"t={now},v1=é{good_v1[1:]}",
        "301 s old": stripe_signature(body, timestamp=now - 301),
        "301 s in the future": stripe_signature(body, timestamp=now + 301),
    }


@pytest.mark.parametrize("case", list(bad_signatures(b"{}", 0)))
def test_bad_signatures_are_refused_and_change_nothing(case: str, app: Any, service: OrderService) -> None:
    now = int(time.time())
    handler(service).clock = lambda: float(now)
    doc = place(app)
    completed = event("checkout.session.completed", doc)
    body = json.dumps(completed).encode()
    res = deliver(app, body, bad_signatures(body, now)[case])
    assert res.status == 400 and res.json["error"]["code"] == "invalid_signature"
    assert status_of(service, doc["reference"]) == "pending_payment"
    ok = deliver(app, body, stripe_signature(body, timestamp=now))
    assert ok.json == {"received": True, "result": "paid"}, "the refused delivery was not recorded either"


def test_timestamps_within_the_tolerance_are_accepted(app: Any, service: OrderService) -> None:
    now = int(time.time())
    handler(service).clock = lambda: float(now)
    for offset in (-300, 300):
        body = json.dumps({"id": f"evt_{offset}", "type": "customer.created", "data": {"object": {}}}).encode()
        res = deliver(app, body, stripe_signature(body, timestamp=now + offset))
        assert res.status == 200 and res.json == {"received": True, "result": "ignored"}


def test_a_valid_v1_beside_an_invalid_one_is_accepted(app: Any, service: OrderService) -> None:
    doc = place(app)
    body = json.dumps(event("checkout.session.completed", doc)).encode()
    t, good = stripe_signature(body).split(",")
    rolled = stripe_signature(body, secret="whsec_old", timestamp=int(t[2:])).split(",")[1]
    res = deliver(app, body, f"{t},{rolled},v0=ignored,{good}")
    assert res.status == 200 and status_of(service, doc["reference"]) == "paid"


def test_a_valid_signature_on_a_bad_event(app: Any) -> None:
    assert deliver(app, b"{not json").json["error"]["code"] == "invalid_json"
    assert deliver(app, b'{"type": "checkout.session.completed"}').json["error"]["code"] == "invalid_event"


def test_expired_releases_the_stock_exactly_once(app: Any, service: OrderService) -> None:
    doc = place(app)
    assert service.store.stock()["tea"] == 49
    expired = event("checkout.session.expired", doc)
    assert deliver(app, expired).json == {"received": True, "result": "cancelled"}
    assert status_of(service, doc["reference"]) == "cancelled" and service.store.stock()["tea"] == 50
    assert deliver(app, expired).json == {"received": True, "duplicate": True}
    again = deliver(app, event("checkout.session.expired", doc))  # the same news in a new event
    assert again.status == 200 and again.json["result"] == "no change: order is cancelled"
    failed = deliver(app, event("checkout.session.async_payment_failed", doc))
    assert failed.status == 200
    assert service.store.stock()["tea"] == 50 and service.store.stock()["cup/s"] == 5


def test_expired_after_completed_leaves_the_order_paid(app: Any, service: OrderService) -> None:
    doc = place(app)
    assert deliver(app, event("checkout.session.completed", doc)).json["result"] == "paid"
    late = deliver(app, event("checkout.session.expired", doc))
    assert late.status == 200 and late.json["result"] == "no change: order is paid"
    assert deliver(app, event("checkout.session.async_payment_failed", doc)).status == 200
    assert status_of(service, doc["reference"]) == "paid" and service.store.stock()["tea"] == 49


#: What Stripe sends for one session: paid at once, paid later (a bank debit: completed unpaid, then
#: succeeded or failed), or abandoned. Each in every delivery order, with one event delivered twice.
SEQUENCES = {
    "card": (["checkout.session.completed"], "paid"),
    "delayed, succeeded": (["completed-unpaid", "checkout.session.async_payment_succeeded"], "paid"),
    "delayed, failed": (["completed-unpaid", "checkout.session.async_payment_failed"], "cancelled"),
    "abandoned": (["checkout.session.expired"], "cancelled"),
}


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_any_delivery_order_ends_as_the_sorted_replay(name: str, make_service: Callable[..., OrderService]) -> None:
    kinds, final = SEQUENCES[name]
    svc = make_service()
    app = make_app(svc.config, svc)
    stock = svc.store.stock()["tea"]
    assert stock is not None
    for n, delivery in enumerate(itertools.permutations([*range(len(kinds)), 0])):
        doc = place(app, key=f"k{n}")
        events = [event("checkout.session.completed", doc, payment_status="unpaid") if kind == "completed-unpaid"
                  else event(kind, doc) for kind in kinds]  # fmt: skip
        for i in delivery:
            assert deliver(app, events[i]).status == 200
        assert status_of(svc, doc["reference"]) == final, [kinds[i] for i in delivery]
        stock -= 1 if final == "paid" else 0
        assert svc.store.stock()["tea"] == stock, "stock is given back once, or kept"


def test_events_that_do_not_concern_a_payable_order_are_ignored(app: Any, service: OrderService) -> None:
    doc = place(app)
    ref = doc["reference"]
    unknown = {"id": "evt_1", "type": "payment_intent.created", "data": {"object": {"client_reference_id": ref}}}
    assert deliver(app, unknown).json == {"received": True, "result": "ignored"}
    unpaid = event("checkout.session.completed", doc, payment_status="unpaid")
    assert deliver(app, unpaid).json["result"] == "no change: payment not yet received"
    cheaper = event("checkout.session.completed", doc, amount_total=1)
    assert deliver(app, cheaper).json["result"] == "ignored: amount differs from the order"
    other_session = event("checkout.session.expired", doc, id="cs_test_other")
    assert deliver(app, other_session).json["result"] == "ignored: not the order's session"
    nobody = event("checkout.session.completed", doc, client_reference_id="MM-NOSUCH", metadata={})
    assert deliver(app, nobody).json["result"] == "ignored: unknown order"
    assert status_of(service, ref) == "pending_payment" and service.store.stock()["tea"] == 49
    by_metadata = event("checkout.session.completed", doc, client_reference_id=None)
    assert deliver(app, by_metadata).json["result"] == "paid"


def test_the_manual_handler_takes_no_stripe_events(catalog_path: Path, database: str) -> None:
    svc = OrderService(ServiceConfig(catalog=catalog_path, database=database))
    try:
        assert deliver(make_app(svc.config, svc), {"id": "evt_1"}).status == 404
    finally:
        svc.store.close()


# -- a group buy's orders: paid once the group buy goes ahead -------------------------------------

GROUP_SHOP = {
    **SHOP,
    "content/catalog/shop.yml": TEST_PRODUCTS.rstrip(" ")
    + "      - {id: pot, title: Clay teapot, price: 300, stock: 10, group_buy: {min_orders: 2, ends: 2026-12-10}}\n",
}


@pytest.fixture
def group_service(
    tmp_path: Path, service_factory: Callable[..., OrderService], fake_stripe: FakeStripe
) -> OrderService:
    """A Stripe shop with a group buy (the pot, 2 orders by 10 December) that mails its buyers."""
    from generator.orders.config import NotifierConfig
    from generator.orders.store import BUYER_NOTIFIER

    options = {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET, "success_url": SUCCESS_URL,
               "cancel_url": CANCEL_URL, "api_base": fake_stripe.url, "timeout": 0.5, "backoff": 0.01,
               "expires_in": 3600}  # fmt: skip
    mail = NotifierConfig("email", {"host": "127.0.0.1", "port": 9, "sender": "shop@example.com"}, BUYER_NOTIFIER)
    return service_factory(write_catalog(tmp_path / "group", GROUP_SHOP), handler="stripe", handler_options=options,
                           buyer_email=mail)  # fmt: skip


def at_time(service: OrderService, when: str) -> None:
    import datetime as dt

    moment = dt.datetime.fromisoformat(when)
    service.clock = lambda: moment


def test_a_confirmed_group_buy_order_gets_its_checkout_session_and_the_buyer_the_link(
    group_service: OrderService, fake_stripe: FakeStripe
) -> None:
    from generator.orders.notify import BuyerEmailNotifier
    from generator.orders.store import BUYER_NOTIFIER

    svc = group_service
    app = make_app(svc.config, svc)
    at_time(svc, "2026-12-05T12:00:00+00:00")
    pot = [{"product": "pot", "variant": None, "quantity": 1}]
    docs = [place(app, f"pot-{i}", items=pot, expected_total=30000) for i in range(2)]
    assert all(d["status"] == "preorder" and d["payment"] is None for d in docs)
    assert fake_stripe.requests == [], "a pre-order is not charged while its group buy may fail"

    fake_stripe.fail_first = 8  # Stripe is down when the group buy ends: 4 attempts for each order
    at_time(svc, "2026-12-11T00:00:00+00:00")
    assert [(p, o) for p, o, _ in svc.settle_group_buys()] == [("pot", "confirmed")]
    for d in docs:
        found = svc.store.get(d["reference"])
        assert found is not None and found.status == "confirmed" and found.document["payment"] is None
    held = [r for r in svc.store.outbox() if r["notifier"] == BUYER_NOTIFIER]
    assert len(held) == 2
    assert [row for row in svc.store.claim_due() if row[1] == BUYER_NOTIFIER] == [], "they wait for the payment link"

    assert svc.settle_group_buys() == [], "the next run settles nothing again ..."
    refs = sorted(d["reference"] for d in docs)
    sessions = {r.headers["Idempotency-Key"] for r in fake_stripe.requests}
    assert sessions == {f"micromall-checkout-{ref}" for ref in refs}, "... and makes the sessions, one key per order"
    assert len(fake_stripe.sessions) == 2
    settled_at = svc.store.group_buy("pot")["settled_at"]
    import datetime as dt

    start = int(dt.datetime.fromisoformat(settled_at.replace("Z", "+00:00")).timestamp())
    assert {r.form.get("expires_at") for r in fake_stripe.requests[8:]} == {str(start + 3600)}, (
        "a session's expiry counts from when the group buy went ahead, not from the pre-order"
    )
    due = svc.store.claim_due()
    assert sorted(row[0] for row in due if row[1] == BUYER_NOTIFIER) == sorted(r["id"] for r in held)

    # the buyer's email and order page carry the link; Stripe's events move the order on
    for doc in docs:
        got = call(app, "GET", f"/api/orders/{doc['reference']}", headers={"X-Order-Token": doc["token"]})
        assert got.json["status"] == "confirmed" and got.json["payment"]["redirect_url"].startswith("https://")
        found = svc.store.get(doc["reference"])
        assert found is not None
        mail = BuyerEmailNotifier("buyer", "127.0.0.1", "shop@example.com").compose(
            "e1", "order.confirmed", {**found.document, "order_url": "https://shop.example.com/order/"}, found.customer
        )
        assert f"Please pay for it here:\n{got.json['payment']['redirect_url']}\n" in mail.get_content()
    first = svc.store.get(refs[0])
    assert first is not None
    paid = deliver(app, event("checkout.session.completed", {**first.document, "reference": refs[0]}))
    assert paid.json["result"] == "paid" and status_of(svc, refs[0]) == "paid"
    second = svc.store.get(refs[1])
    assert second is not None
    expired = deliver(app, event("checkout.session.expired", {**second.document, "reference": refs[1]}))
    assert expired.json["result"] == "cancelled" and svc.store.stock()["pot"] == 9
    assert svc.settle_group_buys() == [] and len(fake_stripe.sessions) == 2, "nothing is paid for twice"


def test_a_payment_link_attached_during_delivery_does_not_send_the_buyer_email_twice(
    group_service: OrderService, fake_stripe: FakeStripe
) -> None:
    """The hold ran out and a worker is sending the email when the link arrives: `set_payment` may
    only wake an email still held for the link, never one a worker has leased, or a second worker
    would claim it and the buyer would get it twice."""
    from generator.orders.store import BUYER_NOTIFIER

    svc = group_service
    app = make_app(svc.config, svc)
    at_time(svc, "2026-12-05T12:00:00+00:00")
    pot = [{"product": "pot", "variant": None, "quantity": 1}]
    docs = [place(app, f"pot-{i}", items=pot, expected_total=30000) for i in range(2)]
    fake_stripe.fail_first = 1000  # no link can be made while the emails wait
    at_time(svc, "2026-12-11T00:00:00+00:00")
    assert [(p, o) for p, o, _ in svc.settle_group_buys()] == [("pot", "confirmed")]
    with svc.store.write():  # the hold has run out
        svc.store._exec("UPDATE outbox SET next_at = 0 WHERE notifier = ?", (BUYER_NOTIFIER,))
    leased = [row for row in svc.store.claim_due() if row[1] == BUYER_NOTIFIER]
    assert len(leased) == 2, "a worker is delivering both emails"
    for doc in docs:
        assert svc.store.set_payment(doc["reference"], {"redirect_url": "https://pay.example/x"}) is True
    assert [row for row in svc.store.claim_due() if row[1] == BUYER_NOTIFIER] == [], (
        "no second worker may claim an email that is being sent"
    )
