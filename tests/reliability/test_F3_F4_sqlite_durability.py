"""F3 and F4: SQLite commits before it acknowledges, and a held writer lock never half-writes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from loadkit import Outcome, check_invariants, orders_without_items, post, run_together, statuses, traceback_free
from order_server import ServerProcess, running
from reliability_shop import BUYER, cart

from generator.orders.app import OrderService
from generator.orders.config import ServiceConfig
from generator.orders.pricing import Coupon
from generator.orders.store import OrderStore
from generator.orders.store_sqlite import SqliteDialect

pytestmark = pytest.mark.serial

PRICES = {"tea": 10000}
SYSCALL = re.compile(r"^(\d+)\s+(?:<\.\.\. )?(\w+)")


def test_F3_fsync_before_every_acknowledgement(make_shop: Callable[..., tuple[Path, Path]], tmp_path: Path) -> None:
    """F3 (the power-loss proxy: no power-cut rig exists on this machine). The server runs under
    strace for 200 orders. For each 201, the thread that wrote the response issued an fsync or
    fdatasync after the request was read and before the response was written: 200/200 (a
    synchronous=NORMAL build scores about 1/200)."""
    if shutil.which("strace") is None:
        pytest.skip("F3 needs strace (apt-get install strace; .ci/run installs it)")
    site, catalog = make_shop({"tea": (100, 1000)})
    db, trace = str(tmp_path / "f3.sqlite3"), tmp_path / "trace.txt"
    strace = ["strace", "-f", "-qq", "-s", "64", "-e", "trace=fsync,fdatasync,write,sendto,recvfrom", "-o", str(trace)]
    body = cart([("tea", 1)], PRICES)
    with running(ServerProcess(site, catalog, db, prefix=strace)) as server:
        start = trace.stat().st_size  # start-up (schema, stock sync) is not part of the check
        results = [post(server.port, body, f"f3-{i}") for i in range(200)]
    assert statuses(results) == {201: 200}
    with trace.open("rb") as f:
        f.seek(start)
        lines = f.read().decode(errors="replace").splitlines()
    request_at = -1
    last_sync: dict[str, int] = {}
    proven = responses = 0
    unproven: list[str] = []
    for n, line in enumerate(lines):
        m = SYSCALL.match(line)
        if not m:
            continue
        pid, call = m.groups()
        if call == "recvfrom" and "POST /api/orders" in line:
            request_at = n
        elif call in ("fsync", "fdatasync"):
            last_sync[pid] = n
        elif call in ("sendto", "write") and "HTTP/1.1 201" in line:
            responses += 1
            ok = last_sync.get(pid, -1) > request_at >= 0
            proven += ok
            if not ok:
                unproven.append("\n".join(lines[max(0, request_at) : n + 1][:30]))
    assert responses == 200
    assert proven == 200, f"only {proven}/200 responses had an fsync in the responding thread first: {unproven[:2]}"
    print(f"F3: {proven}/200 acknowledgements preceded by fsync/fdatasync in the responding thread")


def test_F3_every_pooled_connection_is_wal_and_full(make_shop: Callable[..., tuple[Path, Path]],
                                                     tmp_path: Path) -> None:  # fmt: skip
    """F3 (pragmas). On every connection the service pooled (one per thread): synchronous = 2
    (FULL) and journal_mode = wal. Changing the default fails this check."""
    _, catalog = make_shop({"tea": (100, 1000)})
    svc = OrderService(ServiceConfig(catalog=catalog, database=str(tmp_path / "p.sqlite3")))
    try:
        threads = [threading.Thread(target=svc.store.stock) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        conns = list(svc.store._all)
        assert len(conns) == 7
        for conn in conns:
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        svc.store.close()


HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def hold_lock(db: str, seconds: float, send: Callable[[], list[Outcome]]) -> tuple[list[Outcome], float]:
    """A second process holds BEGIN IMMEDIATE for `seconds` while send() runs; (results, wall time)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, db, str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.perf_counter()
        results = send()
        return results, time.perf_counter() - started
    finally:
        holder.wait(timeout=seconds + 30)


def test_F4_writer_lock_contention(make_shop: Callable[..., tuple[Path, Path]], tmp_path: Path) -> None:
    """F4. Another process holds BEGIN IMMEDIATE for 2 s, then for 8 s, while 50 orders arrive
    (busy_timeout 5 s). 2 s: all 50 get 201 or 409, slowest <= 3 s. 8 s: the ones that wait past
    the timeout get 503 + Retry-After, 0 'database is locked' tracebacks, 0 orders half-written."""
    site, catalog = make_shop({"tea": (100, 1000)})
    db = str(tmp_path / "f4.sqlite3")
    body = cart([("tea", 1)], PRICES)
    with running(ServerProcess(site, catalog, db)) as server:
        short, _ = hold_lock(db, 2, lambda: run_together(50, 50, lambda i: post(server.port, body, f"a-{i}")))
        long, wall = hold_lock(db, 8, lambda: run_together(50, 50, lambda i: post(server.port, body, f"b-{i}")))
        log = server.log()
    assert set(statuses(short)) <= {201, 409} and len(short) == 50, statuses(short)
    slowest = max(o.latency for o in short)
    assert slowest <= 3.0, f"slowest order took {slowest:.2f} s behind a 2 s lock"
    assert set(statuses(long)) <= {201, 409, 503} and statuses(long)[503] > 0, statuses(long)
    for o in long:
        if o.status == 503:
            assert o.code == "retry" and o.headers.get("retry-after") == "2"
    assert traceback_free(short + long)
    assert "Traceback" not in log, log[log.index("Traceback") - 300 :][:3000]
    assert not any("locked" in str(o.body).lower() for o in long)
    acked = [{"reference": o.reference, "total": o.body["total"]} for o in short + long if o.status == 201]
    snap = check_invariants(db, {"tea": 1000}, acked)
    assert len(snap.orders) == len(acked)  # a 503 stored nothing
    assert orders_without_items(db) == 0  # every order has its items: nothing half-written
    print(f"F4: 2 s hold -> {dict(statuses(short))}, slowest {slowest:.2f} s; "
          f"8 s hold -> {dict(statuses(long))} in {wall:.1f} s, 0 tracebacks, 0 half-written")  # fmt: skip


class TracingDialect(SqliteDialect):
    """Records every statement per connection, to prove how write transactions begin."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.statements: list[list[str]] = []

    def connect(self) -> Any:
        conn = super().connect()
        mine: list[str] = []
        self.statements.append(mine)
        conn.set_trace_callback(mine.append)
        return conn


def test_F4_every_write_transaction_begins_immediate(make_shop: Callable[..., tuple[Path, Path]],
                                                      tmp_path: Path) -> None:  # fmt: skip
    """F4 (code test). Every statement that writes runs inside a transaction opened with BEGIN
    IMMEDIATE, so no transaction ever upgrades a read lock (the immediate SQLITE_BUSY trap):
    placing orders (with a coupon), replays, status changes, payment events and the outbox."""
    from generator.orders.notify import deliver_due

    _, catalog = make_shop({"tea": (100, 1000)})
    dialect = TracingDialect(str(tmp_path / "t.sqlite3"))
    coupons = {"TEN": Coupon("TEN", percent_off=10, max_uses=5, once_per_customer=True)}
    config = ServiceConfig(catalog=catalog, database=dialect.path, coupons=coupons)
    svc = OrderService(config, store=OrderStore(dialect))
    try:
        body = cart([("tea", 1)], PRICES)
        status, placed = svc.create_order(body, "k1", b"one")
        assert status == 201
        assert svc.create_order(body, "k1", b"one")[1]["reference"] == placed["reference"]
        coupon_body = {**cart([("tea", 1)], PRICES), "coupon": "TEN", "expected_total": 9000 + 1000}
        assert svc.create_order(coupon_body, "k2", b"two")[0] == 201
        svc.store.set_status(placed["reference"], "paid")
        svc.store.record_event("evt_1", "stripe")
        deliver_due(svc.store, {})
        other = {**body, "customer": {**BUYER, "email": "c@example.com"}}
        svc.store.set_status(svc.create_order(other, "k3", b"three")[1]["reference"], "cancelled")
    finally:
        svc.store.close()
    writes = 0
    for statements in dialect.statements:
        in_tx = ""
        for sql in statements:
            word = sql.split(None, 1)[0].upper()
            if word == "BEGIN":
                in_tx = sql.strip().upper()
            elif word in ("COMMIT", "ROLLBACK"):
                in_tx = ""
            elif word in ("INSERT", "UPDATE", "DELETE", "CREATE"):
                writes += 1
                assert in_tx == "BEGIN IMMEDIATE", f"{sql!r} runs outside BEGIN IMMEDIATE ({in_tx or 'autocommit'})"
    assert writes > 20
