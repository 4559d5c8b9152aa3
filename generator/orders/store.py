"""Orders, stock, coupons, idempotency keys and the notification outbox in one SQL database.

One implementation serves SQLite and PostgreSQL: the SQL is portable and the differences
(placeholders, how a write transaction starts, which errors mean "busy, retry") live in a
small `Dialect`. Every write happens in one transaction that starts by taking the write lock
(SQLite `BEGIN IMMEDIATE`) or row locks (PostgreSQL conditional updates), so stock can only
go down while there is stock, and an order, its stock, its coupon use and its outbox rows
are stored together or not at all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .catalog import Catalog
from .pricing import OrderError, PricedOrder

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS stock (
        key TEXT PRIMARY KEY, available INTEGER, catalog_stock INTEGER,
        CHECK (available IS NULL OR available >= 0))""",
    """CREATE TABLE IF NOT EXISTS orders (
        reference TEXT PRIMARY KEY, token_hash TEXT NOT NULL, status TEXT NOT NULL,
        currency TEXT NOT NULL, subtotal BIGINT NOT NULL, discount BIGINT NOT NULL,
        shipping_cost BIGINT NOT NULL, total BIGINT NOT NULL, shipping_id TEXT NOT NULL,
        store_id TEXT, pickup_code TEXT, coupon TEXT, catalog_hash TEXT NOT NULL,
        handler TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, customer TEXT NOT NULL,
        note TEXT NOT NULL, document TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS order_items (
        reference TEXT NOT NULL, line INTEGER NOT NULL, sku_key TEXT NOT NULL, product TEXT NOT NULL,
        variant TEXT, title TEXT NOT NULL, quantity INTEGER NOT NULL, unit_price BIGINT NOT NULL,
        line_total BIGINT NOT NULL, PRIMARY KEY (reference, line))""",
    """CREATE TABLE IF NOT EXISTS idempotency (
        key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, status INTEGER NOT NULL,
        body TEXT NOT NULL, created_at TEXT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS coupon_uses (code TEXT PRIMARY KEY, used INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS coupon_customers (
        code TEXT NOT NULL, customer TEXT NOT NULL, reference TEXT NOT NULL, PRIMARY KEY (code, customer))""",
    """CREATE TABLE IF NOT EXISTS outbox (
        id TEXT PRIMARY KEY, reference TEXT NOT NULL, notifier TEXT NOT NULL, event TEXT NOT NULL,
        payload TEXT NOT NULL, attempts INTEGER NOT NULL, next_at DOUBLE PRECISION NOT NULL,
        done_at DOUBLE PRECISION, last_error TEXT)""",
    "CREATE TABLE IF NOT EXISTS payment_events (id TEXT PRIMARY KEY, handler TEXT NOT NULL, received_at TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS order_tokens (
        token_hash TEXT PRIMARY KEY, reference TEXT NOT NULL, created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS group_buys (
        product TEXT PRIMARY KEY, outcome TEXT NOT NULL, joined INTEGER NOT NULL, settled_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS orders_created ON orders (created_at)",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (done_at, next_at)",
]

#: Columns added to a table after its first release: (table, column, type). `migrate` adds each one
#: that an existing database lacks, so an old database keeps its orders and gains the column (NULL).
ADDED_COLUMNS = [
    ("orders", "ref", "TEXT"),  # the promoter code that brought the order
    ("orders", "source_store", "TEXT"),  # the store whose poster brought the buyer
    ("outbox", "held", "INTEGER"),  # 1 while a buyer's email waits for its payment link
]

#: Which status may follow which. Cancelling gives the stock back.
TRANSITIONS = {
    "preorder": {"confirmed", "cancelled"},  # a group buy's order, until the group buy is settled
    "confirmed": {"paid", "shipped", "completed", "cancelled"},  # its group buy went ahead
    "pending_payment": {"paid", "cancelled"},
    "paid": {"shipped", "completed", "cancelled"},
    "shipped": {"completed"},
    "completed": set(),
    "cancelled": set(),
}
#: The outbox name of the notifications to buyers (config `buyer_email`). Not one of the seller's
#: `notify` entries, whose names are `<type>-<n>`: an order's later status changes go to the
#: seller's notifiers only, so a buyer hears about the outcome of their group buy and nothing else.
BUYER_NOTIFIER = "buyer"
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a counter


#: The statuses in which an order waits for its payment: a group buy's order once it went ahead.
PAYABLE = ("pending_payment", "confirmed")


@dataclass(frozen=True)
class BuyerNotice:
    """How settling a group buy tells its buyers: `order_url` is the order page with
    `{reference}` in it; `hold` is how long a confirmed order's email waits for its payment link;
    `language` and `shop` (its title) are the shop's, for the email's words and signature."""

    order_url: str
    hold: float = 0.0
    language: str = "en"
    shop: str = ""


#: The codes of a 503 from the database: busy (locked past the timeout), or unreachable or full.
BUSY_CODES = ("retry", "storage_unavailable")


class Busy(Exception):
    """The database is locked, unreachable or full for now: the client should retry (503).

    `code` is the stable error code of the 503: `retry` when the database is busy (a writer
    holds the lock past the busy timeout), `storage_unavailable` when it cannot be reached or
    its disk is full. Nothing of the request was stored in either case.
    """

    def __init__(self, message: str, code: str = "retry") -> None:
        super().__init__(message)
        self.code = code


def busy(exc: BaseException) -> Busy:
    """The Busy for a database error the dialect calls busy, with its code."""
    text = str(exc).lower()
    full = any(w in text for w in ("disk is full", "no space left", "disk i/o", "unable to open", "readonly"))
    down = any(w in text for w in ("connection", "server closed", "terminating", "shutting down", "starting up"))
    return Busy(str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                BUSY_CODES[1] if full or down else BUSY_CODES[0])  # fmt: skip


class Dialect(Protocol):
    placeholder: str

    def add_column(self, table: str, column: str, kind: str) -> str: ...
    def connect(self) -> Any: ...
    def begin_write(self, conn: Any) -> None: ...
    def end_write(self, conn: Any) -> None: ...
    def is_busy(self, exc: BaseException) -> bool: ...
    def is_retryable(self, exc: BaseException) -> bool: ...
    def is_unique_violation(self, exc: BaseException) -> bool: ...


@dataclass(frozen=True)
class StoredOrder:
    reference: str
    status: str
    total: int
    document: dict[str, Any]
    customer: dict[str, Any]
    note: str
    created_at: str
    items: list[dict[str, Any]]
    ref: str | None = None
    source_store: str | None = None
    subtotal: int = 0


def now_iso() -> str:
    """UTC with microseconds: orders placed in the same second still list in the order they came."""
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OrderStore:
    """The one place that reads and writes the order database."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    # -- connections and transactions ------------------------------------------------------

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self.dialect.connect()
            except Exception as exc:
                if self.dialect.is_busy(exc):
                    raise busy(exc) from None
                raise
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _sql(self, sql: str) -> str:
        return sql if self.dialect.placeholder == "?" else sql.replace("?", self.dialect.placeholder)

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; a database that is locked, gone or full becomes Busy (a 503), and a
        connection it broke is dropped so that the next request opens a fresh one."""
        try:
            return self._conn().execute(self._sql(sql), tuple(params))
        except Busy:
            raise
        except Exception as exc:
            if self.dialect.is_busy(exc):
                self._drop_if_broken(exc)
                raise busy(exc) from None
            raise

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """A write transaction; busy databases become Busy, and anything else rolls back."""
        conn = self._conn()
        try:
            self.dialect.begin_write(conn)
        except Exception as exc:
            self._drop_if_broken(exc)
            if self.dialect.is_busy(exc):
                raise busy(exc) from None
            raise
        try:
            yield
            conn.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            self._drop_if_broken(exc)
            if isinstance(exc, Exception) and not isinstance(exc, Busy) and self.dialect.is_busy(exc):
                raise busy(exc) from None
            raise
        finally:
            self.dialect.end_write(conn)

    def _drop_if_broken(self, exc: BaseException) -> None:
        if self.dialect.is_busy(exc):
            conn = getattr(self._local, "conn", None)
            self._local.conn = None
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    def retrying(self, fn: Any, attempts: int = 3) -> Any:
        """Run a write again after a serialization failure or deadlock (PostgreSQL), then give up."""
        for attempt in range(attempts):
            try:
                return fn()
            except Exception as exc:
                if not self.dialect.is_retryable(exc) or attempt == attempts - 1:
                    if self.dialect.is_retryable(exc):
                        raise Busy(str(exc).splitlines()[0]) from None
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with contextlib.suppress(Exception):
                    conn.close()
            self._all.clear()
        self._local = threading.local()

    # -- schema and stock ------------------------------------------------------------------

    def migrate(self) -> None:
        with self.write():
            for statement in SCHEMA:
                self._exec(statement)
            for table, column, kind in ADDED_COLUMNS:
                if column not in self._columns(table):
                    self._exec(self.dialect.add_column(table, column, kind))

    def _columns(self, table: str) -> set[str]:
        """The table's column names, read the same way in SQLite and PostgreSQL."""
        cursor = self._exec(f"SELECT * FROM {table} WHERE 1 = 0")  # nosec B608 - our own table names
        names = {str(d[0]) for d in cursor.description}
        cursor.fetchall()
        return names

    def sync_stock(self, catalog: Catalog) -> None:
        """Seed stock from the catalog; a rebuilt catalog moves live stock by its change.

        The database is the live truth. When the catalog's number for an item changes from
        old to new, the live number moves by (new - old): raising stock from 10 to 30 in the
        YAML adds 20 units to whatever is left. An item becoming unlimited (no stock) or
        limited again takes the catalog's number as it is.
        """
        with self.write():
            rows = {r[0]: (r[1], r[2]) for r in self._exec("SELECT key, available, catalog_stock FROM stock")}
            for key, item in catalog.sellables.items():
                new = item.stock
                if key not in rows:
                    self._exec("INSERT INTO stock (key, available, catalog_stock) VALUES (?, ?, ?)", (key, new, new))
                    continue
                available, old = rows[key]
                if old == new:
                    continue
                if new is None or old is None or available is None:
                    self._exec("UPDATE stock SET available = ?, catalog_stock = ? WHERE key = ?", (new, new, key))
                    continue
                # Relative, so an order committed meanwhile by another process is not overwritten.
                delta = new - old
                self._exec(
                    "UPDATE stock SET available = CASE WHEN available + ? < 0 THEN 0 ELSE available + ? END,"
                    " catalog_stock = ? WHERE key = ? AND catalog_stock = ?",
                    (delta, delta, new, key, old),
                )

    def stock(self) -> dict[str, int | None]:
        return {r[0]: r[1] for r in self._exec("SELECT key, available FROM stock")}

    # -- placing an order ------------------------------------------------------------------

    def replay(self, key: str, request_hash: str) -> tuple[int, dict[str, Any]] | None:
        row = self._exec("SELECT request_hash, status, body FROM idempotency WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        if row[0] != request_hash:
            raise OrderError(
                422, "idempotency_conflict", "This Idempotency-Key was used for a different order; use a new key."
            )
        return int(row[1]), json.loads(row[2])

    def place(
        self,
        order: PricedOrder,
        key: str,
        request_hash: str,
        handler: str,
        document: dict[str, Any],
        notifiers: Sequence[str],
        prefix: str,
    ) -> tuple[int, dict[str, Any]]:
        """Store the order with its stock, coupon use and outbox rows; or refuse with OrderError.

        Returns (status, body) for the response. A key seen before returns the first response.
        """

        def attempt() -> tuple[int, dict[str, Any]]:
            with self.write():
                seen = self.replay(key, request_hash)
                if seen is not None:
                    return seen
                self._take_stock(order)
                reference = self._new_reference(prefix)
                if order.coupon is not None:
                    self._use_coupon(order, reference)
                token = secrets.token_urlsafe(24)
                created = now_iso()
                pickup_code = f"{secrets.randbelow(10_000):04d}" if order.shipping.pickup else None
                status = "preorder" if order.group_buy else "pending_payment"
                body = {
                    **document,
                    "reference": reference,
                    "status": status,
                    "pickup_code": pickup_code,
                    "created_at": created,
                }
                self._insert_order(order, reference, token, body, key, handler, created, pickup_code, status)
                for name in notifiers:
                    self._exec(
                        "INSERT INTO outbox (id, reference, notifier, event, payload, attempts, next_at)"
                        " VALUES (?, ?, ?, ?, ?, 0, ?)",
                        (uuid.uuid4().hex, reference, name, "order.created", json.dumps(body), time.time()),
                    )
                response = {**body, "token": token}
                # The token is the buyer's alone: the stored replay answers only this exact request.
                self._exec(
                    "INSERT INTO idempotency (key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?)",
                    (key, request_hash, 201, json.dumps(response), created),
                )
                return 201, response

        try:
            result: tuple[int, dict[str, Any]] = self.retrying(attempt)
            return result
        except Exception as exc:
            if self.dialect.is_unique_violation(exc):
                # the same key committed by a concurrent request between our check and insert
                seen = self.replay(key, request_hash)
                if seen is not None:
                    return seen
                raise OrderError(409, "coupon_exhausted", "This coupon has already been used.") from None
            raise

    def _take_stock(self, order: PricedOrder) -> None:
        short = []
        # In key order: two carts taking the same items always lock the rows in the same order,
        # so PostgreSQL never has to break a deadlock between them.
        for sku, qty in sorted(order.stock_needed.items()):
            cur = self._exec(
                "UPDATE stock SET available = available - ? WHERE key = ? AND available IS NOT NULL AND available >= ?",
                (qty, sku, qty),
            )
            if cur.rowcount == 1:
                continue
            row = self._exec("SELECT available FROM stock WHERE key = ?", (sku,)).fetchone()
            if row is None or row[0] is not None:
                short.append((sku, 0 if row is None else int(row[0])))
        if short:
            items = []
            for sku, available in short:
                product, _, variant = sku.partition("/")
                items.append({"product": product, "variant": variant or None, "available": available})
            names = ", ".join(sku for sku, _ in short)
            raise OrderError(409, "out_of_stock", f"Not enough stock for: {names}", items=items)

    def _use_coupon(self, order: PricedOrder, reference: str) -> None:
        coupon = order.coupon
        assert coupon is not None
        counter = coupon.counter  # the code, or the promotion its codes share
        self._exec("INSERT INTO coupon_uses (code, used) VALUES (?, 0) ON CONFLICT (code) DO NOTHING", (counter,))
        if coupon.max_uses is not None:
            cur = self._exec(
                "UPDATE coupon_uses SET used = used + 1 WHERE code = ? AND used < ?", (counter, coupon.max_uses)
            )
        else:
            cur = self._exec("UPDATE coupon_uses SET used = used + 1 WHERE code = ?", (counter,))
        if cur.rowcount != 1:
            raise OrderError(409, "coupon_exhausted", f"coupon: '{coupon.code}' has been used up", field="coupon")
        if coupon.once_per_customer:
            who = order.customer.email.strip().lower()
            row = self._exec(
                "SELECT 1 FROM coupon_customers WHERE code = ? AND customer = ?", (counter, who)
            ).fetchone()
            if row is not None:
                raise OrderError(
                    409,
                    "coupon_exhausted",
                    f"coupon: '{coupon.code}' was already used by this customer",
                    field="coupon",
                )
            self._exec(
                "INSERT INTO coupon_customers (code, customer, reference) VALUES (?, ?, ?)",
                (counter, who, reference),
            )

    def _new_reference(self, prefix: str) -> str:
        while True:
            ref = prefix + "-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
            if self._exec("SELECT 1 FROM orders WHERE reference = ?", (ref,)).fetchone() is None:
                return ref

    def _insert_order(
        self,
        order: PricedOrder,
        reference: str,
        token: str,
        body: dict[str, Any],
        key: str,
        handler: str,
        created: str,
        pickup_code: str | None,
        status: str,
    ) -> None:
        c = order.customer
        customer = {"name": c.name, "phone": c.phone, "email": c.email, "address": c.address}
        self._exec(
            "INSERT INTO orders (reference, token_hash, status, currency, subtotal, discount, shipping_cost, total,"
            " shipping_id, store_id, pickup_code, coupon, catalog_hash, handler, idempotency_key, customer, note,"
            " document, created_at, updated_at, ref, source_store)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                reference, token_hash(token), status, order.currency, order.subtotal, order.discount,
                order.shipping_cost, order.total, order.shipping.id, order.store.id if order.store else None,
                pickup_code, order.coupon.code if order.coupon else None, order.catalog_hash, handler, key,
                json.dumps(customer), order.note, json.dumps(body), created, created, order.ref, order.source_store,
            ),
        )  # fmt: skip
        for i, line in enumerate(order.lines):
            s = line.sellable
            self._exec(
                "INSERT INTO order_items (reference, line, sku_key, product, variant, title, quantity, unit_price,"
                " line_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (reference, i, s.key, s.product, s.variant, s.title, line.quantity, line.unit_price, line.total),
            )

    # -- reading and changing orders -------------------------------------------------------

    def get(self, reference: str) -> StoredOrder | None:
        row = self._exec(
            "SELECT reference, status, total, document, customer, note, created_at, ref, source_store, subtotal"
            " FROM orders WHERE reference = ?",
            (reference,),
        ).fetchone()
        if row is None:
            return None
        items = [
            {"product": r[0], "variant": r[1], "title": r[2], "quantity": r[3], "unit_price": r[4], "line_total": r[5]}
            for r in self._exec(
                "SELECT product, variant, title, quantity, unit_price, line_total FROM order_items"
                " WHERE reference = ? ORDER BY line",
                (reference,),
            )
        ]
        document = {**json.loads(row[3]), "status": row[1]}
        return StoredOrder(row[0], row[1], int(row[2]), document, json.loads(row[4]), row[5], row[6], items,
                           row[7], row[8], int(row[9]))  # fmt: skip

    def check_token(self, reference: str, token: str) -> bool:
        """The order's own token, or one given by `lookup` to another device."""
        row = self._exec("SELECT token_hash FROM orders WHERE reference = ?", (reference,)).fetchone()
        expected = row[0] if row else token_hash("no such order")
        if hmac.compare_digest(expected, token_hash(token)) and row is not None:
            return True
        extra = self._exec(
            "SELECT 1 FROM order_tokens WHERE token_hash = ? AND reference = ?", (token_hash(token), reference)
        ).fetchone()
        return extra is not None

    def lookup(self, reference: str, email: str) -> dict[str, str] | None:
        """A new token for the order when `email` is the one it was placed with, else None.

        The buyer who placed the order on another device finds it again with its reference and
        email. An unknown reference and a wrong email cost the same work and give the same
        answer, so the lookup tells nobody which references exist. The order's own token is
        stored only as a hash, so the buyer gets a token of their own (`check_token` takes both).
        """
        row = self._exec("SELECT customer, created_at FROM orders WHERE reference = ?", (reference,)).fetchone()
        stored = str(json.loads(row[0]).get("email", "")) if row else "no order\x00"
        given = hashlib.sha256(email.strip().lower().encode()).digest()
        match = hmac.compare_digest(hashlib.sha256(stored.strip().lower().encode()).digest(), given)
        if not match or row is None:
            return None
        token = secrets.token_urlsafe(24)
        with self.write():
            self._exec(
                "INSERT INTO order_tokens (token_hash, reference, created_at) VALUES (?, ?, ?)",
                (token_hash(token), reference, now_iso()),
            )
        return {"reference": reference, "token": token, "created_at": str(row[1])}

    def orders(
        self, status: str | None = None, since: str | None = None, until: str | None = None
    ) -> list[StoredOrder]:
        sql = "SELECT reference FROM orders WHERE 1 = 1"
        params: list[Any] = []
        if status:
            sql += " AND status = ?"
            params.append(status)
        if since:
            sql += " AND created_at >= ?"
            params.append(since)
        if until:
            sql += " AND created_at < ?"
            params.append(until)
        refs = [r[0] for r in self._exec(sql + " ORDER BY created_at, reference", params)]
        return [o for o in (self.get(r) for r in refs) if o is not None]

    def set_status(self, reference: str, status: str) -> StoredOrder:
        """Move an order on; only the transitions in TRANSITIONS, and cancelling restocks."""

        def attempt() -> None:
            with self.write():
                self._move(reference, status, {})

        self.retrying(attempt)
        found = self.get(reference)
        assert found is not None
        return found

    def _move(self, reference: str, status: str, extra: dict[str, Any]) -> None:
        """Inside a write transaction: the status change, the stock given back on cancelling,
        and one outbox row per notifier that the order was announced to (`extra` joins its payload)."""
        row = self._exec("SELECT status FROM orders WHERE reference = ?", (reference,)).fetchone()
        if row is None:
            raise OrderError(404, "not_found", f"no order {reference}")
        current = row[0]
        if status not in TRANSITIONS.get(current, set()):
            allowed = ", ".join(sorted(TRANSITIONS.get(current, set()))) or "none"
            raise OrderError(409, "invalid_transition", f"{reference} is {current}; it can become: {allowed}")
        self._exec("UPDATE orders SET status = ?, updated_at = ? WHERE reference = ?", (status, now_iso(), reference))
        if status == "cancelled":
            for sku, qty in self._exec(
                "SELECT sku_key, quantity FROM order_items WHERE reference = ?", (reference,)
            ).fetchall():
                self._exec(
                    "UPDATE stock SET available = available + ? WHERE key = ? AND available IS NOT NULL", (qty, sku)
                )
        notifiers = [r[0] for r in self._exec(
            "SELECT DISTINCT notifier FROM outbox WHERE reference = ? AND notifier <> ?", (reference, BUYER_NOTIFIER)
        ).fetchall()]  # fmt: skip
        payload = json.dumps({"reference": reference, "status": status, **extra})
        for name in notifiers:
            self._exec(
                "INSERT INTO outbox (id, reference, notifier, event, payload, attempts, next_at)"
                " VALUES (?, ?, ?, ?, ?, 0, ?)",
                (uuid.uuid4().hex, reference, name, f"order.{status}", payload, time.time()),
            )

    # -- group buys ------------------------------------------------------------------------

    def _group_buy_refs(self, product: str, statuses: Sequence[str]) -> list[str]:
        marks = ", ".join("?" for _ in statuses)
        rows = self._exec(
            "SELECT DISTINCT o.reference, o.created_at FROM orders o JOIN order_items i ON i.reference = o.reference"  # nosec B608 - only ? marks are joined in
            f" WHERE i.product = ? AND o.status IN ({marks}) ORDER BY o.created_at, o.reference",
            (product, *statuses),
        ).fetchall()
        return [r[0] for r in rows]

    def group_buy(self, product: str) -> dict[str, Any]:
        """How a group buy stands: `joined` counts its orders that are not cancelled, and
        `outcome` is None until it is settled, then "confirmed" or "cancelled"."""
        row = self._exec("SELECT outcome, joined, settled_at FROM group_buys WHERE product = ?", (product,)).fetchone()
        if row is not None:
            return {"joined": int(row[1]), "outcome": row[0], "settled_at": row[2]}
        joined = len(self._group_buy_refs(product, ("preorder", "confirmed", "paid", "shipped", "completed")))
        return {"joined": joined, "outcome": None, "settled_at": None}

    def settle_group_buy(
        self, product: str, min_orders: int, buyers: BuyerNotice | None = None
    ) -> tuple[str, list[str]] | None:
        """Settle one ended group buy: with `min_orders` pre-orders or more, all of them become
        `confirmed`, else `cancelled` (stock back); each order gets its outbox event for the
        seller's notifiers and, with `buyers`, one for its buyer (when the order has an email).

        Once only: the outcome is recorded in the same transaction, so a second run (cron, two
        processes at once) finds it and returns None, changing nothing.
        """

        def attempt() -> tuple[str, list[str]] | None:
            with self.write():
                if self._exec("SELECT 1 FROM group_buys WHERE product = ?", (product,)).fetchone():
                    return None
                refs = self._group_buy_refs(product, ("preorder",))
                outcome = "confirmed" if len(refs) >= min_orders else "cancelled"
                self._exec(
                    "INSERT INTO group_buys (product, outcome, joined, settled_at) VALUES (?, ?, ?, ?)",
                    (product, outcome, len(refs), now_iso()),
                )
                extra = {"group_buy": {"product": product, "joined": len(refs), "min_orders": min_orders}}
                for ref in refs:
                    self._move(ref, outcome, extra)
                    if buyers is not None:
                        self._notify_buyer(ref, outcome, extra, buyers)
                return outcome, refs

        try:
            result: tuple[str, list[str]] | None = self.retrying(attempt)
            return result
        except Exception as exc:
            if self.dialect.is_unique_violation(exc):
                return None  # settled by another process meanwhile
            raise

    def _notify_buyer(self, reference: str, outcome: str, extra: dict[str, Any], buyers: BuyerNotice) -> None:
        """Inside the settling transaction: the buyer's outbox row, for an order with an email.

        A confirmed order that still waits for its payment link (a `needs_reference` handler)
        is held for `buyers.hold` seconds: `set_payment` makes it due as soon as the link is
        attached, so the email carries it; if the link cannot be made in time, the email goes
        without it and the order page shows "Pay now" once it exists.
        """
        row = self._exec("SELECT customer FROM orders WHERE reference = ?", (reference,)).fetchone()
        if row is None or not str(json.loads(row[0]).get("email") or "").strip():
            return
        held = outcome == "confirmed" and buyers.hold > 0
        due = time.time() + (buyers.hold if held else 0.0)
        payload = {"reference": reference, "status": outcome, **extra,
                   "order_url": buyers.order_url.replace("{reference}", reference),
                   "language": buyers.language, "shop": buyers.shop}  # fmt: skip
        self._exec(
            "INSERT INTO outbox (id, reference, notifier, event, payload, attempts, next_at, held)"
            " VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            (uuid.uuid4().hex, reference, BUYER_NOTIFIER, f"order.{outcome}", json.dumps(payload), due, int(held)),
        )

    def set_payment(self, reference: str, payment: dict[str, Any]) -> bool:
        """Attach a handler's payment details (e.g. a Stripe session) to an order awaiting payment:
        `pending_payment`, or `confirmed` (a group buy's order that went ahead).

        The stored answer to the order's Idempotency-Key gets them too, so a retried request
        returns the same redirect URL; a buyer's notification held for the link becomes due.
        False (and nothing changed) when the order has moved on.
        """

        def attempt() -> bool:
            with self.write():
                row = self._exec(
                    "SELECT document, idempotency_key, status FROM orders WHERE reference = ?", (reference,)
                ).fetchone()
                if row is None:
                    raise OrderError(404, "not_found", f"no order {reference}")
                if row[2] not in PAYABLE:
                    return False
                document = {**json.loads(row[0]), "payment": payment}
                self._exec(
                    "UPDATE orders SET document = ?, updated_at = ? WHERE reference = ?",
                    (json.dumps(document), now_iso(), reference),
                )
                now = time.time()
                self._exec(
                    "UPDATE outbox SET next_at = ?, held = 0 WHERE reference = ? AND notifier = ?"
                    " AND done_at IS NULL AND held = 1",
                    (now, reference, BUYER_NOTIFIER),
                )
                seen = self._exec("SELECT body FROM idempotency WHERE key = ?", (row[1],)).fetchone()
                if seen is not None:
                    body = json.loads(seen[0])
                    if body.get("reference") == reference:
                        body["payment"] = payment
                        self._exec("UPDATE idempotency SET body = ? WHERE key = ?", (json.dumps(body), row[1]))
                return True

        attached: bool = self.retrying(attempt)
        return attached

    def release_request(self, reference: str, counter_of: Callable[[str], str] = str) -> None:
        """Free what a cancelled order held for its request: its Idempotency-Key and coupon use.

        For an order cancelled because its payment could not be set up: the buyer was told to
        try again, and the retry (with the same key, and the same coupon) places it anew. The
        order keeps its key renamed with a space, which no client key can contain. Repeating
        this changes nothing.
        """

        def attempt() -> None:
            with self.write():
                row = self._exec(
                    "SELECT status, idempotency_key, coupon FROM orders WHERE reference = ?", (reference,)
                ).fetchone()
                if row is None:
                    raise OrderError(404, "not_found", f"no order {reference}")
                status, key, coupon = row
                if status != "cancelled":
                    raise OrderError(409, "invalid_transition", f"{reference} is {status}, not cancelled")
                if key.startswith("released "):
                    return
                self._exec("DELETE FROM idempotency WHERE key = ?", (key,))
                self._exec(
                    "UPDATE orders SET idempotency_key = ?, updated_at = ? WHERE reference = ?",
                    (f"released {reference} {key}", now_iso(), reference),
                )
                if coupon is not None:
                    counter = counter_of(coupon)  # what the coupon counted against (a promotion)
                    self._exec("UPDATE coupon_uses SET used = used - 1 WHERE code = ? AND used > 0", (counter,))
                    self._exec("DELETE FROM coupon_customers WHERE code = ? AND reference = ?", (counter, reference))

        self.retrying(attempt)

    def record_event(self, event_id: str, handler: str) -> bool:
        """Remember a payment event; False when it was seen before (a replay is a no-op)."""
        try:
            with self.write():
                if self._exec("SELECT 1 FROM payment_events WHERE id = ?", (event_id,)).fetchone():
                    return False
                self._exec(
                    "INSERT INTO payment_events (id, handler, received_at) VALUES (?, ?, ?)",
                    (event_id, handler, now_iso()),
                )
                return True
        except Exception as exc:
            if self.dialect.is_unique_violation(exc):
                return False
            raise

    # -- the outbox ------------------------------------------------------------------------

    def claim_due(self, limit: int = 20, lease: float = 60.0) -> list[tuple[str, str, str, str, int]]:
        """Due notifications, leased for `lease` seconds so that another worker skips them.

        Every row is handed back (delivered, failed or released) right after its attempt; the
        lease only matters for rows of a worker that died mid-batch, which come due again
        when it runs out. A minute keeps that wait short while a batch (one timeout per
        failing notifier, see notify.deliver_due) ends well inside it.

        The lease is a conditional update: of two processes claiming one row, only the one
        whose update still finds it due gets it (PostgreSQL re-checks the row it waited for).
        """
        now = time.time()
        claimed = []
        with self.write():
            rows = self._exec(
                "SELECT id, notifier, event, payload, attempts FROM outbox WHERE done_at IS NULL AND next_at <= ?"
                " ORDER BY next_at LIMIT ?",
                (now, limit),
            ).fetchall()
            for row in rows:
                cur = self._exec(
                    "UPDATE outbox SET next_at = ?, held = 0 WHERE id = ? AND done_at IS NULL AND next_at <= ?",
                    (now + lease, row[0], now),
                )
                if cur.rowcount == 1:
                    claimed.append(row)
        return [(r[0], r[1], r[2], r[3], int(r[4])) for r in claimed]

    def delivered(self, outbox_id: str) -> None:
        with self.write():
            self._exec("UPDATE outbox SET done_at = ?, attempts = attempts + 1 WHERE id = ?", (time.time(), outbox_id))

    def failed(self, outbox_id: str, attempts: int, error: str) -> float:
        """Count a failed attempt and back off exponentially; returns when the row is due again."""
        delay = min(3600.0, 2.0 ** min(attempts, 12))
        due = time.time() + delay
        with self.write():
            self._exec(
                "UPDATE outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?",
                (attempts + 1, due, error[:500], outbox_id),
            )
        return due

    def release(self, outbox_ids: Sequence[str], due: float) -> None:
        """Hand claimed rows back untried, due again at `due` (their notifier just failed)."""
        with self.write():
            for outbox_id in outbox_ids:
                self._exec("UPDATE outbox SET next_at = ? WHERE id = ? AND done_at IS NULL", (due, outbox_id))

    def outbox(self) -> list[dict[str, Any]]:
        rows = self._exec("SELECT id, reference, notifier, event, attempts, done_at, last_error FROM outbox").fetchall()
        keys = ("id", "reference", "notifier", "event", "attempts", "done_at", "last_error")
        return [dict(zip(keys, r, strict=True)) for r in rows]
