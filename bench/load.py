"""The load harness: accepted orders/s and latency of the order service, SQLite vs PostgreSQL.

For each database it starts `micromall orders serve` as a real process, sends orders with unique
Idempotency-Keys from client threads released together by a barrier (stdlib http.client, one
connection per order, body encoded first so it leaves in one segment), records every outcome,
appends every acknowledged order to a file with flush as it arrives, and then checks the database
itself, not the API: stock is conserved (initial = left + sold), every acknowledged order is
stored with the total it was acknowledged with, and there is one order per Idempotency-Key.
Needs Debian's postgresql for the PostgreSQL row (fsync on).

Run: python bench/load.py [--seconds 30] [--threads 16] [--only sqlite|postgres]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from loadkit import AckLog, check_invariants, rss_bytes, sustained  # noqa: E402
from order_server import ServerProcess, running  # noqa: E402
from orders_fixtures import write_catalog  # noqa: E402

from generator.orders.devdb import postgres_bindir, throwaway_postgres  # noqa: E402

STOCK = 10_000_000
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


def measure(site: Path, catalog: Path, database: str, seconds: float, threads: int, acks: Path) -> str:
    """One sustained run against a fresh database; raises AssertionError when an invariant breaks."""
    log = AckLog(acks)
    with running(ServerProcess(site, catalog, database)) as server:
        before = rss_bytes(server.pid)
        result = sustained(server.port, lambda t, n: BODY, seconds, threads, log, prefix="bench")
        growth = rss_bytes(server.pid) - before
    log.close()
    errors = [o.error for o in result.outcomes if o.status == 0]
    server_errors = [o for o in result.outcomes if o.status >= 500]
    check_invariants(database, {"tea": STOCK}, log.acked())
    return (f"{result.rate:7.1f} accepted orders/s   p50 {result.p(50) * 1000:6.1f} ms   "
            f"p99 {result.p(99) * 1000:6.1f} ms   5xx {len(server_errors)}   socket errors {len(errors)}   "
            f"server RSS +{growth / 2**20:.1f} MB   invariants ok")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site = root / "site"
        catalog = write_catalog(site, SITE)
        if args.only != "postgres":
            db = str(root / "orders.sqlite3")
            rows.append(("SQLite (WAL, synchronous=FULL)", measure(site, catalog, db, args.seconds, args.threads,
                                                                   root / "acks-sqlite.jsonl")))  # fmt: skip
        if args.only != "sqlite":
            if postgres_bindir() is None:
                rows.append(("PostgreSQL", "skipped: PostgreSQL is not installed"))
            else:
                with throwaway_postgres(fsync=True) as url:
                    rows.append(("PostgreSQL (fsync on)", measure(site, catalog, url, args.seconds, args.threads,
                                                                  root / "acks-postgres.jsonl")))  # fmt: skip
    print(f"{args.threads} client threads for {args.seconds:.0f} s each, unique Idempotency-Keys, 2 cores shared")
    for name, line in rows:
        print(f"{name:<32} {line}")


if __name__ == "__main__":
    main()
