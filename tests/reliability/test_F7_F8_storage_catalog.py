"""F7 and F8: a full disk, an online backup and a catalog swapped in while orders flow."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from loadkit import (
    AckLog,
    Outcome,
    check_invariants,
    orders_without_items,
    post,
    run_for,
    statuses,
    sustained,
    traceback_free,
)
from order_server import ServerProcess, running
from orders_fixtures import write_catalog
from reliability_shop import SITE_YML, cart, products_yaml

from generator.orders.catalog import load_catalog

pytestmark = [pytest.mark.serial, pytest.mark.timeout(300)]

PRICES = {"tea": 10000}
STOCK = 10_000_000


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs mounted for this test (root only), unmounted after."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"F7 needs to mount an 8 MB tmpfs, which was denied: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_F7_disk_full(make_shop: Callable[..., tuple[Path, Path]], small_disk: Path, tmp_path: Path) -> None:
    """F7 (disk full). The database lives on an 8 MB tmpfs that fills up under load (8 threads).
    Full: 503 storage_unavailable with Retry-After, no traceback, nothing acknowledged lost.
    Once space is freed the service recovers by itself (201s again, no restart)."""
    site, catalog = make_shop({"tea": (100, STOCK)})
    db = str(small_disk / "orders.sqlite3")
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (5 * 2**20))
    acks = AckLog(tmp_path / "acks.jsonl")
    body = cart([("tea", 1)], PRICES, note="x" * 400)
    full, recovered = threading.Event(), threading.Event()
    seen = {"full": 0, "ok_after": 0}

    with running(ServerProcess(site, catalog, db)) as server:

        def send(t: int, n: int, phase: str = "fill") -> Outcome:
            outcome = post(server.port, body, f"f7-{phase}-{t}-{n}", timeout=15)
            acks.record(outcome)
            if outcome.code == "storage_unavailable":
                seen["full"] += 1
                if seen["full"] >= 20:
                    full.set()
            elif outcome.status == 201 and phase == "freed":
                seen["ok_after"] += 1
                if seen["ok_after"] >= 50:
                    recovered.set()
            return outcome

        filling = run_for(60, 8, send, stop=full)
        assert full.is_set(), f"the disk never filled: {statuses(filling)}"
        filler.unlink()
        after = run_for(60, 8, lambda t, n: send(t, n, "freed"), stop=recovered)
        log = server.log()
    acks.close()
    everything = filling + after
    assert [o.error for o in everything if o.status == 0] == []
    assert set(statuses(everything)) <= {201, 503}, statuses(everything)
    for o in everything:
        if o.status == 503:
            assert o.code == "storage_unavailable" and o.headers.get("retry-after") == "2", o.body
    assert traceback_free(everything) and "Traceback" not in log, log[-3000:]
    assert recovered.is_set(), f"no recovery after freeing space: {statuses(after)}"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    snap = check_invariants(db, {"tea": STOCK}, acks.acked())
    print(
        f"F7 (disk full): {dict(statuses(filling))} while filling, {dict(statuses(after))} after freeing space; "
        f"0 of {len(acks.acked())} acknowledged lost; {len(snap.orders)} stored; integrity ok"
    )


def test_F7_online_backup_during_load(make_shop: Callable[..., tuple[Path, Path]], tmp_path: Path) -> None:
    """F7 (backup). The backup API and VACUUM INTO run during L5-style load (16 threads): each copy
    passes integrity_check and holds a consistent set (every order has its items and its stock
    decrement: conservation holds in the copy)."""
    site, catalog = make_shop({"tea": (100, STOCK)})
    db = str(tmp_path / "live.sqlite3")
    copies = [tmp_path / "backup-api.sqlite3", tmp_path / "vacuum-into.sqlite3"]
    body = cart([("tea", 1)], PRICES)

    def back_up() -> None:
        time.sleep(2)
        src = sqlite3.connect(db)
        try:
            dst = sqlite3.connect(copies[0])
            src.backup(dst)
            dst.close()
            time.sleep(1)
            src.execute("VACUUM INTO ?", (str(copies[1]),))
        finally:
            src.close()

    with running(ServerProcess(site, catalog, db)) as server:
        backup = threading.Thread(target=back_up)
        backup.start()
        load = sustained(server.port, lambda t, n: body, 6, 16, prefix="f7b")
        backup.join(timeout=60)
    assert set(statuses(load.outcomes)) == {201}, statuses(load.outcomes)
    sizes = []
    for copy in copies:
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert orders_without_items(str(copy)) == 0
        snap = check_invariants(str(copy), {"tea": STOCK})
        sizes.append(len(snap.orders))
    assert 0 < sizes[0] <= sizes[1] <= load.accepted
    print(
        f"F7 (backup): {load.summary()}; backup API copy {sizes[0]} orders, VACUUM INTO copy {sizes[1]} orders,"
        " both integrity ok and conserved"
    )


def test_F8_catalog_swap_during_load(make_shop: Callable[..., tuple[Path, Path]], tmp_path: Path) -> None:
    """F8. A rebuilt catalog.json (new price, new hash) is swapped in atomically during load (16
    threads); half the carts come from the old page, half from the new. Every stored order records
    exactly one catalog hash and is priced entirely by it; an old-page cart after the swap gets
    409 price_changed with the new total (the new price is never charged silently); 0 5xx."""
    site, catalog = make_shop({"tea": (100, STOCK)})
    new_site = tmp_path / "rebuilt"
    rebuilt = {"site.yml": SITE_YML, "content/catalog/shop.yml": products_yaml({"tea": (120, STOCK)})}
    new_catalog = write_catalog(new_site, rebuilt)
    old_hash, new_hash = load_catalog(catalog).hash, load_catalog(new_catalog).hash
    assert old_hash != new_hash
    totals = {old_hash: 11000, new_hash: 13000}
    bodies = {"old": cart([("tea", 1)], PRICES), "new": cart([("tea", 1)], {"tea": 12000})}
    swapped: dict[str, float] = {}

    def swap() -> None:
        time.sleep(3)
        staging = catalog.with_name("catalog.json.new")
        shutil.copyfile(new_catalog, staging)
        os.replace(staging, catalog)
        swapped["at"] = time.monotonic()

    with running(ServerProcess(site, catalog, str(tmp_path / "f8.sqlite3"))) as server:
        swapper = threading.Thread(target=swap)
        swapper.start()

        def send(t: int, n: int) -> Outcome:
            page = "old" if (t + n) % 2 else "new"
            return post(server.port, bodies[page], f"f8-{page}-{t}-{n}", timeout=15)

        outcomes = run_for(8, 16, send)
        swapper.join(timeout=30)
        db = str(tmp_path / "f8.sqlite3")
    assert [o.error for o in outcomes if o.status == 0] == []
    assert set(statuses(outcomes)) <= {201, 409} and traceback_free(outcomes), statuses(outcomes)
    for o in outcomes:
        page = o.key.split("-")[1]
        if o.status == 201:
            assert o.body["total"] == bodies[page]["expected_total"], "priced as the buyer saw it, or refused"
            assert totals[o.body["catalog_hash"]] == o.body["total"]
        else:
            assert o.code == "price_changed" and o.body["error"]["total"] in (11000, 13000)
            assert o.body["error"]["total"] != bodies[page]["expected_total"]
    stale = [o for o in outcomes if o.key.startswith("f8-old") and o.at > swapped["at"] + 0.5]
    assert stale and all(o.status == 409 and o.body["error"]["total"] == 13000 for o in stale)
    snap = check_invariants(db, {"tea": STOCK})
    for ref, (_, total, _) in snap.orders.items():
        assert totals[snap.catalog_hashes[ref]] == total, "each order priced entirely by its one catalog"
    print(
        f"F8: {dict(statuses(outcomes))} over the swap; {len(stale)} old-page carts after it all got 409 "
        f"price_changed with the new total; {len(snap.orders)} orders each priced by its recorded catalog"
    )
