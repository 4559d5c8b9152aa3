"""The order service as a WSGI application: `make_app(config)` returns it.

Plain WSGI, no framework: five routes, JSON in and out. Every refusal is a JSON error with a
stable code; nothing a buyer sends can produce a traceback in a response, and the log never
holds a customer's contact details or a secret.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from .catalog import Catalog, load_catalog
from .config import ServiceConfig
from .handlers import CheckoutHandler, PaymentUnavailable, load_handler
from .limits import FailureCounter, TokenBuckets, client_ip, json_depth, parse_networks, retry_after
from .pricing import OrderError, PricedOrder, invalid, price_order
from .store import TRANSITIONS, Busy, BuyerNotice, OrderStore, StoredOrder
from .store_postgres import PostgresDialect
from .store_sqlite import SqliteDialect

log = logging.getLogger("micromall.orders")

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
JSON_TYPE = "application/json; charset=utf-8"
StartResponse = Callable[..., Any]
Environ = dict[str, Any]
#: The correlation id of the request being answered: every 4xx/5xx carries it (X-Request-Id
#: header and `error.request_id`), and so does the log line about it, so a buyer's report can be
#: matched to the log without the log holding anything about the buyer.
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: How long a confirmed group-buy order's email to its buyer waits for the payment link (seconds).
PAYMENT_LINK_WAIT = 120.0
QUERY_SECRETS = ("token", "access_token", "admin_token", "key", "api_key", "auth", "authorization")


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
        (product, outcome, references) for each one settled now; then set up the payment of
        confirmed orders that have none yet. Safe to repeat."""
        now = self.clock()
        catalog = self.catalog()
        buyers = None
        if self.config.buyer_email is not None:
            hold = PAYMENT_LINK_WAIT if getattr(self.handler, "needs_reference", False) else 0.0
            order_url = urljoin(catalog.base_url, "order/?ref={reference}")
            buyers = BuyerNotice(order_url, hold, catalog.language, catalog.title)
        done = []
        for product, info in sorted(catalog.group_buys.items()):
            if now >= info.ends:
                result = self.store.settle_group_buy(product, info.min_orders, buyers)
                if result is not None:
                    done.append((product, *result))
        self.pay_confirmed()
        return done

    def pay_confirmed(self) -> int:
        """Create the payment (a Stripe Checkout Session) of each confirmed group-buy order that
        has none yet; returns how many were set up. A pre-order is not charged while its group
        buy may still fail, so its payment is made here, once it went ahead. The handler's key
        per order makes a repeat return the same session; a failure is tried again at the next
        settling run (every minute under `orders serve`, or the next cron run)."""
        if not getattr(self.handler, "needs_reference", False):
            return 0
        catalog = self.catalog()
        made = 0
        for order in self.store.orders(status="confirmed"):
            if order.document.get("payment") is not None or not order.items:
                continue
            settled = self.store.group_buy(order.items[0]["product"])["settled_at"]
            document = {**order.document, "reference": order.reference, "created_at": order.created_at,
                        "payable_from": settled or order.created_at}  # fmt: skip
            try:
                payment = self.handler.payment(document, catalog)
            except Exception as exc:  # the provider is down: the next run tries again
                log.warning("payment for confirmed %s not set up yet (%s)", order.reference, type(exc).__name__)
                continue
            if self.store.set_payment(order.reference, payment):
                made += 1
        return made

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
    reasons = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
               404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
               415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests",
               500: "Internal Server Error", 503: "Service Unavailable"}  # fmt: skip
    headers = [("Content-Type", JSON_TYPE), ("Content-Length", str(len(data))), ("Cache-Control", "no-store")]
    request_id = REQUEST_ID.get()
    if status >= 400 and request_id:
        if isinstance(body.get("error"), dict):
            body = {**body, "error": {**body["error"], "request_id": request_id}}
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers[1] = ("Content-Length", str(len(data)))
        headers.append(("X-Request-Id", request_id))
    start(f"{status} {reasons.get(status, 'Error')}", headers + extra)
    return [data]


def _error(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    detail = {"code": code, "message": message}
    return {"error": detail if field is None else {**detail, "field": field}}


#: Every route, for telling a preflight to a real route from one to nowhere.
ROUTES = (r"/api/orders", r"/api/orders/[A-Za-z0-9-]{1,40}", r"/api/stock", r"/api/health",
          r"/api/group-buys/[a-z0-9-]{1,100}", r"/api/payments/[a-z0-9_-]{1,40}/webhook", r"/api/admin/orders",
          r"/api/admin/orders/[A-Za-z0-9-]{1,40}",
          r"/api/admin/orders/[A-Za-z0-9-]{1,40}/status")  # fmt: skip


def known_route(path: str) -> bool:
    return any(re.fullmatch(pattern, path) for pattern in ROUTES)


def make_app(
    config: ServiceConfig, service: OrderService | None = None, clock: Callable[[], float] = time.monotonic
) -> Callable[[Environ, StartResponse], Any]:
    """The WSGI application for `config` (an app factory: tests make one per store, and may pass
    the clock the rate limits read)."""
    svc = service or OrderService(config)
    buckets = TokenBuckets(config.rate_limit)
    admin_failures = FailureCounter(config.admin_max_failures, 60.0)
    trusted = parse_networks(config.trusted_proxies)

    def app(environ: Environ, start: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        origin = environ.get("HTTP_ORIGIN", "")
        cors: list[tuple[str, str]] = []
        REQUEST_ID.set(uuid.uuid4().hex[:16])
        try:
            admin = path.startswith("/api/admin/")
            if origin and not admin and origin in svc.allowed_origins():
                cors = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
            client = client_ip(environ.get("REMOTE_ADDR", ""), environ.get("HTTP_X_FORWARDED_FOR", ""), trusted)
            if method != "OPTIONS" and path != "/api/health" and not path.startswith("/api/payments/"):
                wait = buckets.take(client, clock())
                if wait is not None:
                    log.warning("rate limit: %s %s refused (request %s)", method, path, REQUEST_ID.get())
                    return _json(start, 429, _error("rate_limited", "Too many requests; please slow down."),
                                 cors + [("Retry-After", retry_after(wait))])  # fmt: skip
            result: Iterable[bytes]
            if admin and method != "OPTIONS":
                result = admin_route(environ, start, method, path, client)
            else:
                result = route(environ, start, method, path, cors)
            return result
        except Busy as exc:
            log.warning("database busy or unavailable (%s); answered 503 %s", exc, exc.code)
            return _json(start, 503, _error(exc.code, "The shop is busy; please try again in a moment."),
                         cors + [("Retry-After", "2")])  # fmt: skip
        except Exception:
            incident = REQUEST_ID.get()
            log.exception("unexpected error %s on %s %s", incident, method, path)
            return _json(start, 500, _error("internal", f"Something went wrong on our side (incident {incident})."),
                         cors)  # fmt: skip

    def route(environ: Environ, start: StartResponse, method: str, path: str, cors: list[tuple[str, str]]) -> Any:
        if method == "OPTIONS" and known_route(path):
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
        if path == "/api/stock" or path == "/api/health":
            if method != "GET":
                return _json(start, 405, _error("method_not_allowed", "Use GET."), cors + [("Allow", "GET")])
            if path == "/api/health":
                return _json(start, 200, {"status": "ok", "catalog_hash": svc.catalog().hash}, cors)
            catalog = svc.catalog()
            return _json(start, 200, {"catalog_hash": catalog.hash, "stock": svc.store.stock()}, cors)
        match = re.fullmatch(r"/api/payments/([a-z0-9_-]{1,40})/webhook", path)
        if match:
            if method != "POST":
                return _json(start, 405, _error("method_not_allowed", "Use POST."), [("Allow", "POST")])
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

    def read_raw(environ: Environ, start: StartResponse, cors: list[tuple[str, str]]) -> tuple[bytes, Any]:
        """(raw body, None), or (b"", the refusal already answered): 415 or 413, before any parsing."""
        ctype = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            message = "Send the request as application/json."
            return b"", _json(start, 415, _error("unsupported_media_type", message), cors)
        raw = read_body(environ, config.max_body)
        if raw is None:
            message = f"The request is larger than {config.max_body} bytes."
            return b"", _json(start, 413, _error("body_too_large", message), cors)
        return raw, None

    def parse_json(raw: bytes, start: StartResponse, cors: list[tuple[str, str]]) -> tuple[Any, Any]:
        """(body, None), or (None, the 400 already answered)."""
        # nesting is measured before parsing (only when brackets are many enough to matter)
        if raw.count(b"[") + raw.count(b"{") > config.max_json_depth and json_depth(raw) > config.max_json_depth:
            message = f"The JSON nests deeper than {config.max_json_depth} levels."
            return None, _json(start, 400, _error("invalid_json", message), cors)
        try:
            return json.loads(raw.decode("utf-8")), None
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None, _json(start, 400, _error("invalid_json", "The request is not valid JSON."), cors)

    def post_order(environ: Environ, start: StartResponse, cors: list[tuple[str, str]]) -> Any:
        raw, refused = read_raw(environ, start, cors)
        if refused is not None:
            return refused
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        if not key:
            return _json(start, 400, _error("missing_idempotency_key", "Send an Idempotency-Key header."), cors)
        if not IDEMPOTENCY_KEY.match(key):
            message = "The Idempotency-Key must be 1 to 255 printable characters."
            return _json(start, 400, _error("invalid_idempotency_key", message), cors)
        body, refused = parse_json(raw, start, cors)
        if refused is not None:
            return refused
        try:
            status, response = svc.create_order(body, key, raw)
        except OrderError as exc:
            retry_after = [("Retry-After", "5")] if exc.status == 503 else []
            return _json(start, exc.status, exc.document(), cors + retry_after)
        return _json(start, status, response, cors)

    # -- the admin API: the `micromall orders` commands over HTTP, for the seller's own tools ---

    def admin_route(environ: Environ, start: StartResponse, method: str, path: str, client: str) -> Any:
        """Bearer token only (never a cookie, never the URL), no CORS, failures limited per client."""
        one = re.fullmatch(r"/api/admin/orders/([A-Za-z0-9-]{1,40})", path)
        status_of = re.fullmatch(r"/api/admin/orders/([A-Za-z0-9-]{1,40})/status", path)
        listing = path == "/api/admin/orders"
        if not (listing or one or status_of):
            return _json(start, 404, _error("not_found", "No such route."), [])
        reference = one.group(1) if one else status_of.group(1) if status_of else None
        set_status = status_of is not None
        allowed = "POST" if set_status else "GET"
        if method != allowed:
            return _json(start, 405, _error("method_not_allowed", f"Use {allowed}."), [("Allow", allowed)])
        wait = admin_failures.blocked(client, clock())
        if wait is not None:
            log.warning("admin: too many failed attempts; refused (request %s)", REQUEST_ID.get())
            return _json(start, 429, _error("rate_limited", "Too many failed attempts; wait and try again."),
                         [("Retry-After", retry_after(wait))])  # fmt: skip
        refusal = admin_refusal(environ)
        if refusal is not None:
            admin_failures.fail(client, clock())
            log.warning("admin: refused (%s) (request %s)", refusal, REQUEST_ID.get())
            return _json(start, 401, _error("unauthorized", refusal), [("WWW-Authenticate", 'Bearer realm="admin"')])
        if reference is None:
            return admin_list(environ, start)
        if not set_status:
            order = svc.store.get(reference)
            if order is None:
                return _json(start, 404, _error("not_found", "No order with this reference."), [])
            return _json(start, 200, admin_view(order), [])
        raw, refused = read_raw(environ, start, [])
        body, refused = (None, refused) if refused is not None else parse_json(raw, start, [])
        if refused is not None:
            return refused
        if not isinstance(body, dict) or set(body) != {"status"} or body["status"] not in ADMIN_STATUSES:
            message = f'status: send {{"status": one of {", ".join(ADMIN_STATUSES)}}}'
            return _json(start, 422, _error("invalid_field", message, "status"), [])
        try:
            order = svc.store.set_status(reference, body["status"])
        except OrderError as exc:
            return _json(start, exc.status, exc.document(), [])
        log.info("admin: %s is now %s", order.reference, order.status)
        return _json(start, 200, {"reference": order.reference, "status": order.status}, [])

    def admin_refusal(environ: Environ) -> str | None:
        """Why this admin request is not authorised, or None when it is."""
        if not config.admin_token:
            return "The admin API is off: set admin_token in orders.yml."
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if any(name.lower() in QUERY_SECRETS for name in query):
            return "Send the token in the Authorization header, never in the URL."
        if environ.get("HTTP_ORIGIN") or environ.get("HTTP_SEC_FETCH_SITE", "none") not in ("none", "same-origin"):
            return "The admin API does not answer browsers on other sites."
        scheme, _, given = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return "Send Authorization: Bearer <admin token>."
        if not hmac.compare_digest(given.strip().encode("utf-8"), config.admin_token.encode("utf-8")):
            return "Wrong admin token."
        return None

    def admin_list(environ: Environ, start: StartResponse) -> Any:
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
        unknown = sorted(set(query) - {"status", "since", "until"})
        if unknown:
            return _json(start, 422, _error("invalid_field", f"{unknown[0]}: unknown query parameter", unknown[0]), [])
        status = query.get("status")
        if status is not None and status not in TRANSITIONS:
            message = f"status: one of {', '.join(sorted(TRANSITIONS))}"
            return _json(start, 422, _error("invalid_field", message, "status"), [])
        for name in ("since", "until"):
            if name in query and not DATE.match(query[name]):
                return _json(start, 422, _error("invalid_field", f"{name}: a date such as 2026-05-01", name), [])
        found = svc.store.orders(status=status, since=query.get("since"), until=query.get("until"))
        rows = [
            {"reference": o.reference, "created_at": o.created_at, "status": o.status, "total": o.total,
             "currency": o.document["currency"], "items": sum(i["quantity"] for i in o.items)}
            for o in found
        ]  # fmt: skip
        return _json(start, 200, {"orders": rows}, [])

    return app


ADMIN_STATUSES = ("paid", "shipped", "completed", "cancelled")


def admin_view(order: StoredOrder) -> dict[str, Any]:
    """What `micromall orders show` prints, as JSON: the document, status, customer and note."""
    return {**order.document, "reference": order.reference, "status": order.status,
            "created_at": order.created_at, "customer": order.customer, "note": order.note}  # fmt: skip


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
