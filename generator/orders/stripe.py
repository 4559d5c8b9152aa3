"""The `stripe` checkout handler: Stripe Checkout over its HTTP API, with the standard library only.

`payment` creates a Checkout Session for a stored order and returns its URL; the buyer pays on
Stripe's page. `webhook` verifies the `Stripe-Signature` header and moves the order on:
`checkout.session.completed` (when paid) and `checkout.session.async_payment_succeeded` mark it
paid, `checkout.session.async_payment_failed` and `checkout.session.expired` cancel it (which gives
the stock back). Only an order awaiting payment (`pending_payment`, or a group buy's `confirmed`
order) is ever moved, so events can arrive in any order and any number of times: a paid order is
never cancelled by a late `expired`.

Line items: without a discount the session lists one line per item at its unit price, plus a
shipping line when shipping costs something. With a discount it gets a single line for the order's
total ("Order MM-XXXXXX"), so Stripe charges exactly what micromall priced, without creating a
Stripe coupon per order (which would need a second API call and its own clean-up).

The session is created only after the order is stored (`needs_reference`), and for a group buy's
pre-order only once the group buy went ahead (`OrderService.pay_confirmed`): it carries the order
reference, and the `Idempotency-Key` sent to Stripe is derived from it, so a retried request,
here or by the buyer, returns the same session instead of making a second one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from .catalog import Catalog
from .handlers import HandlerError, PaymentUnavailable
from .pricing import OrderError
from .store import PAYABLE

log = logging.getLogger("micromall.orders.stripe")

SUCCESS_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
FAILURE_EVENTS = frozenset({"checkout.session.async_payment_failed", "checkout.session.expired"})


def signature_header(secret: str, payload: bytes, timestamp: int) -> str:
    """A `Stripe-Signature` value as Stripe computes it: HMAC-SHA256 of 't.payload', hex."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str, payload: bytes, now: float, tolerance: float) -> bool:
    """Check a `Stripe-Signature` header as Stripe documents it.

    The header is `t=<unix time>,v1=<hex>[,v1=<hex>...]` (other schemes such as v0 are ignored).
    Any one v1 matching the expected signature is enough (Stripe sends two while a secret is being
    rolled); a timestamp further than `tolerance` seconds from now, in either direction, is refused
    so that a captured delivery cannot be replayed later.
    """
    stamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if name == "t":
            stamps.append(value)
        elif name == "v1":
            signatures.append(value)
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit() or not signatures:
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature_header(secret, payload, timestamp).split("v1=", 1)[1].encode()
    return any(hmac.compare_digest(expected, s.encode("utf-8", "replace")) for s in signatures)


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": code, "message": message}}


class StripeHandler:
    """Pay on Stripe Checkout; Stripe's webhook events mark the order paid or cancel it."""

    name = "stripe"
    needs_reference = True  # payment() runs once the order is stored and has its reference

    def __init__(
        self,
        secret_key: str = "",
        webhook_secret: str = "",
        success_url: str = "",
        cancel_url: str = "",
        api_base: str = "https://api.stripe.com",
        timeout: float = 10.0,
        tolerance: float = 300.0,
        retries: int = 3,
        backoff: float = 0.25,
        expires_in: int | None = None,
    ) -> None:
        missing = [k for k, v in (("secret_key", secret_key), ("webhook_secret", webhook_secret),
                                  ("success_url", success_url), ("cancel_url", cancel_url)) if not v]  # fmt: skip
        if missing:
            raise HandlerError(f"the stripe handler needs handler_options: {', '.join(missing)}")
        for option, url in (("api_base", api_base), ("success_url", success_url), ("cancel_url", cancel_url)):
            if urlsplit(str(url)).scheme not in ("http", "https"):
                raise HandlerError(f"stripe handler_options.{option} must be an http(s) URL")
        if expires_in is not None and not 1800 <= int(expires_in) <= 86400:
            raise HandlerError("stripe handler_options.expires_in must be from 1800 to 86400 seconds")
        self.secret_key = str(secret_key)
        self.webhook_secret = str(webhook_secret)
        self.success_url = str(success_url)
        self.cancel_url = str(cancel_url)
        self.api_base = str(api_base).rstrip("/")
        self.timeout = float(timeout)
        self.tolerance = float(tolerance)
        self.retries = max(0, int(retries))
        self.backoff = float(backoff)
        self.expires_in = None if expires_in is None else int(expires_in)
        self.clock: Callable[[], float] = time.time  # tests may pin it

    # -- creating the Checkout Session -------------------------------------------------------

    def payment(self, order: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
        reference = order.get("reference")
        if not isinstance(reference, str) or not reference:
            raise PaymentUnavailable("the stripe handler needs the stored order (its reference)")
        if int(order["total"]) <= 0:
            # Stripe cannot charge nothing; the seller confirms a free order by hand.
            return {"handler": self.name, "instructions": "", "redirect_url": None, "session_id": None}
        session = self._request(
            "/v1/checkout/sessions", self.session_fields(order), idempotency_key=f"micromall-checkout-{reference}"
        )
        session_id, url = session.get("id"), session.get("url")
        if not isinstance(session_id, str) or not isinstance(url, str) or urlsplit(url).scheme != "https":
            raise PaymentUnavailable("Stripe answered without a session id and https URL")
        return {"handler": self.name, "instructions": "", "redirect_url": url, "session_id": session_id}

    def session_fields(self, order: dict[str, Any]) -> list[tuple[str, str]]:
        """The form fields of the Checkout Session: the same for every retry of one order."""
        reference = str(order["reference"])
        currency = str(order["currency"]).lower()
        lines: list[tuple[str, int, int]] = []  # (name, unit amount in minor units, quantity)
        if int(order.get("discount") or 0) > 0:
            lines.append((f"Order {reference}", int(order["total"]), 1))
        else:
            lines += [(str(i["title"]), int(i["unit_price"]), int(i["quantity"])) for i in order["items"]]
            shipping_cost = int(order.get("shipping_cost") or 0)
            if shipping_cost > 0:
                label = (order.get("shipping") or {}).get("label") or "Shipping"
                lines.append((f"Shipping: {label}", shipping_cost, 1))
        fields = [
            ("mode", "payment"),
            ("client_reference_id", reference),
            ("metadata[reference]", reference),
            ("success_url", self.success_url.replace("{reference}", quote(reference, safe=""))),
            ("cancel_url", self.cancel_url.replace("{reference}", quote(reference, safe=""))),
        ]
        for n, (title, amount, quantity) in enumerate(lines):
            prefix = f"line_items[{n}]"
            fields += [
                (f"{prefix}[price_data][currency]", currency),
                (f"{prefix}[price_data][unit_amount]", str(amount)),
                (f"{prefix}[price_data][product_data][name]", title[:250]),
                (f"{prefix}[quantity]", str(quantity)),
            ]
        start = order.get("payable_from") or order.get("created_at")
        if self.expires_in is not None and start:
            # from the order's own time (a group buy's: when it went ahead), so that a retry sends
            # exactly the same parameters
            created = dt.datetime.fromisoformat(str(start).replace("Z", "+00:00"))
            fields.append(("expires_at", str(int(created.timestamp()) + self.expires_in)))
        return fields

    def _request(self, path: str, fields: list[tuple[str, str]], idempotency_key: str) -> dict[str, Any]:
        """POST a form to Stripe; network errors, 409, 429 and 5xx are retried with the same key."""
        data = urlencode(fields).encode()
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(2.0, self.backoff * 2 ** (attempt - 1)))
            request = urllib.request.Request(self.api_base + path, data=data, method="POST")
            request.add_header("Authorization", f"Bearer {self.secret_key}")
            request.add_header("Idempotency-Key", idempotency_key)
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
            try:
                # api_base is checked to be http(s) in __init__, so no file: or custom scheme
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # nosec B310
                    body = response.read()
                try:
                    answer = json.loads(body)
                except ValueError:
                    raise PaymentUnavailable("Stripe answered with something that is not JSON") from None
                if not isinstance(answer, dict):
                    raise PaymentUnavailable("Stripe answered with something that is not a JSON object")
                return answer
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code}"
                should = (exc.headers.get("Stripe-Should-Retry") or "").lower() if exc.headers else ""
                retry = should == "true" or (should != "false" and (exc.code in (409, 429) or exc.code >= 500))
                exc.close()
                if not retry:
                    break
            except (TimeoutError, urllib.error.URLError, OSError) as exc:
                problem = type(exc).__name__
            log.warning("Stripe %s attempt %d failed: %s", path, attempt + 1, problem)
        raise PaymentUnavailable(f"Stripe could not create the session ({problem})")

    # -- webhook events ------------------------------------------------------------------------

    def webhook(self, headers: dict[str, str], body: bytes, service: Any) -> tuple[int, dict[str, Any]]:
        header = headers.get("stripe-signature", "")
        if not verify_signature(self.webhook_secret, header, body, self.clock(), self.tolerance):
            log.warning("Stripe webhook refused: missing, malformed, stale or wrong signature")
            return _error(400, "invalid_signature", "The Stripe-Signature header does not verify.")
        try:
            event = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _error(400, "invalid_json", "The event is not valid JSON.")
        if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event["id"]:
            return _error(400, "invalid_event", "The event has no id.")
        event_id, kind = event["id"], str(event.get("type", ""))
        obj = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
        outcome = "ignored"
        if kind in SUCCESS_EVENTS | FAILURE_EVENTS and isinstance(obj, dict):
            outcome = self._apply(kind, obj, service.store)
        # Recorded after it took effect: a crash in between makes Stripe deliver it again, and
        # applying an event twice changes nothing (only an order awaiting payment ever moves).
        if not service.store.record_event(event_id, self.name):
            return 200, {"received": True, "duplicate": True}
        log.info("Stripe event %s (%s): %s", event_id, kind, outcome)
        return 200, {"received": True, "result": outcome}

    def _apply(self, kind: str, session: dict[str, Any], store: Any) -> str:
        metadata = session.get("metadata") if isinstance(session.get("metadata"), dict) else {}
        reference = session.get("client_reference_id") or (metadata or {}).get("reference")
        if not isinstance(reference, str) or not reference:
            return "ignored: no order reference"
        order = store.get(reference)
        if order is None:
            return "ignored: unknown order"
        if order.status not in PAYABLE:
            if order.status == "cancelled" and kind in SUCCESS_EVENTS and session.get("payment_status") == "paid":
                log.warning("Stripe took payment for %s, which is cancelled: refund it or restore the order", reference)
            return f"no change: order is {order.status}"
        if kind in SUCCESS_EVENTS:
            if kind == "checkout.session.completed" and session.get("payment_status") != "paid":
                return "no change: payment not yet received"
            amount, currency = session.get("amount_total"), session.get("currency")
            if (isinstance(amount, int) and amount != order.total) or (
                isinstance(currency, str) and currency.lower() != str(order.document.get("currency", "")).lower()
            ):
                log.warning("Stripe event for %s paid %s %s, not the order's total; left pending",
                            reference, amount, currency)  # fmt: skip
                return "ignored: amount differs from the order"
            target = "paid"
        else:
            stored = (order.document.get("payment") or {}).get("session_id")
            if stored and session.get("id") and stored != session.get("id"):
                return "ignored: not the order's session"
            target = "cancelled"
        try:
            store.set_status(reference, target)
        except OrderError as exc:  # another event moved it first
            if exc.code != "invalid_transition":
                raise
            return "no change: order already moved"
        return target
