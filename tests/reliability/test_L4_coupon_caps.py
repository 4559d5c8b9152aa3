"""L4: coupon caps hold under concurrency, for one code and for codes sharing one promotion."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from loadkit import Outcome, check_invariants, post, query, run_together, statuses, traceback_free
from order_server import ServerProcess, running
from reliability_shop import BUYER, cart

pytestmark = pytest.mark.serial

PRICES = {"tea": 10000}
COUPONS = """\
coupons:
  - {code: A, percent_off: 10, max_uses: 10, once_per_customer: true}
  - {code: B1, amount_off: 5, max_uses: 5, promotion: spring}
  - {code: B2, amount_off: 5, max_uses: 5, promotion: spring}
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_L4_coupon_caps_under_concurrency(
    backend: str, make_shop: Callable[..., tuple[Path, Path]], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """L4. Coupon A: global limit 10 and once per customer; 200 concurrent orders from 100 distinct
    emails (2 each). Codes B1 and B2 share one promotion capped at 5; 100 concurrent orders split
    between them. Exactly 10 orders carry A's discount and no email uses A twice; exactly 5 carry
    the B discount across B1+B2; the rest get 409 coupon_exhausted (never accepted at full price,
    never discounted past the cap); each redemption counter = its number of discounted orders."""
    site, catalog = make_shop({"tea": (100, 100_000)})
    config = tmp_path / "orders.yml"
    config.write_text(COUPONS)
    db = str(tmp_path / "l4.sqlite3") if backend == "sqlite" else request.getfixturevalue("fresh_postgres")()

    def a_order(i: int) -> dict[str, object]:
        buyer = {**BUYER, "email": f"buyer{i % 100}@example.com"}
        return cart([("tea", 1)], PRICES, coupon="A", customer=buyer, expected_total=9000 + 1000)

    with running(ServerProcess(site, catalog, db, config=config)) as server:
        a: list[Outcome] = run_together(200, 50, lambda i: post(server.port, a_order(i), f"a-{i}"))
        b_bodies = [cart([("tea", 1)], PRICES, coupon=f"B{1 + i % 2}", expected_total=9500 + 1000) for i in range(100)]
        b: list[Outcome] = run_together(100, 50, lambda i: post(server.port, b_bodies[i], f"b-{i}"))
    for results, cap, discount in ((a, 10, 1000), (b, 5, 500)):
        assert statuses(results) == {201: cap, 409: len(results) - cap}, statuses(results)
        assert {o.code for o in results if o.status == 409} == {"coupon_exhausted"}
        assert all(o.body["discount"] == discount for o in results if o.status == 201), "never at full price"
        assert traceback_free(results)
    emails = Counter(f"buyer{int(o.key.split('-')[1]) % 100}" for o in a if o.status == 201)
    assert set(emails.values()) == {1}, "no email uses A twice"
    assert {o.body["coupon"] for o in b if o.status == 201} <= {"B1", "B2"}
    snap = check_invariants(db, {"tea": 100_000})
    assert len(snap.orders) == 15
    counters = dict(query(db, "SELECT code, used FROM coupon_uses"))
    assert counters == {"A": 10, "promotion:spring": 5}, counters
    assert query(db, "SELECT COUNT(*) FROM coupon_customers WHERE code = 'A'")[0][0] == 10
    print(f"L4 ({backend}): A {dict(statuses(a))} (10 distinct emails), B1+B2 {dict(statuses(b))}; counters {counters}")


def test_L4_codes_of_one_promotion_must_share_their_cap(tmp_path: Path) -> None:
    """L4 (configuration). Codes that share a promotion share one count, so a different max_uses
    on one of them is a configuration error with its file and line, not a silent second cap."""
    from generator.orders.config import ConfigError, load_service_config

    config = tmp_path / "orders.yml"
    config.write_text("coupons:\n  - {code: B1, amount_off: 5, max_uses: 5, promotion: spring}\n"
                      "  - {code: B2, amount_off: 5, max_uses: 6, promotion: spring}\n")  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_service_config(config, tmp_path)
    (problem,) = caught.value.problems
    assert "promotion 'spring'" in str(problem) and str(problem).startswith("orders.yml:3:5: coupons[1]:")
