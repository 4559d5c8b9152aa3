"""A group buy's buyers hear how it ended: one email each, through the outbox, written in the
same transaction as the settling, delivered to a local SMTP sink, and nothing more after it."""

from __future__ import annotations

import email
import email.message
import email.policy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from orders_fixtures import order_body
from test_orders_buyer import SHOP, at  # noqa: F401  (SHOP: the shop of catalog_path)
from wsgi_client import call, post_json

from generator.orders.app import OrderService, make_app
from generator.orders.config import NotifierConfig
from generator.orders.notify import deliver_due, make_notifiers
from generator.orders.store import BUYER_NOTIFIER

BUYERS = [
    {"name": "Li Wei", "phone": "+86 138 0000 0001", "email": "li@example.com", "address": "2 Hill St"},
    {"name": "Wang Fang", "phone": "+86 138 0000 0002", "email": "fang@example.com", "address": "5 Lake Rd"},
]


class Sink:
    """A local SMTP server that keeps what it receives."""

    def __init__(self) -> None:
        controller_module = pytest.importorskip("aiosmtpd.controller")
        from aiosmtpd.handlers import Message
        from browser import free_port

        received: list[email.message.EmailMessage] = []

        class Keep(Message):  # type: ignore[misc]
            def handle_message(self, message: email.message.Message) -> None:
                # read back as a mail client does: headers and text decoded
                parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
                assert isinstance(parsed, email.message.EmailMessage)
                received.append(parsed)

        self.port = free_port()
        self.received = received
        self.controller = controller_module.Controller(Keep(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.received if m["To"] == address]


@pytest.fixture
def sink() -> Iterator[Sink]:
    made = Sink()
    yield made
    made.controller.stop()


@pytest.fixture
def make_service(
    catalog_path: Path, service_factory: Callable[..., OrderService], sink: Sink
) -> Callable[..., OrderService]:
    def make(language: str | None = None) -> OrderService:
        options: dict[str, Any] = {"host": "127.0.0.1", "port": sink.port, "sender": "shop@example.com"}
        if language:
            options["language"] = language
        return service_factory(
            catalog_path,
            notify=(NotifierConfig("log", {}, "log"),),
            buyer_email=NotifierConfig("email", options, BUYER_NOTIFIER),
        )

    return make


def join(app: Any, product: str, quantity: int, price: int) -> list[str]:
    """Both buyers join the group buy of `product`; their order references."""
    refs = []
    for i, buyer in enumerate(BUYERS):
        items = [{"product": product, "variant": None, "quantity": quantity}]
        body = order_body(items=items, customer=dict(buyer), expected_total=quantity * price)
        res = post_json(app, "/api/orders", body, key=f"{product}-{i}")
        assert res.status == 201 and res.json["status"] == "preorder", res.body
        refs.append(res.json["reference"])
    return refs


def buyer_rows(service: OrderService) -> list[dict[str, Any]]:
    return [row for row in service.store.outbox() if row["notifier"] == BUYER_NOTIFIER]


def deliver(service: OrderService) -> int:
    return deliver_due(service.store, make_notifiers(service.config.notify, service.config.buyer_email))


def body_of(message: email.message.EmailMessage) -> str:
    assert message.get_content_type() == "text/plain"
    return str(message.get_content()).replace("\r\n", "\n")


def test_a_group_buy_that_goes_ahead_confirms_and_tells_each_buyer_once(
    make_service: Callable[..., OrderService], sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    service = make_service()
    app = make_app(service.config, service)
    at(service, "2026-12-05T12:00:00+00:00")
    refs = join(app, "pot", 1, 30000)
    assert buyer_rows(service) == [], "joining tells the seller only"
    at(service, "2026-12-11T00:00:00+00:00")
    caplog.set_level("DEBUG", logger="micromall")
    assert ("pot", "confirmed", refs) in service.settle_group_buys()
    assert all(service.store.get(ref).status == "confirmed" for ref in refs)  # type: ignore[union-attr]
    rows = buyer_rows(service)
    assert sorted((r["reference"], r["event"]) for r in rows) == sorted((ref, "order.confirmed") for ref in refs)
    assert deliver(service) == 2 + 2 + 2  # created and confirmed to the seller's log, one email per buyer

    for ref, buyer in zip(refs, BUYERS, strict=True):
        (message,) = sink.to(buyer["email"])
        assert message["Subject"] == f"Order {ref}: your group buy goes ahead"
        assert message["From"] == "shop@example.com"
        text = body_of(message)
        assert text.splitlines()[:6] == [
            f"Good news: the group buy for Clay teapot reached 2 of the 2 orders it needed, so your pre-order {ref}"
            " is confirmed.",
            "",
            "1 × Clay teapot: CN¥300.00",
            "Total: CN¥300.00",
            "",
            "What happens next",
        ]
        assert "Pay by bank transfer." in text  # the shop's payment instructions
        assert f"View your order: https://shop.example.com/order/?ref={ref}\n" in text
        assert "30000" not in text, "amounts are written as money, not in minor units"
        assert text.rstrip().endswith("Buyer Test Tea")

    # settling again sends nothing twice; the order's later changes are for the seller only
    assert service.settle_group_buys() == []
    service.store.set_status(refs[0], "paid")
    assert len(buyer_rows(service)) == 2
    assert deliver(service) == 1  # order.paid to the seller's log
    assert len(sink.received) == 2
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("micromall"))
    assert "order.confirmed" in logged
    for buyer in BUYERS:  # the service's log names orders, never the buyers
        for detail in (buyer["email"], buyer["name"], buyer["phone"], buyer["address"]):
            assert detail not in logged


def test_a_group_buy_short_of_its_goal_cancels_restocks_and_tells_each_buyer(
    make_service: Callable[..., OrderService], sink: Sink
) -> None:
    service = make_service()
    app = make_app(service.config, service)
    at(service, "2026-12-10T11:00:00+00:00")
    refs = join(app, "kettle", 2, 50000)
    assert service.store.stock()["kettle"] == 6
    at(service, "2026-12-10T12:00:00+00:00")
    assert service.settle_group_buys() == [("kettle", "cancelled", refs)]  # the pot's goes on till 10 Dec
    assert service.store.stock()["kettle"] == 10
    assert sorted(r["reference"] for r in buyer_rows(service) if r["event"] == "order.cancelled") == sorted(refs)
    deliver(service)
    assert service.settle_group_buys() == []
    assert deliver(service) == 0
    assert service.store.stock()["kettle"] == 10
    for ref, buyer in zip(refs, BUYERS, strict=True):
        (message,) = sink.to(buyer["email"])
        assert message["Subject"] == f"Order {ref}: your group buy did not go ahead"
        text = body_of(message)
        assert text.startswith(
            f"The group buy for Kettle ended with 2 of the 3 orders it needed, so your pre-order {ref} is cancelled."
            " You pay nothing for it.\n"
        )
        assert "2 × Kettle: CN¥1,000.00" in text
        assert "What happens next" not in text and "bank transfer" not in text


def test_the_buyer_email_is_in_the_language_it_is_set_to(make_service: Callable[..., OrderService], sink: Sink) -> None:
    service = make_service(language="zh-CN")
    app = make_app(service.config, service)
    at(service, "2026-12-05T12:00:00+00:00")
    refs = join(app, "pot", 1, 30000)
    at(service, "2026-12-11T00:00:00+00:00")
    service.settle_group_buys()
    deliver(service)
    (message,) = sink.to(BUYERS[0]["email"])
    assert message["Subject"] == f"订单 {refs[0]}：拼团成功"
    text = body_of(message)
    assert "1 × Clay teapot：¥300.00" in text and "合计：¥300.00" in text
    assert "接下来" in text


def test_without_buyer_email_nobody_is_mailed(catalog_path: Path, service_factory: Callable[..., OrderService]) -> None:
    service = service_factory(catalog_path)
    app = make_app(service.config, service)
    at(service, "2026-12-05T12:00:00+00:00")
    refs = join(app, "pot", 1, 30000)
    at(service, "2026-12-11T00:00:00+00:00")
    assert ("pot", "confirmed", refs) in service.settle_group_buys()
    assert buyer_rows(service) == []
    got = call(app, "GET", "/api/group-buys/pot")
    assert got.json["outcome"] == "confirmed"


def test_buyer_email_is_checked_and_its_password_is_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.orders.config import ConfigError, load_service_config

    config = tmp_path / "orders.yml"
    config.write_text("buyer_email:\n  host: smtp.example.com\n  to: me@example.com\n  language: chinese\n", "utf-8")
    with pytest.raises(ConfigError) as err:
        load_service_config(config, tmp_path)
    problems = str(err.value)
    assert "orders.yml:3:3: buyer_email.to: unknown" in problems  # no `to`: each buyer is the recipient
    assert "orders.yml:2:3: buyer_email.sender: is required" in problems  # where the mapping starts
    assert "orders.yml:4:13: buyer_email.language: 'chinese' is not a language tag such as en or zh-CN" in problems

    monkeypatch.setenv("SMTP_PASSWORD", "s3cret-smtp")
    config.write_text("buyer_email: {host: smtp.example.com, sender: shop@example.com, password: env:SMTP_PASSWORD}\n")
    loaded = load_service_config(config, tmp_path)
    assert loaded.buyer_email is not None and loaded.buyer_email.name == BUYER_NOTIFIER
    assert loaded.buyer_email.options["password"] == "s3cret-smtp" and "s3cret-smtp" in loaded.secrets()
