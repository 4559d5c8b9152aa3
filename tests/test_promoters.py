"""Promoters: content/promoters.yml checked, unlisted kit pages, referral codes stored with orders
and the per-promoter report."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from orders_fixtures import CUSTOMER, order_body, write_catalog
from wsgi_client import post_json

from generator.build import build
from generator.orders.app import OrderService, make_app
from generator.orders.cli import commission_of
from generator.orders.config import ServiceConfig
from generator.orders.store import SCHEMA, OrderStore
from generator.orders.store_sqlite import SqliteDialect
from generator.promoters import kit_hash, kit_url

SECRET = "a-test-secret-of-some-length"
PROMOTERS = f"""\
kit_secret: {SECRET}
promoters:
  - code: anna
    name: Anna Becker
    commission: 0.1
  - code: xiaomei
    name: 林小梅
"""

# ---- validation -----------------------------------------------------------------------------

CASES: dict[str, tuple[str, list[str]]] = {
    "unknown key, bad code, duplicate, commission out of range, no name": (
        "kit_secret: a-test-secret-of-some-length\n"
        "promoters:\n"
        "  - code: anna\n"
        "    name: Anna\n"
        "    comission: 0.1\n"
        "  - code: Anna B\n"
        "    name: Anna B\n"
        "  - code: anna\n"
        "    name: Again\n"
        "  - code: bo\n"
        "    commission: 10\n",
        [
            "content/promoters.yml:5:5: promoters[0].comission: unknown field (did you mean 'commission'?)",
            "content/promoters.yml:6:11: promoters[1].code: 'Anna B' is not a valid code: use up to 40 lowercase"
            " letters, digits and hyphens (it appears in links as ?ref=CODE)",
            "content/promoters.yml:8:11: promoters[2].code: duplicate promoter code 'anna' (first at line 3)",
            "content/promoters.yml:10:5: promoters[3].name: is required",
            "content/promoters.yml:11:17: promoters[3].commission: must be a fraction of the order subtotal"
            " from 0 to 1, such as 0.1 for 10%, got 10",
        ],
    ),
    "commission as text, unknown top-level key": (
        "kit_secret: a-test-secret-of-some-length\npromoter:\n  - code: a\npromoters:\n"
        "  - code: a\n    name: A\n    commission: 10%\n",
        [
            "content/promoters.yml:2:1: promoter: unknown field (did you mean 'promoters'?)",
            "content/promoters.yml:7:17: promoters[0].commission: must be a fraction of the order subtotal"
            " from 0 to 1, such as 0.1 for 10%, got text",
        ],
    ),
    "no kit secret": (
        "promoters:\n  - code: a\n    name: A\n",
        [
            "content/promoters.yml:1:1: kit_secret: is required when there are promoters: a long random text that"
            " keeps the kit pages' addresses unguessable, e.g. kit_secret: env:MICROMALL_KIT_SECRET with that"
            ' variable set to the output of: python -c "import secrets; print(secrets.token_hex(16))"'
        ],
    ),
    "short kit secret": (
        "kit_secret: hunter2\npromoters:\n  - code: a\n    name: A\n",
        [
            "content/promoters.yml:1:13: kit_secret: must be at least 16 characters,"
            " so that kit addresses cannot be guessed"
        ],
    ),
    "kit secret from an unset environment variable": (
        "kit_secret: env:MICROMALL_TEST_UNSET_SECRET\npromoters:\n  - code: a\n    name: A\n",
        [
            "content/promoters.yml:1:13: kit_secret: environment variable MICROMALL_TEST_UNSET_SECRET is not set"
            " (it holds the kit pages' secret)"
        ],
    ),
    "promoters not a list": (
        "kit_secret: a-test-secret-of-some-length\npromoters: anna\n",
        ["content/promoters.yml:2:12: promoters: must be a list, got text"],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_promoters_messages_are_pinned(
    name: str, make_site: Callable[..., Path], cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MICROMALL_TEST_UNSET_SECRET", raising=False)
    text, expected = CASES[name]
    site = make_site({"content/promoters.yml": text})
    result = cli("check", str(site))
    assert result.exit_code == 1
    count = f"{len(expected)} error" + ("s" if len(expected) != 1 else "")
    assert result.stderr.splitlines() == [*expected, count]
    assert "Traceback" not in result.stderr


def test_the_kit_secret_may_come_from_the_environment(
    make_site: Callable[..., Path], cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROMALL_TEST_KIT_SECRET", SECRET)
    site = make_site({"content/promoters.yml": PROMOTERS.replace(SECRET, "env:MICROMALL_TEST_KIT_SECRET")})
    result = cli("build", str(site))
    assert result.exit_code == 0, result.output
    assert f"  anna (Anna Becker): https://shop.example.com/{kit_url(SECRET, 'anna')}" in result.output.splitlines()


# ---- kit addresses ---------------------------------------------------------------------------


def test_kit_addresses_are_stable_and_depend_on_the_secret() -> None:
    assert kit_hash(SECRET, "anna") == kit_hash(SECRET, "anna")
    assert re.fullmatch(r"[0-9a-f]{16}", kit_hash(SECRET, "anna"))
    assert kit_hash(SECRET, "anna") != kit_hash(SECRET + "x", "anna")
    assert kit_hash(SECRET, "anna") != kit_hash(SECRET, "bob")
    # not a plain hash of the code: nothing public gives it away
    import hashlib

    assert kit_hash(SECRET, "anna") not in hashlib.sha256(b"anna").hexdigest()
    assert kit_url(SECRET, "anna") == f"kit/anna-{kit_hash(SECRET, 'anna')}/"


# ---- kit pages in the built demo -------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.robots: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("href", "src", "action", "data-src", "content"):
            if a.get(key):
                self.links.append(a[key] or "")
        if tag == "meta" and a.get("name") == "robots":
            self.robots.append(a.get("content") or "")


def parse(html: str) -> _Links:
    found = _Links()
    found.feed(html)
    return found


def demo_kits(built_demo: Path) -> list[Path]:
    return sorted((built_demo / "kit").iterdir())


def test_the_demo_has_a_kit_per_promoter(built_demo: Path) -> None:
    kits = demo_kits(built_demo)
    assert [k.name.rsplit("-", 1)[0] for k in kits] == ["anna", "xiaomei"]
    for kit in kits:
        assert re.fullmatch(r"[a-z0-9-]+-[0-9a-f]{16}", kit.name)


def test_kit_pages_are_noindex_and_list_every_product_with_the_promoters_link(built_demo: Path) -> None:
    catalog = json.loads((built_demo / "catalog.json").read_text("utf-8"))
    for kit in demo_kits(built_demo):
        code = kit.name.rsplit("-", 1)[0]
        html = (kit / "index.html").read_text("utf-8")
        page = parse(html)
        assert page.robots == ["noindex,nofollow"]
        links = re.findall(r'value="([^"]+)" readonly data-kit-link', html)
        expected = [f"https://example.com/products/{p['id']}/?ref={code}" for p in catalog["products"]]
        assert sorted(links) == sorted(expected)
        texts = re.findall(r"<textarea[^>]*data-kit-text>(.*?)</textarea>", html, re.S)
        assert len(texts) == len(expected)
        for text in texts:
            assert text.strip().splitlines()[-1] in expected  # the share text ends with the promoter's link
        for product in catalog["products"]:
            for layout in ("square", "story"):
                assert f"/kit/{kit.name}/posters/{product['id']}-{layout}.jpg?v=" in html


def test_public_pages_never_name_a_kit(built_demo: Path) -> None:
    """Not in the sitemap, search index, feeds, manifest or catalog; not linked from any page."""
    kit_names = [k.name for k in demo_kits(built_demo)]
    sitemap = ET.parse(built_demo / "sitemap.xml").getroot()
    locs = [e.text or "" for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert locs and not any("/kit/" in loc for loc in locs)
    public = [p for p in built_demo.rglob("*") if p.is_file() and "kit" not in p.relative_to(built_demo).parts]
    texts = [p for p in public if p.suffix in (".html", ".xml", ".json", ".txt", ".csv", ".js", ".css")]
    assert any(p.name == "search.json" for p in texts) and any(p.name == "feed.xml" for p in texts)
    assert any(p.name == ".micromall-manifest.json" for p in texts)
    for file in texts:
        content = file.read_text("utf-8")
        for name in kit_names:
            assert name not in content, file
            assert name.rsplit("-", 1)[1] not in content, file
        if file.suffix == ".html":
            assert not [link for link in parse(content).links if "kit/" in link], file


def test_the_kit_secret_is_not_published(built_demo: Path) -> None:
    from conftest import REPO

    from generator.promoters import PROMOTERS_FILE

    secret = re.search(r"^kit_secret: (\S+)", (REPO / PROMOTERS_FILE).read_text("utf-8"), re.M)
    assert secret
    for file in built_demo.rglob("*"):
        if file.is_file():
            assert secret.group(1).encode() not in file.read_bytes(), file


def test_catalog_json_lists_the_codes_but_not_names_or_commissions(built_demo: Path) -> None:
    raw = (built_demo / "catalog.json").read_text("utf-8")
    assert json.loads(raw)["promoters"] == ["anna", "xiaomei"]
    assert "林小梅" not in raw and "Anna Becker" not in raw and "commission" not in raw


def test_a_removed_promoter_s_kit_is_deleted_and_warm_builds_draw_nothing(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site({"content/promoters.yml": PROMOTERS})
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = build(site, out, cache_dir=cache)
    assert first.images_drawn > 0
    anna, xiaomei = (out / kit_url(SECRET, code) for code in ("anna", "xiaomei"))
    assert (anna / "index.html").is_file() and (xiaomei / "posters").is_dir()
    again = build(site, out, cache_dir=cache)
    assert again.images_drawn == 0
    (site / "content/promoters.yml").write_text(PROMOTERS.split("  - code: xiaomei")[0], "utf-8")
    build(site, out, cache_dir=cache)
    assert (anna / "index.html").is_file()
    assert not xiaomei.exists()


# ---- the order service -----------------------------------------------------------------------

SHOP = {
    "site.yml": "title: Seller\nbase_url: https://shop.example.com/\ncurrency: CNY\n"
    "shipping: [{id: standard, label: Standard, price: 10}]\n",
    "content/catalog/shop.yml": "products:\n  - {id: tea, title: Tea, price: 123.45}\n",
    "content/stores.yml": "stores:\n  - {id: lake, name: Lake, address: 1 Lake Rd}\n",
    "content/promoters.yml": PROMOTERS,
}


def tea_order(**changes: Any) -> dict[str, Any]:
    body = order_body(items=[{"product": "tea", "variant": None, "quantity": 1}], expected_total=12345 + 1000)
    body.update(changes)
    return body


@pytest.fixture
def shop_service(tmp_path: Path) -> tuple[Path, OrderService]:
    site = tmp_path / "site"
    catalog = write_catalog(site, SHOP)
    svc = OrderService(ServiceConfig(catalog=catalog, database=str(site / "orders.sqlite3")))
    return site, svc


def stored(site: Path, reference: str) -> tuple[str | None, str | None]:
    with sqlite3.connect(site / "orders.sqlite3") as conn:
        row = conn.execute("SELECT ref, source_store FROM orders WHERE reference = ?", (reference,)).fetchone()
    return row[0], row[1]


def test_a_known_ref_and_source_store_are_stored_and_unknown_ones_dropped(
    shop_service: tuple[Path, OrderService],
) -> None:
    site, svc = shop_service
    app = make_app(svc.config, svc)
    cases = [
        ({"ref": "anna", "source_store": "lake"}, ("anna", "lake")),
        ({"ref": "nobody", "source_store": "atlantis"}, (None, None)),  # unknown: the order still goes through
        ({"ref": "Not A Code!", "source_store": ""}, (None, None)),
        ({"ref": None}, (None, None)),
        ({}, (None, None)),
    ]
    for n, (extra, expected) in enumerate(cases):
        response = post_json(app, "/api/orders", tea_order(**extra), key=f"k{n}")
        assert response.status == 201, response.json
        assert stored(site, response.json["reference"]) == expected, extra
    refused = post_json(app, "/api/orders", tea_order(ref=7), key="bad")
    assert refused.status == 422
    error = {k: v for k, v in refused.json["error"].items() if k != "request_id"}
    assert error == {"code": "invalid_field", "message": "ref: must be text or null", "field": "ref"}
    svc.store.close()


def test_an_old_database_gains_the_new_columns_and_keeps_its_orders(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as conn:
        for statement in SCHEMA:  # the tables as released before the promoters' columns
            conn.execute(statement)
        conn.execute(
            "INSERT INTO orders (reference, token_hash, status, currency, subtotal, discount, shipping_cost, total,"
            " shipping_id, catalog_hash, handler, idempotency_key, customer, note, document, created_at, updated_at)"
            " VALUES ('MM-OLD111', 'h', 'paid', 'CNY', 100, 0, 0, 100, 'standard', 'sha256:x', 'manual', 'k',"
            " '{}', '', '{\"currency\": \"CNY\"}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
        )
        before = {r[1] for r in conn.execute("PRAGMA table_info(orders)")}
    assert "ref" not in before and "source_store" not in before
    store = OrderStore(SqliteDialect(str(db)))
    store.migrate()
    store.migrate()  # a second start finds the columns there
    old = store.get("MM-OLD111")
    store.close()
    assert old is not None and old.ref is None and old.source_store is None and old.subtotal == 100
    with sqlite3.connect(db) as conn:
        after = {r[1] for r in conn.execute("PRAGMA table_info(orders)")}
    assert after == before | {"ref", "source_store"}


def test_an_old_postgres_database_gains_the_new_columns(postgres_url: str) -> None:
    import psycopg

    from generator.orders.store_postgres import PostgresDialect

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for statement in SCHEMA:  # the tables as released before the promoters' columns
            conn.execute(statement)
        cols = {
            r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'")
        }
        assert "ref" not in cols
    store = OrderStore(PostgresDialect(postgres_url))
    store.migrate()
    store.migrate()
    store.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        cols = {
            r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'")
        }
    assert {"ref", "source_store"} <= cols


# ---- the report --------------------------------------------------------------------------------


def test_commission_is_rounded_half_up_to_minor_units() -> None:
    assert commission_of(12345, Decimal("0.1")) == 1235  # 1234.5 -> 1235
    assert commission_of(12344, Decimal("0.1")) == 1234
    assert commission_of(999, Decimal("0.085")) == 85  # 84.915 -> 85
    assert commission_of(100, Decimal(0)) == 0


def test_report_by_promoter(shop_service: tuple[Path, OrderService], cli: Callable[..., Result]) -> None:
    site, svc = shop_service
    app = make_app(svc.config, svc)
    refs = {}
    for n, ref in enumerate(["anna", "anna", "xiaomei", None, "anna"]):
        response = post_json(app, "/api/orders", tea_order(ref=ref, customer={**CUSTOMER, "email": f"b{n}@x.org"}),
                             key=f"k{n}")  # fmt: skip
        assert response.status == 201, response.json
        refs[n] = response.json["reference"]
    svc.store.close()
    cancelled = cli("orders", "set-status", str(site), refs[4], "cancelled")
    assert cancelled.exit_code == 0, cancelled.output

    result = cli("orders", "report", str(site), "--by", "promoter")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines()[2:]}
    # anna: 2 orders (the cancelled one left out), subtotal 2 x 123.45, revenue 2 x 133.45,
    # commission 10% of each subtotal, 12.345 rounded half up to 12.35, twice
    assert rows["anna"].split() == ["anna", "Anna", "Becker", "2", "CN¥246.90", "CN¥266.90", "10%", "CN¥24.70"]
    assert rows["xiaomei"].split() == ["xiaomei", "林小梅", "1", "CN¥123.45", "CN¥133.45", "-", "CN¥0.00"]
    assert rows["(no"].split() == ["(no", "promoter)", "1", "CN¥123.45", "CN¥133.45"]

    exported = cli("orders", "export", str(site), "--csv")
    found = list(csv.DictReader(io.StringIO(exported.output.lstrip("\ufeff"))))
    codes = ["anna", "anna", "xiaomei", "", "anna"]
    assert [(r["reference"], r["ref"]) for r in found] == [(refs[n], code) for n, code in enumerate(codes)]
