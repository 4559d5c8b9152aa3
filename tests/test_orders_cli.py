"""The seller's tools: micromall orders list, show, export, set-status, report."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from orders_fixtures import write_catalog
from wsgi_client import post_json

from generator.orders.app import OrderService, make_app
from generator.orders.config import ServiceConfig

SITE = {
    "site.yml": "title: Seller\nbase_url: https://shop.example.com/\ncurrency: CNY\n"
    "shipping: [{id: standard, label: Standard, price: 10}]\n",
    "content/catalog/shop.yml": "products:\n  - {id: tea, title: 龙井 Longjing, price: 100, stock: 5}\n",
}


def place_orders(site: Path, count: int) -> list[str]:
    catalog = write_catalog(site, SITE)
    svc = OrderService(ServiceConfig(catalog=catalog, database=str(site / "orders.sqlite3")))
    app = make_app(svc.config, svc)
    refs = []
    for i in range(count):
        body = {
            "items": [{"product": "tea", "variant": None, "quantity": i + 1}],
            "shipping": "standard",
            "customer": {
                "name": f"王{i}",
                "phone": "+86 138 0000 0000",
                "email": f"b{i}@example.com",
                "address": "1 Rd",
            },
            "expected_total": (i + 1) * 10000 + 1000,
        }
        refs.append(post_json(app, "/api/orders", body, key=f"k{i}").json["reference"])
    svc.store.close()
    return refs


def test_list_show_export_status_report(tmp_path: Path, cli: Callable[..., Result]) -> None:
    site = tmp_path / "site"
    first, second = place_orders(site, 2)
    listed = cli("orders", "list", str(site))
    assert listed.exit_code == 0, listed.output
    assert first in listed.output and second in listed.output and "2 order(s)" in listed.output
    assert "CN¥110.00" in listed.output

    shown = cli("orders", "show", str(site), first)
    assert "1 x 龙井 Longjing" in shown.output and "Email: b0@example.com" in shown.output

    exported = cli("orders", "export", str(site), "--csv")
    rows = list(csv.DictReader(io.StringIO(exported.output.lstrip("\ufeff"))))
    assert [(r["reference"], r["quantity"], r["unit_price"], r["name"]) for r in rows] == [
        (first, "1", "100", "王0"), (second, "2", "100", "王1")]  # fmt: skip

    assert cli("orders", "set-status", str(site), first, "shipped").exit_code == 1  # not paid yet
    assert "is now paid" in cli("orders", "set-status", str(site), first, "paid").output
    cancelled = cli("orders", "set-status", str(site), second, "cancelled")
    assert "is now cancelled" in cancelled.output
    assert "1 order(s)" in cli("orders", "list", str(site), "--status", "paid").output

    report = cli("orders", "report", str(site))
    assert "1 order(s)" in report.output and "CN¥110.00" in report.output
    assert "1 sold" in report.output, "cancelled orders are left out"


def test_an_unknown_reference(tmp_path: Path, cli: Callable[..., Result]) -> None:
    site = tmp_path / "site"
    place_orders(site, 1)
    result = cli("orders", "show", str(site), "MM-NOPE00")
    assert result.exit_code == 1 and "no order MM-NOPE00" in result.stderr
