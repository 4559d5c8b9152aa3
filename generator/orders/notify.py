"""Telling the seller (and a group buy's buyers): notifier plug-ins fed by the durable outbox,
never by the request.

An accepted order writes one outbox row per notifier in its own transaction. A worker thread
delivers due rows, marks them done, and retries failures with exponential backoff, so a
seller's webhook that is down or slow neither slows checkout nor loses a notification. A
delivery carries the outbox id, so a receiver can drop the rare repeat after a crash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import threading
import time
import urllib.request
from email.message import EmailMessage
from typing import Any, Protocol

from ..i18n import bundled_text
from ..money import Money, format_money
from .config import NotifierConfig
from .store import BUYER_NOTIFIER, Busy, OrderStore

log = logging.getLogger("micromall.orders.notify")


class Notifier(Protocol):
    name: str

    def deliver(self, event_id: str, event: str, order: dict[str, Any], customer: dict[str, Any]) -> None:
        """Deliver one event or raise; raising schedules a retry."""
        ...


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The webhook signature: HMAC-SHA256 over 'timestamp.body', hex, as `t=...,v1=...`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: int = 300) -> bool:
    """Check a signature header as a receiver should: any v1 may match, within the time window."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")


class LogNotifier:
    """Writes one line per event to the service log: reference, event, total. No contact details."""

    def __init__(self, name: str, **_: Any) -> None:
        self.name = name

    def deliver(self, event_id: str, event: str, order: dict[str, Any], customer: dict[str, Any]) -> None:
        if "total" in order:  # a new order; a status change carries only its reference and status
            log.info("%s %s total=%s %s", event, order.get("reference"), order.get("total"), order.get("currency"))
        else:
            log.info("%s %s status=%s", event, order.get("reference"), order.get("status"))


class WebhookNotifier:
    """POSTs the event as signed JSON to the seller's URL."""

    def __init__(self, name: str, url: str, secret: str, timeout: float = 5.0, **_: Any) -> None:
        self.name, self.url, self.secret, self.timeout = name, url, secret, float(timeout)

    def deliver(self, event_id: str, event: str, order: dict[str, Any], customer: dict[str, Any]) -> None:
        body = json.dumps({"id": event_id, "event": event, "order": order, "customer": customer}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("X-Micromall-Event-Id", event_id)
        request.add_header("X-Micromall-Signature", sign(self.secret, int(time.time()), body))
        # config.py accepts only http(s) URLs for a webhook notifier, so no file: or custom scheme
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # nosec B310
            if not 200 <= response.status < 300:
                raise OSError(f"webhook answered {response.status}")


class EmailNotifier:
    """Sends the seller an email per event over SMTP, in the shop's language (`language`)."""

    def __init__(
        self, name: str, host: str, sender: str, to: str, port: int = 25, username: str = "", password: str = "",
        starttls: bool = False, timeout: float = 10.0, language: str = "en", **_: Any,
    ) -> None:  # fmt: skip
        self.name, self.host, self.port, self.sender, self.to = name, host, int(port), sender, to
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, float(timeout)
        self.language = language

    def compose(self, event_id: str, event: str, order: dict[str, Any], customer: dict[str, Any]) -> EmailMessage:
        """The email: subject and text in the shop's language, amounts written as on the shop."""
        _ = bundled_text(self.language)
        statuses = {
            "pending_payment": _("Waiting for payment"), "paid": _("Paid"), "shipped": _("Shipped"),
            "completed": _("Completed"), "cancelled": _("Cancelled"),
        }  # fmt: skip
        ref, currency = str(order.get("reference")), str(order.get("currency", ""))
        status = event.removeprefix("order.")
        if status == "created":
            subject = _("New order %(ref)s", ref=ref)
        else:
            subject = _("Order %(ref)s: %(status)s", ref=ref, status=statuses.get(status, status))

        def money(minor: object) -> str:
            return format_money(Money(int(minor), currency), self.language) if isinstance(minor, int) else str(minor)

        def field(label: str, value: object) -> str:
            return _("%(label)s: %(value)s", label=label, value=value)

        message = EmailMessage()
        message["From"], message["To"] = self.sender, self.to
        message["Subject"] = subject
        message["Message-ID"] = f"<{event_id}@micromall>"
        lines = [subject, ""]
        for item in order.get("items", []):
            lines.append(field(f"{item['quantity']} × {item['title']}", money(item["line_total"])))
        lines += ["", field(_("Total"), money(order.get("total"))), ""]
        labels = {"name": _("Name"), "phone": _("Phone"), "email": _("Email"), "address": _("Delivery address"),
                  "note": _("Note")}  # fmt: skip
        lines += [field(labels.get(k, k), v) for k, v in customer.items() if v]
        message.set_content("\n".join(lines))
        return message

    def deliver(self, event_id: str, event: str, order: dict[str, Any], customer: dict[str, Any]) -> None:
        self.send(self.compose(event_id, event, order, customer))

    def send(self, message: EmailMessage) -> None:
        """One message over this notifier's SMTP account."""
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


class BuyerEmailNotifier(EmailNotifier):
    """Tells a buyer, at the email they ordered with, how their group buy ended (config
    `buyer_email`). Only the outcome of a group buy reaches a buyer this way: the seller's
    later status changes are for the seller's notifiers (store.BUYER_NOTIFIER).

    The email says what happened, lists the order as the order page does, says what comes
    next (the payment link or the shop's payment instructions, the pickup code) and links the
    order page. The link carries the reference only, never the order's token: an email gets
    forwarded; the page opens on the device the order was placed from, and "My orders" finds
    it anywhere with the reference and this email address.
    """

    def __init__(
        self, name: str, host: str, sender: str, port: int = 25, username: str = "", password: str = "",
        starttls: bool = False, timeout: float = 10.0, language: str = "", **_: Any,
    ) -> None:  # fmt: skip
        # the same SMTP account as the seller's email notifier; each message goes to its buyer
        super().__init__(name, host, sender, "", port, username, password, starttls, timeout, language)
        self.language = language  # empty: the shop's language, which settling puts in the payload

    def compose(self, event_id: str, event: str, order: dict[str, Any], customer: dict[str, Any]) -> EmailMessage:
        """The email to the buyer, in the shop's language, amounts written as on the shop."""
        language = self.language or str(order.get("language") or "en")
        _ = bundled_text(language)
        ref, currency = str(order.get("reference")), str(order.get("currency", ""))
        group = order.get("group_buy") or {}
        items = order.get("items") or []
        product = items[0]["title"] if items else str(group.get("product", ""))
        counts = {"ref": ref, "product": product, "joined": group.get("joined", 0), "goal": group.get("min_orders", 0)}

        def money(minor: object) -> str:
            return format_money(Money(int(minor), currency), language) if isinstance(minor, int) else str(minor)

        def field(label: str, value: object) -> str:
            return _("%(label)s: %(value)s", label=label, value=value)

        confirmed = event == "order.confirmed"
        if confirmed:
            subject = _("Order %(ref)s: your group buy goes ahead", ref=ref)
            lines = [_("Good news: the group buy for %(product)s reached %(joined)s of the %(goal)s orders it "
                       "needed, so your pre-order %(ref)s is confirmed.", **counts)]  # fmt: skip
        else:
            subject = _("Order %(ref)s: your group buy did not go ahead", ref=ref)
            lines = [_("The group buy for %(product)s ended with %(joined)s of the %(goal)s orders it needed, so "
                       "your pre-order %(ref)s is cancelled. You pay nothing for it.", **counts)]  # fmt: skip
        lines.append("")
        for item in items:
            lines.append(field(f"{item['quantity']} × {item['title']}", money(item["line_total"])))
        if items:
            lines += [field(_("Total"), money(order.get("total"))), ""]
        if confirmed:
            lines += self._next_steps(_, order)
        if order.get("order_url"):
            lines += [field(_("View your order"), order["order_url"]),
                      _("It opens on the device you ordered from; on any other, find it under “My orders” "
                        "with the order number and this email address."), ""]  # fmt: skip
        if order.get("shop"):
            lines.append(str(order["shop"]))
        message = EmailMessage()
        message["From"], message["To"] = self.sender, str(customer.get("email", ""))
        message["Subject"] = subject
        message["Message-ID"] = f"<{event_id}@micromall>"
        message.set_content("\n".join(lines).rstrip() + "\n")
        return message

    @staticmethod
    def _next_steps(_: Any, order: dict[str, Any]) -> list[str]:
        """What the buyer does now: pay by the link or by the shop's instructions, collect."""
        pay = order.get("payment") or {}
        lines = [_("What happens next"), ""]
        url = str(pay.get("redirect_url") or "")
        if url.startswith(("https://", "http://")):
            lines += [_("Please pay for it here:"), url, ""]
        elif pay.get("instructions"):
            lines += [str(pay["instructions"]).strip(), ""]
        elif pay.get("handler") != "manual" and int(order.get("total") or 0) > 0:
            lines += [_("Your payment link will be on your order page shortly."), ""]
        if order.get("pickup_code"):
            lines += [_("Your pickup code: %(code)s", code=order["pickup_code"]), ""]
        return lines if len(lines) > 2 else []

    def deliver(self, event_id: str, event: str, order: dict[str, Any], customer: dict[str, Any]) -> None:
        if str(customer.get("email") or "").strip():  # settling writes no row for an order without one
            self.send(self.compose(event_id, event, order, customer))


KINDS: dict[str, Any] = {"log": LogNotifier, "webhook": WebhookNotifier, "email": EmailNotifier}


def make_notifiers(
    configs: tuple[NotifierConfig, ...], buyer_email: NotifierConfig | None = None
) -> dict[str, Notifier]:
    """The seller's notifiers by name, and the buyers' (`buyer_email`) when it is configured."""
    made: dict[str, Notifier] = {c.name: KINDS[c.type](name=c.name, **c.options) for c in configs}
    if buyer_email is not None:
        made[BUYER_NOTIFIER] = BuyerEmailNotifier(name=BUYER_NOTIFIER, **buyer_email.options)
    return made


def deliver_due(store: OrderStore, notifiers: dict[str, Notifier]) -> int:
    """Deliver what is due once; returns how many were delivered."""
    return deliver_rows(store, notifiers, store.claim_due())


def deliver_rows(
    store: OrderStore, notifiers: dict[str, Notifier], rows: list[tuple[str, str, str, str, int]],
    lock: threading.Lock | None = None, stopping: threading.Event | None = None,
) -> int:  # fmt: skip
    """Deliver claimed rows, taking each from the front of `rows` (under `lock`) until `stopping`.

    When a notifier fails, its other rows of this batch are not tried now but handed back with
    the same backoff: a seller's endpoint that hangs costs one timeout per batch, not one per
    order, and the notifiers that work are not held up behind it.
    """
    lock = lock or threading.Lock()
    done = 0
    broken: dict[str, float] = {}  # notifier -> when its rows are due again
    untried: dict[str, list[str]] = {}
    while True:
        with lock:
            if not rows or (stopping is not None and stopping.is_set()):
                break
            outbox_id, name, event, payload, attempts = rows.pop(0)
        notifier = notifiers.get(name)
        if notifier is None:
            store.failed(outbox_id, attempts, f"no notifier named {name} is configured")
            continue
        if name in broken:
            untried.setdefault(name, []).append(outbox_id)
            continue
        order = json.loads(payload)
        found = store.get(order.get("reference", ""))
        customer = found.customer if found else {}
        if found is not None and event == "order.created":
            order = found.document
        elif found is not None and name == BUYER_NOTIFIER:
            order = {**found.document, **order}  # the order as it is now: its payment link, if made
        try:
            notifier.deliver(outbox_id, event, order, customer)
        except Exception as exc:  # any failure of a seller's endpoint is retried later
            log.warning("notification %s via %s failed (attempt %d): %s", outbox_id, name, attempts + 1,
                        type(exc).__name__)  # fmt: skip
            broken[name] = store.failed(outbox_id, attempts, f"{type(exc).__name__}: {exc}")
            continue
        store.delivered(outbox_id)
        done += 1
    for name, ids in untried.items():
        store.release(ids, broken[name])
    return done


class OutboxWorker(threading.Thread):
    """Delivers notifications in the background until `stop()`."""

    def __init__(self, store: OrderStore, notifiers: dict[str, Notifier], interval: float = 0.5) -> None:
        super().__init__(name="micromall-outbox", daemon=True)
        self.store, self.notifiers, self.interval = store, notifiers, interval
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._rows: list[tuple[str, str, str, str, int]] = []  # claimed, not yet taken up

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                claimed = self.store.claim_due()
                with self._lock:
                    self._rows = claimed
                delivered = deliver_rows(self.store, self.notifiers, claimed, self._lock, self._stop_event)
            except Busy as exc:  # the database is locked or away for now: an expected state, no traceback
                log.warning("outbox worker: database unavailable (%s); retrying", exc.code)
                delivered = 0
            except Exception:
                log.exception("outbox worker error; retrying")
                delivered = 0
            if not delivered:
                self._stop_event.wait(self.interval)

    def stop(self, grace: float = 10.0) -> None:
        """Stop after the delivery in progress (waiting up to `grace` seconds for it to end and be
        recorded); the rows this worker claimed but has not tried are handed back at once, so that
        a restarted service sends them now, not when their lease runs out."""
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(grace)
        with self._lock:
            untried = [row[0] for row in self._rows]
            self._rows.clear()
        if untried:
            try:
                self.store.release(untried, time.time())
            except Exception:  # the lease runs out by itself
                log.warning("outbox worker: could not hand back %d notifications on stop", len(untried))
