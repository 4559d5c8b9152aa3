"""L6: one Idempotency-Key, one order, however often and however concurrently it is sent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from loadkit import Outcome, post, run_together, snapshot, statuses
from order_server import ServerProcess, running
from reliability_shop import cart

pytestmark = pytest.mark.serial

PRICES = {"tea": 10000}


def test_L6_idempotency_replay(make_shop: Callable[..., tuple[Path, Path]], tmp_path: Path) -> None:
    """L6. One key sent 20x concurrently plus 20x sequentially -> exactly 1 order. Sequential
    repeats get the first status and body (same order id and total); concurrent duplicates get
    that result or 409 (in flight). The same key with a different body -> 422. No key -> 400.
    A key over 255 characters or with non-printable characters -> 400."""
    site, catalog = make_shop({"tea": (100, 100)})
    db = str(tmp_path / "l6.sqlite3")
    body = cart([("tea", 1)], PRICES)
    with running(ServerProcess(site, catalog, db)) as server:
        together: list[Outcome] = run_together(20, 20, lambda i: post(server.port, body, "same-key"))
        first = next(o for o in together if o.status == 201)
        sequential = [post(server.port, body, "same-key") for _ in range(20)]
        other_body = post(server.port, cart([("tea", 2)], PRICES), "same-key")
        no_key = post(server.port, body, None)
        bad_keys = [post(server.port, body, key) for key in ("k" * 256, "with space", "tab\there", "del\x7f")]
    assert set(statuses(together)) <= {201, 409}
    for o in together:
        if o.status == 201:
            assert o.body == first.body
        else:
            assert o.code == "in_flight"
    assert all((o.status, o.body) == (201, first.body) for o in sequential)
    assert (other_body.status, other_body.code) == (422, "idempotency_conflict")
    assert (no_key.status, no_key.code) == (400, "missing_idempotency_key")
    assert [(o.status, o.code) for o in bad_keys[:3]] == [(400, "invalid_idempotency_key")] * 3
    assert bad_keys[3].status == 400  # DEL in a header: refused by the HTTP server before the app
    snap = snapshot(db)
    assert list(snap.orders) == [first.reference] and snap.orders[first.reference][1] == first.body["total"]
    assert snap.stock["tea"] == 99
    print(f"L6: 40 sends of one key -> 1 order ({statuses(together)[201]}/20 concurrent got the same 201)")
