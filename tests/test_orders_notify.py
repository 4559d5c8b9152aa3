"""Seller notifications: signed webhooks, email, and the outbox that delivers each exactly once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from orders_fixtures import write_catalog
from wsgi_client import post_json

from generator.orders.app import OrderService, make_app
from generator.orders.config import NotifierConfig, ServiceConfig
from generator.orders.notify import deliver_due, make_notifiers, sign, verify

SECRET = "whsec_test_0123456789"
SITE = {
    "site.yml": "title: Notify\nbase_url: https://shop.example.com/\ncurrency: CNY\n"
    "shipping: [{id: standard, label: Standard, price: 10}]\n",
    "content/catalog/shop.yml": "products:\n  - {id: tea, title: Tea, price: 100, stock: 5}\n",
}
BODY = {
    "items": [{"product": "tea", "variant": None, "quantity": 1}],
    "shipping": "standard",
    "customer": {"name": "Li Wei", "phone": "+86 138 0000 0000", "email": "li@example.com", "address": "1 Road"},
    "expected_total": 11000,
}


def test_signatures() -> None:
    body = b'{"a": 1}'
    now = 1_800_000_000
    header = sign(SECRET, now, body)
    assert verify(SECRET, header, body, now)
    assert not verify("whsec_other", header, body, now), "wrong secret"
    assert not verify(SECRET, header, body.replace(b"1", b"2"), now), "changed body"
    assert not verify(SECRET, header, body, now + 301), "too old"
    assert not verify(SECRET, header, body, now - 301), "from the future"
    assert verify(SECRET, header, body, now + 300)
    assert not verify(SECRET, "", body, now) and not verify(SECRET, "garbage", body, now)
    two = f"t={now},v1={'0' * 64},{header.split(',')[1]}"
    assert verify(SECRET, two, body, now), "any valid v1 passes (secret rotation)"
    assert not verify(SECRET, f"t={now},t={now},{header.split(',')[1]}", body, now), "two timestamps"


class Receiver:
    """A seller's webhook endpoint on loopback that can be told to fail."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify(SECRET, self.headers.get("X-Micromall-Signature", ""), raw, time.time())
                if receiver.fail > 0 or not ok:
                    receiver.fail -= 1
                    self.send_response(500 if ok else 400)
                    self.end_headers()
                    return
                receiver.events.append(json.loads(raw))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def make_service(tmp_path: Path, notify: tuple[NotifierConfig, ...]) -> OrderService:
    catalog = write_catalog(tmp_path / "site", SITE)
    return OrderService(ServiceConfig(catalog=catalog, database=str(tmp_path / "o.sqlite3"), notify=notify))


def test_each_order_is_delivered_once_even_after_failures(tmp_path: Path, receiver: Receiver) -> None:
    hook = NotifierConfig("webhook", {"url": receiver.url, "secret": SECRET, "timeout": 2}, "seller-hook")
    svc = make_service(tmp_path, (hook,))
    app = make_app(svc.config, svc)
    notifiers = make_notifiers(svc.config.notify)
    receiver.fail = 2  # the seller's endpoint is down for the first two attempts
    started = time.perf_counter()
    res = post_json(app, "/api/orders", BODY)
    assert res.status == 201 and time.perf_counter() - started < 2, "the order does not wait for the webhook"
    assert deliver_due(svc.store, notifiers) == 0  # attempt 1 fails, retried later
    (row,) = svc.store.outbox()
    assert row["attempts"] == 1 and row["done_at"] is None and "500" in row["last_error"]
    svc.store._exec("UPDATE outbox SET next_at = 0")  # let the backoff pass
    assert deliver_due(svc.store, notifiers) == 0  # attempt 2 fails
    svc.store._exec("UPDATE outbox SET next_at = 0")
    assert deliver_due(svc.store, notifiers) == 1
    svc.store._exec("UPDATE outbox SET next_at = 0")
    assert deliver_due(svc.store, notifiers) == 0, "a delivered notification is not sent again"
    (event,) = receiver.events
    assert event["event"] == "order.created" and event["order"]["reference"] == res.json["reference"]
    assert event["customer"]["email"] == "li@example.com", "the seller gets the buyer's details"
    assert "token" not in event["order"]
    svc.store.close()


def test_backoff_grows(tmp_path: Path, receiver: Receiver) -> None:
    hook = NotifierConfig("webhook", {"url": receiver.url, "secret": SECRET, "timeout": 2}, "seller-hook")
    svc = make_service(tmp_path, (hook,))
    post_json(make_app(svc.config, svc), "/api/orders", BODY)
    receiver.fail = 100
    notifiers = make_notifiers(svc.config.notify)
    waits = []
    for _ in range(4):
        svc.store._exec("UPDATE outbox SET next_at = 0")
        before = time.time()
        deliver_due(svc.store, notifiers)
        (next_at,) = svc.store._exec("SELECT next_at FROM outbox").fetchone()
        waits.append(round(next_at - before))
    assert waits == [1, 2, 4, 8]
    svc.store.close()


def test_email_to_the_seller(tmp_path: Path) -> None:
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.handlers import Message

    received: list[Any] = []

    class Keep(Message):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            received.append(message)

    from browser import free_port

    port = free_port()
    controller = aiosmtpd.Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail = NotifierConfig("email", {"host": "127.0.0.1", "port": port, "sender": "shop@example.com",
                                        "to": "seller@example.com"}, "seller-mail")  # fmt: skip
        svc = make_service(tmp_path, (mail,))
        ref = post_json(make_app(svc.config, svc), "/api/orders", BODY).json["reference"]
        assert deliver_due(svc.store, make_notifiers(svc.config.notify)) == 1
    finally:
        controller.stop()
    (message,) = received
    assert message["To"] == "seller@example.com" and ref in message["Subject"]
    assert "Li Wei" in message.get_payload() and "Tea" in message.get_payload()
    svc.store.close()


def test_the_log_never_holds_contact_details(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    svc = make_service(tmp_path, (NotifierConfig("log", {}, "log"),))
    caplog.set_level("DEBUG")
    post_json(make_app(svc.config, svc), "/api/orders", BODY)
    deliver_due(svc.store, make_notifiers(svc.config.notify))
    text = caplog.text
    assert "order.created" in text
    for secret in ("li@example.com", "138 0000", "Li Wei", "1 Road"):
        assert secret not in text
    svc.store.close()


def test_status_changes_notify_every_notifier(tmp_path: Path, receiver: Receiver) -> None:
    hook = NotifierConfig("webhook", {"url": receiver.url, "secret": SECRET, "timeout": 2}, "seller-hook")
    svc = make_service(tmp_path, (NotifierConfig("log", {}, "log"), hook))
    ref = post_json(make_app(svc.config, svc), "/api/orders", BODY).json["reference"]
    svc.store.set_status(ref, "paid")
    notifiers = make_notifiers(svc.config.notify)
    assert deliver_due(svc.store, notifiers) == 4  # created + paid, to each of the two notifiers
    assert [e["event"] for e in receiver.events] == ["order.created", "order.paid"]
    svc.store.close()


def test_the_seller_email_is_in_the_shop_language(tmp_path: Path) -> None:
    from generator.orders.notify import EmailNotifier

    order = {"reference": "M-ABC123", "currency": "CNY", "total": 13800,
             "items": [{"quantity": 2, "title": "Longjing · 50 g", "line_total": 12600}]}  # fmt: skip
    customer = {"name": "李伟", "phone": "+86 138 0000 0000", "email": "", "address": "杭州市西湖区 1 号"}
    common = {"name": "mail", "host": "127.0.0.1", "sender": "shop@example.com", "to": "seller@example.com"}

    zh = EmailNotifier(**common, language="zh-CN").compose("e1", "order.created", order, customer)
    assert zh["Subject"] == "新订单 M-ABC123"
    assert zh.get_content().splitlines() == [
        "新订单 M-ABC123", "", "2 × Longjing · 50 g：¥126.00", "", "合计：¥138.00", "",
        "姓名：李伟", "手机号：+86 138 0000 0000", "收货地址：杭州市西湖区 1 号",
    ]  # fmt: skip
    paid = EmailNotifier(**common, language="zh-CN").compose("e2", "order.paid", order, customer)
    assert paid["Subject"] == "订单 M-ABC123：已付款"

    en = EmailNotifier(**common).compose("e3", "order.shipped", order, customer)
    assert en["Subject"] == "Order M-ABC123: Shipped"
    assert "2 × Longjing · 50 g: CN¥126.00" in en.get_content() and "Total: CN¥138.00" in en.get_content()


def test_an_email_notifier_language_is_checked(tmp_path: Path) -> None:
    from generator.orders.config import ConfigError, load_service_config

    (tmp_path / "orders.yml").write_text(
        "notify:\n  - type: email\n    host: h\n    sender: s@example.com\n    to: t@example.com\n"
        "    language: chinese\n",
        "utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_service_config(tmp_path / "orders.yml", tmp_path)
    assert "orders.yml:6:15: notify[0].language: 'chinese' is not a language tag such as en or zh-CN" in str(err.value)


def test_the_log_line_says_what_each_event_carries(caplog: pytest.LogCaptureFixture) -> None:
    """A new order logs its total; a status change (which carries no total) logs its status, not 'None'."""
    from generator.orders.notify import LogNotifier

    caplog.set_level("INFO")
    log = LogNotifier("log")
    log.deliver("e1", "order.created", {"reference": "MM-1", "total": 12800, "currency": "CNY"}, {})
    log.deliver("e2", "order.confirmed", {"reference": "MM-1", "status": "confirmed"}, {})
    assert "order.created MM-1 total=12800 CNY" in caplog.text
    assert "order.confirmed MM-1 status=confirmed" in caplog.text and "None" not in caplog.text
