"""Accepted orders per second and latency of the order service over loopback, SQLite vs PostgreSQL.

Starts `micromall orders serve` as a real process (waitress, 8 threads) for each database, sends
orders with unique Idempotency-Keys from client threads (stdlib http.client), records every
outcome, and checks the database afterwards: every acknowledged order is stored, and stock is
conserved. Prints medians over several runs. Needs Debian's postgresql for the PostgreSQL row.

Run: python bench/orders.py [--orders 1000] [--threads 16] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from order_server import order_server, post_order, run_together  # noqa: E402
from orders_fixtures import write_catalog  # noqa: E402

from generator.orders.app import make_store  # noqa: E402
from generator.orders.config import ServiceConfig  # noqa: E402
from generator.orders.devdb import postgres_bindir, throwaway_postgres  # noqa: E402

STOCK = 1_000_000
SITE = {
    "site.yml": "title: Bench\nbase_url: https://shop.example.com/\ncurrency: CNY\n"
    "shipping: [{id: standard, label: Standard, price: 10}]\n",
    "content/catalog/shop.yml": f"products:\n  - {{id: tea, title: Tea, price: 100, stock: {STOCK}}}\n",
}
BODY = {
    "items": [{"product": "tea", "variant": None, "quantity": 1}],
    "shipping": "standard",
    "customer": {"name": "Buyer", "phone": "+86 138 0000 0000", "email": "b@example.com", "address": "1 Road"},
    "expected_total": 11000,
}


def one_run(site: Path, catalog: Path, database: str, orders: int, threads: int) -> tuple[float, float, float]:
    latencies: list[float] = []

    def send(i: int) -> int:
        started = time.perf_counter()
        status, _ = post_order(port, BODY, f"bench-{time.time_ns()}-{i}")
        latencies.append(time.perf_counter() - started)
        return status

    with order_server(site, catalog, database) as port:
        started = time.perf_counter()
        results = run_together(orders, threads, send)
        elapsed = time.perf_counter() - started
    accepted = sum(1 for r in results if r == 201)
    if accepted != orders:
        raise SystemExit(f"only {accepted} of {orders} orders were accepted: {set(map(str, results))}")
    store = make_store(ServiceConfig(catalog=catalog, database=database))
    stored = store.orders()
    sold = sum(i["quantity"] for o in stored for i in o.items)
    left = store.stock()["tea"]
    store.close()
    if len(stored) != accepted or left != STOCK - sold:
        raise SystemExit(f"invariant broken: {accepted} acknowledged, {len(stored)} stored, {sold} sold, {left} left")
    latencies.sort()
    return accepted / elapsed, latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site = root / "site"
        catalog = write_catalog(site, SITE)
        rows = []
        backends = [("SQLite (WAL, synchronous=FULL)", lambda i: str(root / f"orders-{i}.sqlite3"))]
        pg = throwaway_postgres(fsync=True) if postgres_bindir() else None
        pg_url = pg.__enter__() if pg else None
        if pg_url:
            import psycopg

            def pg_db(i: int) -> str:
                with psycopg.connect(pg_url, autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE bench_{i}")
                return pg_url.replace("/postgres?", f"/bench_{i}?")

            backends.append(("PostgreSQL (fsync on)", pg_db))
        try:
            for name, make_db in backends:
                runs = [one_run(site, catalog, make_db(i), args.orders, args.threads) for i in range(args.runs)]
                rows.append((name, *(statistics.median(r[k] for r in runs) for k in range(3))))
        finally:
            if pg:
                pg.__exit__(None, None, None)
    print(f"{args.orders} orders from {args.threads} client threads, median of {args.runs} runs, 2 cores shared")
    for name, rate, p50, p99 in rows:
        print(f"{name:<32} {rate:8.1f} accepted orders/s   p50 {p50 * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
