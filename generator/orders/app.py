"""The order service as a WSGI application: `make_app(config)` returns it.

Plain WSGI, no framework: five routes, JSON in and out. Every refusal is a JSON error with a
stable code; nothing a buyer sends can produce a traceback in a response, and the log never
holds a customer's contact details or a secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from .catalog import Catalog, load_catalog
from .config import ServiceConfig
from .handlers import CheckoutHandler, PaymentUnavailable, load_handler
from .pricing import OrderError, PricedOrder, invalid, price_order
from .store import Busy, OrderStore
from .store_postgres import PostgresDialect
from .store_sqlite import SqliteDialect

log = logging.getLogger("micromall.orders")

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
JSON_TYPE = "application/json; charset=utf-8"
StartResponse = Callable[..., Any]
Environ = dict[str, Any]


def make_store(config: ServiceConfig) -> OrderStore:
    dialect = PostgresDialect(config.database) if config.is_postgres else SqliteDialect(config.database)
    return OrderStore(dialect)


class OrderService:
    """The service's state: catalog (reloaded when its file changes), store, handler."""

    def __init__(
        self, config: ServiceConfig, store: OrderStore | None = None, handler: CheckoutHandler | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:  # fmt: skip
        self.config = config
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))  # sale windows and group buys; tests set it
        self.store = store or make_store(config)
        self.handler = handler or load_handler(config.handler, config.handler_options)
        self._catalog_lock = threading.Lock()
        self._catalog_stamp: tuple[float, int, int] | None = None
        self._catalog: Catalog | None = None
        self.store.migrate()
        self.catalog()  # load and sync stock now: a missing catalog fails at start, not per order

    def catalog(self) -> Catalog:
        """The current catalog; a rebuilt catalog.json is picked up without a restart."""
        st = self.config.catalog.stat()
        # the inode too: a catalog swapped in atomically (os.replace) is a new file, even when
        # its size and modification time happen to equal the old one's
        stamp = (st.st_mtime, st.st_size, st.st_ino)
        if stamp != self._catalog_stamp or self._catalog is None:
            with self._catalog_lock:
                if stamp != self._catalog_stamp or self._catalog is None:
                    catalog = load_catalog(self.config.catalog)
                    self.store.sync_stock(catalog)
                    self._catalog, self._catalog_stamp = catalog, stamp
        assert self._catalog is not None
        return self._catalog

    def allowed_origins(self) -> set[str]:
        if self.config.allowed_origins:
            return set(self.config.allowed_origins)
        parts = urlsplit(self.catalog().base_url)
        return {f"{parts.scheme}://{parts.netloc}"}

    # -- operations --------------------------------------------------------------------------

    def create_order(self, body: Any, key: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        request_hash = hashlib.sha256(raw).hexdigest()
        seen = self.store.replay(key, request_hash)
        if seen is not None:
            return self._pay_stored(*seen)
        catalog = self.catalog()
        order = price_order(body, catalog, self.config.coupons, self.clock())
        document = self._document(order, catalog)
        status, response = self.store.place(
            order, key, request_hash, self.handler.name, document, [n.name for n in self.config.notify],
            self.config.reference_prefix,
        )  # fmt: skip
        if status == 201:
            log.info("order %s accepted: total %s %s", response["reference"], order.total, order.currency)
        return self._pay_stored(status, response)

    def _pay_stored(self, status: int, response: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """For a `needs_reference` handler, set up the payment of a stored order that has none yet.

        Also on a replay, so a request that failed half-way is finished by its retry. When the
        payment cannot be set up, the order is cancelled (its stock goes back), its key and coupon
        are released for the buyer's retry, and the answer is 503 payment_unavailable.
        """
        if status != 201 or response.get("payment") is not None or not getattr(self.handler, "needs_reference", False):
            return status, response
        reference = response["reference"]
        stored = self.store.get(reference)
        if stored is None or stored.status not in ("pending_payment", "cancelled"):
            return status, response
        try:
            if stored.status == "cancelled":
                raise PaymentUnavailable("cancelled before its payment was set up")
            payment = self.handler.payment({k: v for k, v in response.items() if k != "token"}, self.catalog())
            if not self.store.set_payment(reference, payment):
                raise PaymentUnavailable("cancelled while its payment was set up")
        except Busy:
            raise  # 503 retry: the buyer's retry finds the stored order and finishes it
        except Exception as exc:
            if not isinstance(exc, PaymentUnavailable):
                log.exception("checkout handler %s failed for %s", self.handler.name, reference)
            log.warning("payment for %s unavailable (%s); order cancelled", reference, exc)
            if stored.status == "pending_payment":
                try:
                    self.store.set_status(reference, "cancelled")
                except OrderError as moved:
                    if moved.code != "invalid_transition":
                        raise
            coupons = self.config.coupons
            self.store.release_request(reference, lambda code: coupons[code].counter if code in coupons else code)
            message = "Payment cannot be set up just now; please try again in a moment."
            raise OrderError(503, "payment_unavailable", message) from None
        return status, {**response, "payment": payment}

    def _document(self, order: PricedOrder, catalog: Catalog) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "currency": order.currency,
            "items": [
                {
                    "product": line.sellable.product,
                    "variant": line.sellable.variant,
                    "title": line.sellable.title,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "line_total": line.total,
                }
                for line in order.lines
            ],
            "subtotal": order.subtotal,
            "discount": order.discount,
            "coupon": order.coupon.code if order.coupon else None,
            "shipping_cost": order.shipping_cost,
            "total": order.total,
            "shipping": {"id": order.shipping.id, "label": order.shipping.label, "pickup": order.shipping.pickup},
            "store": None,
            "catalog_hash": order.catalog_hash,
        }
        if order.store is not None:
            s = order.store
            doc["store"] = {"id": s.id, "name": s.name, "address": s.address, "hours": list(s.hours)}
        # a needs_reference handler is asked once the order is stored (_pay_stored)
        needs_reference = getattr(self.handler, "needs_reference", False)
        doc["payment"] = None if needs_reference else self.handler.payment(doc, catalog)
        return doc

    def lookup(self, body: Any) -> tuple[int, dict[str, Any]]:
        """POST /api/orders/lookup: a token for the order placed with this reference and email."""
        if not isinstance(body, dict):
            return 422, invalid("body", "must be a JSON object").document()
        for key in body:
            if key not in ("reference", "email"):
                return 422, invalid(str(key), "unknown field").document()
        reference, email = body.get("reference"), body.get("email")
        for name, value in (("reference", reference), ("email", email)):
            if not isinstance(value, str) or not value.strip():
                return 422, invalid(name, "is required").document()
        assert isinstance(reference, str) and isinstance(email, str)
        reference = reference.strip().upper()
        if len(reference) > 40 or len(email) > 254:
            return 404, _error("not_found", "No order matches this reference and email.")
        found = self.store.lookup(reference, email)
        if found is None:
            log.info("order lookup without a match")
            return 404, _error("not_found", "No order matches this reference and email.")
        return 200, found

    def group_buy_view(self, product: str) -> tuple[int, dict[str, Any]]:
        """GET /api/group-buys/<product>: the live progress a product page shows."""
        info = self.catalog().group_buys.get(product)
        if info is None:
            return 404, _error("not_found", "No group buy for this product.")
        state = self.store.group_buy(product)
        ends = info.ends.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        is_open = state["outcome"] is None and self.clock() < info.ends
        return 200, {"product": product, "min_orders": info.min_orders, "ends": ends, "open": is_open, **state}

    def settle_group_buys(self) -> list[tuple[str, str, list[str]]]:
        """Settle every group buy that has ended by the service's clock and is not settled yet:
        (product, outcome, references) for each one settled now. Safe to repeat."""
        now = self.clock()
        done = []
        for product, info in sorted(self.catalog().group_buys.items()):
            if now >= info.ends:
                result = self.store.settle_group_buy(product, info.min_orders)
                if result is not None:
                    done.append((product, *result))
        return done

    def order_view(self, reference: str, token: str) -> tuple[int, dict[str, Any]]:
        if not token or not self.store.check_token(reference, token):
            return 404, {"error": {"code": "not_found", "message": "No order with this reference and token."}}
        order = self.store.get(reference)
        assert order is not None
        return 200, order.document


class GroupBuySettler(threading.Thread):
    """Settles ended group buys on the service's own clock while `orders serve` runs, so that
    no cron job is needed; `micromall orders settle-group-buys` does the same once."""

    def __init__(self, service: OrderService, interval: float = 60.0) -> None:
        super().__init__(name="micromall-group-buys", daemon=True)
        self.service, self.interval = service, interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                for product, outcome, refs in self.service.settle_group_buys():
                    log.info("group buy %s settled: %s, %d order(s)", product, outcome, len(refs))
            except Exception:
                log.exception("settling group buys failed; trying again later")
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()


# -- WSGI ------------------------------------------------------------------------------------


def _json(start: StartResponse, status: int, body: dict[str, Any], extra: list[tuple[str, str]]) -> Iterable[bytes]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    reasons = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 404: "Not Found",
               405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type",
               422: "Unprocessable Content", 429: "Too Many Requests", 500: "Internal Server Error",
               503: "Service Unavailable"}  # fmt: skip
    headers = [("Content-Type", JSON_TYPE), ("Content-Length", str(len(data))), ("Cache-Control", "no-store")]
    start(f"{status} {reasons.get(status, 'Error')}", headers + extra)
    return [data]


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def make_app(config: ServiceConfig, service: OrderService | None = None) -> Callable[[Environ, StartResponse], Any]:
    """The WSGI application for `config` (an app factory: tests make one per store)."""
    svc = service or OrderService(config)

    def app(environ: Environ, start: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        origin = environ.get("HTTP_ORIGIN", "")
        cors: list[tuple[str, str]] = []
        try:
            if origin and origin in svc.allowed_origins():
                cors = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
            result: Iterable[bytes] = route(environ, start, method, path, cors)
            return result
        except Busy as exc:
            log.warning("database busy or unavailable (%s); answered 503 %s", exc, exc.code)
            return _json(start, 503, _error(exc.code, "The shop is busy; please try again in a moment."),
                         cors + [("Retry-After", "2")])  # fmt: skip
        except Exception:
            incident = uuid.uuid4().hex[:12]
            log.exception("unexpected error %s on %s %s", incident, method, path)
            return _json(start, 500, _error("internal", f"Something went wrong on our side (incident {incident})."),
                         cors)  # fmt: skip

    def route(environ: Environ, start: StartResponse, method: str, path: str, cors: list[tuple[str, str]]) -> Any:
        if method == "OPTIONS" and path.startswith("/api/"):
            if not cors:
                start("204 No Content", [("Content-Length", "0")])
                return [b""]
            start("204 No Content", cors + [
                ("Access-Control-Allow-Methods", "GET, POST"),
                ("Access-Control-Allow-Headers", "Content-Type, Idempotency-Key, X-Order-Token"),
                ("Access-Control-Max-Age", "600"), ("Content-Length", "0"),
            ])  # fmt: skip
            return [b""]
        if path == "/api/orders":
            if method != "POST":
                return _json(start, 405, _error("method_not_allowed", "Use POST to place an order."),
                             cors + [("Allow", "POST")])  # fmt: skip
            return post_order(environ, start, cors)
        if path == "/api/orders/lookup":
            if method != "POST":
                return _json(start, 405, _error("method_not_allowed", "Use POST."), cors + [("Allow", "POST")])
            return post_lookup(environ, start, cors)
        match = re.fullmatch(r"/api/orders/([A-Za-z0-9-]{1,40})", path)
        if match:
            if method != "GET":
                return _json(start, 405, _error("method_not_allowed", "Use GET."), cors + [("Allow", "GET")])
            status, body = svc.order_view(match.group(1), environ.get("HTTP_X_ORDER_TOKEN", ""))
            return _json(start, status, body, cors)
        match = re.fullmatch(r"/api/group-buys/([a-z0-9-]{1,100})", path)
        if match:
            if method != "GET":
                return _json(start, 405, _error("method_not_allowed", "Use GET."), cors + [("Allow", "GET")])
            status, body = svc.group_buy_view(match.group(1))
            return _json(start, status, body, cors)
        if path == "/api/stock" and method == "GET":
            catalog = svc.catalog()
            return _json(start, 200, {"catalog_hash": catalog.hash, "stock": svc.store.stock()}, cors)
        if path == "/api/health" and method == "GET":
            return _json(start, 200, {"status": "ok", "catalog_hash": svc.catalog().hash}, cors)
        match = re.fullmatch(r"/api/payments/([a-z0-9_-]{1,40})/webhook", path)
        if match and method == "POST":
            if match.group(1) != svc.handler.name:
                return _json(start, 404, _error("not_found", "No such payment handler."), [])
            raw = read_body(environ, config.max_body)
            if raw is None:
                return _json(start, 413, _error("body_too_large", "The request body is too large."), [])
            headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
            status, body = svc.handler.webhook(headers, raw, svc)
            return _json(start, status, body, [])
        return _json(start, 404, _error("not_found", "No such route."), cors)

    def post_lookup(environ: Environ, start: StartResponse, cors: list[tuple[str, str]]) -> Any:
        ctype = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return _json(start, 415, _error("unsupported_media_type", "Send the lookup as application/json."), cors)
        raw = read_body(environ, 4096)
        if raw is None:
            return _json(start, 413, _error("body_too_large", "The request body is too large."), cors)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _json(start, 400, _error("invalid_json", "The request is not valid JSON."), cors)
        status, answer = svc.lookup(body)
        return _json(start, status, answer, cors)

    def post_order(environ: Environ, start: StartResponse, cors: list[tuple[str, str]]) -> Any:
        ctype = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return _json(start, 415, _error("unsupported_media_type", "Send the order as application/json."), cors)
        raw = read_body(environ, config.max_body)
        if raw is None:
            return _json(start, 413, _error("body_too_large", f"The order is larger than {config.max_body} bytes."),
                         cors)  # fmt: skip
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        if not key:
            return _json(start, 400, _error("missing_idempotency_key", "Send an Idempotency-Key header."), cors)
        if not IDEMPOTENCY_KEY.match(key):
            message = "The Idempotency-Key must be 1 to 255 printable characters."
            return _json(start, 400, _error("invalid_idempotency_key", message), cors)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _json(start, 400, _error("invalid_json", "The order is not valid JSON."), cors)
        try:
            status, response = svc.create_order(body, key, raw)
        except OrderError as exc:
            retry_after = [("Retry-After", "5")] if exc.status == 503 else []
            return _json(start, exc.status, exc.document(), cors + retry_after)
        return _json(start, status, response, cors)

    return app


def read_body(environ: Environ, limit: int) -> bytes | None:
    """The request body, or None when it is over `limit` (refused before reading it all)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return None
    stream = environ["wsgi.input"]
    data: bytes = stream.read(length) if length else stream.read(limit + 1)
    return None if len(data) > limit else data
