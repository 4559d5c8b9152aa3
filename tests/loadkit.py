"""The load kit shared by the reliability tests and `bench/load.py`.

A stdlib HTTP client that records every outcome (status, error code, latency, or the socket
error), client threads released together by a barrier, a file of acknowledged orders written
with flush as they arrive, and the invariants read from the database itself, never through
the API: conservation of stock, acknowledged => stored with the same total, one order per
Idempotency-Key.
"""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: MICROMALL_EXTENDED=1 runs the full repeats of the reliability plan (before a release).
EXTENDED = os.environ.get("MICROMALL_EXTENDED") == "1"


def tier(ci: Any, extended: Any) -> Any:
    """The CI-tier figure, or the extended one under MICROMALL_EXTENDED=1."""
    return extended if EXTENDED else ci


@dataclass
class Outcome:
    """One request as the client saw it: a response, or the socket error in its place."""

    key: str
    status: int = 0  # 0: no response (connection refused, reset, timeout)
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    latency: float = 0.0
    error: str = ""
    at: float = 0.0  # time.monotonic() when the request was sent

    @property
    def code(self) -> str:
        err = self.body.get("error")
        return str(err.get("code")) if isinstance(err, dict) else ""

    @property
    def reference(self) -> str:
        return str(self.body.get("reference", ""))


def post(
    port: int, body: dict[str, Any] | bytes, key: str | None, path: str = "/api/orders", timeout: float = 30.0,
    headers: dict[str, str] | None = None,
) -> Outcome:  # fmt: skip
    """POST JSON on a fresh connection; every failure becomes an Outcome, never an exception.

    The body is encoded first, so headers and body leave in one segment (no delayed-ACK stall).
    """
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        sent["Idempotency-Key"] = key
    at, started = time.monotonic(), time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=data, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        latency = time.perf_counter() - started
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = {"unparsed": raw.decode("utf-8", "replace")[:2000]}
        headers = {k.lower(): v for k, v in response.getheaders()}
        return Outcome(key or "", response.status, parsed, headers, latency, at=at)
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(key or "", 0, latency=time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}", at=at)
    finally:
        conn.close()


def post_order(port: int, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of one order; socket errors raise (for the older tests)."""
    outcome = post(port, body, key)
    if outcome.status == 0:
        raise ConnectionError(outcome.error)
    return outcome.status, outcome.body


def run_together(count: int, threads: int, send: Callable[[int], Any]) -> list[Any]:
    """Call send(i) for i in range(count) from `threads` threads released together by a barrier."""
    results: list[Any] = [None] * count
    barrier = threading.Barrier(threads)

    def worker(offset: int) -> None:
        barrier.wait()
        for i in range(offset, count, threads):
            try:
                results[i] = send(i)
            except Exception as exc:  # recorded, asserted on by the test
                results[i] = exc

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=300)
    return results


def run_for(
    seconds: float, threads: int, send: Callable[[int, int], Outcome], stop: threading.Event | None = None
) -> list[Outcome]:
    """Send from `threads` threads (released together) until `seconds` pass or `stop` is set; send(thread, n)."""
    results: list[list[Outcome]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads)
    deadline = [0.0]

    def worker(t: int) -> None:
        if barrier.wait() == 0:
            deadline[0] = time.monotonic() + seconds
        barrier.wait()
        n = 0
        while time.monotonic() < deadline[0] and n < 1_000_000 and not (stop and stop.is_set()):
            results[t].append(send(t, n))
            n += 1

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=seconds + 120)
    return [o for r in results for o in r]


class AckLog:
    """Acknowledged orders appended to a file, flushed as each arrives: what the client was promised."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file = path.open("a", encoding="utf-8")

    def record(self, outcome: Outcome) -> None:
        if outcome.status != 201:
            return
        line = json.dumps({"key": outcome.key, "reference": outcome.reference, "total": outcome.body.get("total")})
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        self._file.close()

    def acked(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]


def percentile(values: Iterable[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def statuses(outcomes: Iterable[Outcome]) -> Counter[int]:
    return Counter(o.status for o in outcomes)


def traceback_free(outcomes: Iterable[Outcome]) -> bool:
    """No response body carries traceback text (the plan's '0 5xx' convention includes this)."""
    return not any("Traceback" in json.dumps(o.body) for o in outcomes)


# -- invariants, read from the database directly -------------------------------------------------


@dataclass
class Snapshot:
    """What the database holds: orders (reference -> key, total, status), items and stock."""

    orders: dict[str, tuple[str, int, str]]
    sold: Counter[str]  # units held by orders that are not cancelled, per stock key
    stock: dict[str, int | None]
    catalog_hashes: dict[str, str]

    def keys(self) -> Counter[str]:
        return Counter(key for key, _, _ in self.orders.values())


def query(database: str, sql: str) -> list[tuple[Any, ...]]:
    if database.startswith(("postgres://", "postgresql://")):
        import psycopg

        with psycopg.connect(database, autocommit=True) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    conn = sqlite3.connect(database, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def snapshot(database: str) -> Snapshot:
    orders = {r[0]: (r[1], int(r[2]), r[3]) for r in query(
        database, "SELECT reference, idempotency_key, total, status FROM orders")}  # fmt: skip
    hashes = {r[0]: r[1] for r in query(database, "SELECT reference, catalog_hash FROM orders")}
    sold: Counter[str] = Counter()
    for sku, qty in query(
        database,
        "SELECT i.sku_key, SUM(i.quantity) FROM order_items i JOIN orders o ON o.reference = i.reference"
        " WHERE o.status <> 'cancelled' GROUP BY i.sku_key",
    ):
        sold[sku] = int(qty)
    stock = {r[0]: (None if r[1] is None else int(r[1])) for r in query(database, "SELECT key, available FROM stock")}
    return Snapshot(orders, sold, stock, hashes)


def orders_without_items(database: str) -> int:
    """Orders stored without their lines: a half-written order (must be 0)."""
    sql = "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.reference = o.reference)"
    return int(query(database, sql)[0][0])


def check_invariants(database: str, initial: dict[str, int], acked: Iterable[dict[str, Any]] = ()) -> Snapshot:
    """Assert conservation, acked => stored (same total) and one order per key; return the snapshot."""
    snap = snapshot(database)
    for sku, start in initial.items():
        left = snap.stock.get(sku)
        assert left is not None and left >= 0, f"{sku}: stock {left}"
        assert start == left + snap.sold[sku], f"conservation broken for {sku}: {start} != {left} + {snap.sold[sku]}"
    for ack in acked:
        stored = snap.orders.get(ack["reference"])
        assert stored is not None, f"acknowledged order {ack['reference']} is not stored"
        assert stored[1] == ack["total"], f"{ack['reference']} stored with total {stored[1]}, acked {ack['total']}"
    dupes = {k: n for k, n in snap.keys().items() if n > 1}
    assert not dupes, f"more than one order for a key: {list(dupes)[:5]}"
    return snap


# -- sustained load (L5, bench/load.py) -----------------------------------------------------------


@dataclass
class LoadResult:
    outcomes: list[Outcome]
    seconds: float

    @property
    def accepted(self) -> int:
        return sum(1 for o in self.outcomes if o.status == 201)

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile((o.latency for o in self.outcomes if o.status), q)

    def summary(self) -> str:
        return (f"{self.accepted} accepted in {self.seconds:.1f} s = {self.rate:.0f} orders/s, "
                f"p50 {self.p(50) * 1000:.0f} ms, p99 {self.p(99) * 1000:.0f} ms, "
                f"statuses {dict(statuses(self.outcomes))}")  # fmt: skip


def sustained(
    port: int | Callable[[], int], body: Callable[[int, int], dict[str, Any]], seconds: float, threads: int,
    acks: AckLog | None = None, prefix: str = "load",
) -> LoadResult:  # fmt: skip
    """`threads` clients send orders with unique keys for `seconds`; every outcome is recorded and
    every 201 goes to `acks` as it arrives. `port` may be a callable (a service that moves)."""
    run = uuid_prefix(prefix)

    def send(t: int, n: int) -> Outcome:
        outcome = post(port() if callable(port) else port, body(t, n), f"{run}-{t}-{n}", timeout=15)
        if acks is not None:
            acks.record(outcome)
        return outcome

    started = time.perf_counter()
    outcomes = run_for(seconds, threads, send)
    return LoadResult(outcomes, time.perf_counter() - started)


def uuid_prefix(prefix: str) -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")
