"""Fixtures of the reliability suite: a small shop with known stock, fresh databases per repeat."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from orders_fixtures import write_catalog
from reliability_shop import SITE_YML, products_yaml


@pytest.fixture
def make_shop(tmp_path: Path) -> Callable[..., tuple[Path, Path]]:
    """make_shop({'tea': (100, 100)}) -> (site dir, catalog.json) of a shop selling those products."""

    def make(products: dict[str, tuple[int, int | None]], name: str = "site") -> tuple[Path, Path]:
        site = tmp_path / name
        return site, write_catalog(site, {"site.yml": SITE_YML, "content/catalog/shop.yml": products_yaml(products)})

    return make


@pytest.fixture
def fresh_postgres(postgres_server: str) -> Iterator[Callable[[], str]]:
    """fresh_postgres() -> the URL of a new empty database; all are dropped after the test."""
    import psycopg

    made: list[str] = []

    def make() -> str:
        name = "r_" + uuid.uuid4().hex[:12]
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        made.append(name)
        return postgres_server.replace("/postgres?", f"/{name}?")

    yield make
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        for name in made:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
