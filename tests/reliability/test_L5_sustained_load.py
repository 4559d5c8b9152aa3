"""L5: sustained load on SQLite with synchronous=FULL (the figures bench/load.py also prints)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from loadkit import (
    AckLog,
    Outcome,
    check_invariants,
    percentile,
    post,
    rss_bytes,
    run_together,
    statuses,
    sustained,
    tier,
    traceback_free,
)
from order_server import ServerProcess, running
from reliability_shop import cart

pytestmark = [pytest.mark.serial, pytest.mark.timeout(600)]

PRICES = {"tea": 10000}
STOCK = 10_000_000
SECONDS = tier(30, 60)


def test_L5_sustained_load_sqlite(make_shop: Callable[..., tuple[Path, Path]], tmp_path: Path) -> None:
    """L5. 16 client threads for 30 s (60 s extended), unique Idempotency-Keys, stock plentiful:
    >= 150 accepted orders/s, p99 <= 500 ms, 0 5xx, 0 socket errors. Then 50 clients connecting
    at the same instant: 0 resets (listen backlog >= 128). One client alone: p50 <= 20 ms (the
    Nagle/two-write bug). Server RSS growth <= 20 MB; the -wal file <= 64 MB at the end.
    Conservation and acknowledged => stored hold, read from the database."""
    site, catalog = make_shop({"tea": (100, STOCK)})
    db = str(tmp_path / "l5.sqlite3")
    body = cart([("tea", 1)], PRICES)
    acks = AckLog(tmp_path / "acks.jsonl")
    with running(ServerProcess(site, catalog, db)) as server:
        for i in range(50):  # warm up: threads, connections, caches
            post(server.port, body, f"warm-{i}")
        rss_before = rss_bytes(server.pid)
        load = sustained(server.port, lambda t, n: body, SECONDS, 16, acks, prefix="l5")
        burst: list[Outcome] = run_together(50, 50, lambda i: post(server.port, body, f"burst-{i}"))
        alone = [post(server.port, body, f"alone-{i}") for i in range(100)]
        for o in burst + alone:
            acks.record(o)
        rss_growth = rss_bytes(server.pid) - rss_before
        wal = os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else 0
        log = server.log()
    acks.close()
    socket_errors = [o.error for o in load.outcomes + burst + alone if o.status == 0]
    assert socket_errors == [], socket_errors[:5]
    assert set(statuses(load.outcomes + burst + alone)) == {201}, statuses(load.outcomes + burst + alone)
    assert traceback_free(load.outcomes) and "Traceback" not in log
    single_p50 = percentile((o.latency for o in alone), 50)
    figures = (f"L5: {load.summary()}; 50 simultaneous connects: {dict(statuses(burst))}; "
               f"single client p50 {single_p50 * 1000:.1f} ms; RSS +{rss_growth / 2**20:.1f} MB; "
               f"wal {wal / 2**20:.1f} MB")  # fmt: skip
    print(figures)
    assert load.rate >= 150, figures
    assert load.p(99) <= 0.5, figures
    assert single_p50 <= 0.020, figures
    assert rss_growth <= 20 * 2**20, figures
    assert wal <= 64 * 2**20, figures
    check_invariants(db, {"tea": STOCK}, acks.acked())
