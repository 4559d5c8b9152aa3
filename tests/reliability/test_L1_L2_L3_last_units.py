"""L1-L3: the last units under concurrency never oversell, on SQLite and PostgreSQL.

Every repeat uses a fresh database and a fresh service; client threads are released together by
a barrier and every outcome is recorded; the invariants are read from the database itself.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from loadkit import Outcome, check_invariants, post, run_together, statuses, tier, traceback_free
from order_server import ServerProcess, running
from reliability_shop import cart

REPEATS = tier(5, 200)
pytestmark = [pytest.mark.serial, pytest.mark.timeout(tier(600, 200 * 60))]

PRODUCTS = {"tea": (100, 100), "jar": (50, 100)}
PRICES = {"tea": 10000, "jar": 5000}


def last_units_round(ports: list[int], database: str, seed: int) -> dict[str, int]:
    """One repeat of L1/L2 on a fresh database; returns the figures it asserted."""
    one = cart([("tea", 1)], PRICES)
    results: list[Outcome] = run_together(500, 50, lambda i: post(ports[i % len(ports)], one, f"tea-{i}"))
    assert all(isinstance(r, Outcome) for r in results)
    assert [r.error for r in results if r.status == 0] == [], "connection errors"
    assert statuses(results) == {201: 100, 409: 400}, statuses(results)
    assert {r.code for r in results if r.status == 409} == {"out_of_stock"}
    assert traceback_free(results)
    snap = check_invariants(database, {"tea": 100}, [{"reference": r.reference, "total": r.body["total"]}
                                                     for r in results if r.status == 201])  # fmt: skip
    assert snap.stock["tea"] == 0 and snap.sold["tea"] == 100

    # The variant: random quantities 1-3 of another product with 100 units.
    rng = random.Random(seed)
    wanted = [rng.randint(1, 3) for _ in range(500)]
    bodies = [cart([("jar", q)], PRICES) for q in wanted]
    varied: list[Outcome] = run_together(500, 50, lambda i: post(ports[i % len(ports)], bodies[i], f"jar-{i}"))
    assert [r.error for r in varied if r.status == 0] == []
    assert set(statuses(varied)) <= {201, 409} and traceback_free(varied)
    accepted = [(r, q) for r, q in zip(varied, wanted, strict=True) if r.status == 201]
    assert sum(q for _, q in accepted) <= 100
    snap = check_invariants(database, {"jar": 100}, [{"reference": r.reference, "total": r.body["total"]}
                                                     for r, _ in accepted])  # fmt: skip
    for r, q in accepted:  # no partially filled order: each holds exactly what it asked for
        assert r.body["items"][0]["quantity"] == q
    assert snap.sold["jar"] == sum(q for _, q in accepted)
    return {"accepted": 100, "variant_units": sum(q for _, q in accepted)}


def test_L1_last_units_sqlite(make_shop: Callable[..., tuple[Path, Path]], tmp_path: Path) -> None:
    """L1. Stock 100; 500 checkouts of qty 1 from 50 threads released together, repeated with
    fresh databases (5x in CI, 200x extended). Every repeat: exactly 100x201 and 400x409
    out_of_stock, 0 5xx, 0 connection errors, stock 0, sum of qty 100, conservation holds.
    Variant (random qty 1-3): accepted qty <= 100, conservation, no partially filled order."""
    site, catalog = make_shop(PRODUCTS)
    units = []
    for n in range(REPEATS):
        db = str(tmp_path / f"l1-{n}.sqlite3")
        with running(ServerProcess(site, catalog, db)) as server:
            units.append(last_units_round([server.port], db, seed=n)["variant_units"])
    print(f"L1: {REPEATS}/{REPEATS} repeats exactly 100 accepted of 500; variant accepted units {Counter(units)}")


def test_L2_last_units_postgresql(
    make_shop: Callable[..., tuple[Path, Path]], fresh_postgres: Callable[[], str]
) -> None:
    """L2. As L1 against a real PostgreSQL with two service processes sharing it. Same numbers on
    every repeat (5x CI, 200x extended); no deadlock or serialization error reaches a client
    (they are retried inside the request, at most 3 attempts, then 503 retry)."""
    site, catalog = make_shop(PRODUCTS)
    for n in range(REPEATS):
        db = fresh_postgres()
        with running(ServerProcess(site, catalog, db)) as a, running(ServerProcess(site, catalog, db)) as b:
            last_units_round([a.port, b.port], db, seed=n)
    print(f"L2: {REPEATS}/{REPEATS} repeats exactly 100 accepted of 500 over 2 processes")


def test_L2_serialization_failures_are_retried_at_most_three_times(fresh_postgres: Callable[[], str]) -> None:
    """L2 (retry rule). A serialization failure or deadlock is retried inside the request, 3
    attempts in all; a third failure is a Busy (503 `retry`), never the database's error."""
    from psycopg import errors

    from generator.orders.store import Busy, OrderStore
    from generator.orders.store_postgres import PostgresDialect

    store = OrderStore(PostgresDialect(fresh_postgres()))
    calls: list[int] = []

    def flaky(failures: int, exc: type[Exception]) -> Callable[[], str]:
        def attempt() -> str:
            calls.append(1)
            if len(calls) <= failures:
                raise exc("simulated")
            return "stored"

        return attempt

    assert store.retrying(flaky(2, errors.SerializationFailure)) == "stored" and len(calls) == 3
    calls.clear()
    with pytest.raises(Busy) as caught:
        store.retrying(flaky(3, errors.DeadlockDetected))
    assert caught.value.code == "retry" and len(calls) == 3


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_L3_shared_inventory_in_one_cart(
    backend: str, make_shop: Callable[..., tuple[Path, Path]], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """L3. micromall has no bundle SKUs; what draws twice on one stock line in one cart is two
    lines of the same item (merged into one stock take) and carts holding two limited items in
    opposite orders (the PostgreSQL deadlock shape). Stock 10; 50 concurrent carts each need
    2 + 2 units. Sum consumed <= 10, conservation holds, no negative stock; a single cart whose
    lines together exceed stock -> 409 out_of_stock naming the item."""
    site, catalog = make_shop({"kit": (20, 10), "pot": (30, 10)})
    prices = {"kit": 2000, "pot": 3000}
    db = str(tmp_path / "l3.sqlite3") if backend == "sqlite" else request.getfixturevalue("fresh_postgres")()
    shapes = [[("kit", 2), ("kit", 2)], [("kit", 2), ("pot", 2)], [("pot", 2), ("kit", 2)]]
    bodies = [cart(shapes[i % 3], prices) for i in range(50)]
    with running(ServerProcess(site, catalog, db)) as server:
        results: list[Outcome] = run_together(50, 50, lambda i: post(server.port, bodies[i], f"l3-{i}"))
        over = post(server.port, cart([("kit", 6), ("kit", 6)], prices), "l3-over")
    assert set(statuses(results)) <= {201, 409}, statuses(results)
    assert {r.code for r in results if r.status == 409} <= {"out_of_stock"}
    acked = [{"reference": r.reference, "total": r.body["total"]} for r in results if r.status == 201]
    snap = check_invariants(db, {"kit": 10, "pot": 10}, acked)
    assert snap.sold["kit"] <= 10 and snap.sold["pot"] <= 10
    assert all(v is None or v >= 0 for v in snap.stock.values())
    assert over.status == 409 and over.code == "out_of_stock"
    assert [i["product"] for i in over.body["error"]["items"]] == ["kit"]
    print(f"L3 ({backend}): {len(acked)} carts accepted, kit consumed {snap.sold['kit']}/10, pot {snap.sold['pot']}/10")
