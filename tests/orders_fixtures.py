"""Order-service fixtures: a built mini shop, a store on SQLite or on a throw-away PostgreSQL.

A test file names its shop in a module-level `SHOP` (files by path, see conftest.write_site);
`catalog_path`, `make_service`, `service` and `app` are then that shop's, on each database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import write_site

from generator.catalog_json import render_catalog_json
from generator.load import load_site
from generator.orders.app import OrderService, make_app
from generator.orders.config import ServiceConfig
from generator.orders.devdb import postgres_bindir, throwaway_postgres

#: The products the order tests buy: a limited tea, and a cup whose variants differ in price and stock.
TEST_PRODUCTS = """\
    products:
      - id: tea
        title: Green tea
        price: 128
        stock: 50
      - id: cup
        title: Cup
        price: 30
        options: {size: [S, M]}
        variants:
          - {id: s, options: {size: S}, stock: 5}
          - {id: m, options: {size: M}, price: 35.50}
    """


#: Shipping methods for site_yml(): standard delivery, free over 200, and store pickup.
STANDARD = "{id: standard, label: Standard, price: 10, free_over: 200}"
PICKUP = "{id: pickup, label: Store pickup, price: 0, pickup: true}"

#: content/stores.yml of the shops with store pickup: one store.
LAKE_STORE = "stores:\n  - {id: lake, name: Lake shop, address: 1 Lake Road, hours: [Mon-Sun 10-18]}\n"


def site_yml(title: str, *shipping: str, payment: str | None = "Pay by bank transfer.") -> str:
    """site.yml of an order test's shop (shop.example.com, CNY, the seller's email): its `shipping`
    methods, and the http checkout with `payment` as its instructions (None: no checkout section).
    One text for every order test, so that a shop differs from the others only where its test needs it."""
    lines = [f"title: {title}", "base_url: https://shop.example.com/", "currency: CNY",
             "contact: {email: seller@example.com}"]  # fmt: skip
    if payment is not None:
        lines.append(f'checkout: {{handler: http, payment_instructions: "{payment}"}}')
    lines += ["shipping:", *(f"  - {method}" for method in shipping)]
    return "\n".join(lines) + "\n"


#: A buyer who passes every check, and the order the tests start from: one tea and two cups
#: of size M, shipped standard (subtotal 199.00 + shipping 10.00).
CUSTOMER = {"name": "Li Wei", "phone": "+86 138 0000 0000", "email": "li@example.com", "address": "2 Hill St"}


def order_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "items": [
            {"product": "tea", "variant": None, "quantity": 1},
            {"product": "cup", "variant": "m", "quantity": 2},
        ],
        "shipping": "standard",
        "customer": dict(CUSTOMER),
        "note": "",
        "coupon": "",
        "expected_total": 12800 + 2 * 3550 + 1000,
    }
    body.update(changes)
    return body


def write_catalog(site: Path, files: dict[str, str | None]) -> Path:
    """Write a small shop into `site` and its catalog.json into site/public, without themes:
    the order service needs only the catalog."""
    write_site(site, files)
    loaded, _ = load_site(site)
    path = site / "public" / "catalog.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_catalog_json(loaded))
    return path


@pytest.fixture
def catalog_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The catalog.json of the test file's shop: the files of its module-level `SHOP`."""
    shop: dict[str, str | None] = request.module.SHOP
    return write_catalog(tmp_path / "shop", shop)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL cluster for the session; MICROMALL_TEST_POSTGRES may name an existing server."""
    external = os.environ.get("MICROMALL_TEST_POSTGRES")
    if external:
        yield external
        return
    if postgres_bindir() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with throwaway_postgres() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield postgres_server.replace("/postgres?", f"/{name}?")
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each order test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "orders.sqlite3")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def service_factory(database: str) -> Iterator[Callable[..., OrderService]]:
    """service_factory(catalog, **settings): an OrderService on this test's database, closed after."""
    made: list[OrderService] = []

    def make(catalog: Path, **settings: Any) -> OrderService:
        svc = OrderService(ServiceConfig(catalog=catalog, database=database, **settings))
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.store.close()


@pytest.fixture
def make_service(catalog_path: Path, service_factory: Callable[..., OrderService]) -> Callable[..., OrderService]:
    """make_service(**settings): an OrderService for the test file's shop; a file that needs more
    (a payment handler, notifiers) defines its own."""
    return lambda **settings: service_factory(catalog_path, **settings)


@pytest.fixture
def service(make_service: Callable[..., OrderService]) -> OrderService:
    """The default service of a test file (its `make_service`)."""
    return make_service()


@pytest.fixture
def app(service: OrderService) -> Any:
    return make_app(service.config, service)
