"""Shared by the reliability and security suite (plan checks B1-B7 and S1-S8): tiers, Hypothesis
profiles and the shop fixtures. Not a conftest.py: a second module named `conftest` would shadow
tests/conftest.py for the test files that import from it.

Two tiers: every CI run uses reduced counts; MICROMALL_EXTENDED=1 runs the full counts of the
plan. Hypothesis is derandomized in CI (profile `ci`) so a failure replays the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from live import Live, live_server
from orders_fixtures import write_catalog
from shop import ADMIN_TOKEN, SHOP, make

from generator.orders.app import OrderService

EXTENDED = os.environ.get("MICROMALL_EXTENDED") == "1"

settings.register_profile(
    "ci", derandomize=True, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
settings.register_profile(
    "extended", deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
settings.load_profile("extended" if EXTENDED else "ci")


def count(ci: int, extended: int) -> int:
    """How many examples or repeats a check runs in this tier."""
    return extended if EXTENDED else ci


@pytest.fixture(scope="module")
def shop_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("rel-shop"), SHOP)


@pytest.fixture
def shop(shop_catalog: Path, tmp_path: Path) -> Iterator[tuple[OrderService, Any]]:
    service, app = make(shop_catalog, tmp_path / "orders.sqlite3", admin_token=ADMIN_TOKEN)
    yield service, app
    service.store.close()


@pytest.fixture
def live(shop_catalog: Path, tmp_path: Path) -> Iterator[Live]:
    """The service as a process on a free loopback port, with an admin token, on SQLite."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "orders.yml").write_text(f"admin_token: {ADMIN_TOKEN}\n", "utf-8")
    with live_server(site, shop_catalog, str(tmp_path / "live.sqlite3"), tmp_path / "serve.log") as server:
        yield server
