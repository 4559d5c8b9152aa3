"""content/promotions.yml and product group buys on the static side: checking, catalog.json,
and what the pages carry for buyer.js (sale windows, banners, group-buy progress)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from generator.model import Money
from generator.promotions import Promotion, best_sale, sale_minor

PROMOTIONS = """\
    timezone: "+08:00"
    promotions:
      - title: Spring sale
        text: 10% off green tea.
        link: products/green/
        starts: 2026-03-01
        ends: 2026-03-15
        products: [green]
        percent: 10
    """


def test_the_sale_rule_rounds_half_up_and_never_goes_below_zero() -> None:
    assert sale_minor(12800, 20, None) == 10240
    assert sale_minor(10, 5, None) == 9  # 0.5 off rounds up to 1
    assert sale_minor(1000, None, 300) == 700
    assert sale_minor(200, None, 300) == 0
    assert sale_minor(1000, None, None) == 1000


def test_the_lowest_open_sale_wins() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=7)
    ten = Promotion("Ten", "", "", start, end, 10, None, None)
    off = Promotion("Off", "", "", start, end, None, Money(3000, "CNY"), ("pot",))
    banner = Promotion("Banner", "", "", start, end, None, None, None)
    assert best_sale((ten, off, banner), "pot", Money(10000, "CNY")) == (off, Money(7000, "CNY"))
    assert best_sale((ten, off, banner), "tea", Money(10000, "CNY")) == (ten, Money(9000, "CNY"))
    assert best_sale((banner,), "tea", Money(10000, "CNY")) is None
    assert ten.open_at(start) and not ten.open_at(end)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "promotions:\n  - title: X\n    starts: 2026-03-05\n    ends: 2026-03-01\n    percent: 10\n",
            ["content/promotions.yml:4:11: promotions[0].ends: must be after starts"],
        ),
        (
            "promotions:\n  - title: X\n    starts: soon\n    ends: 2026-03-01\n    percent: 200\n    amount: 5\n"
            "    products: [green, oolong]\n    colour: red\n",
            [
                "content/promotions.yml:3:13: promotions[0].starts: must be a date (YYYY-MM-DD) or a date and time"
                " (YYYY-MM-DD HH:MM), got 'soon'",
                "content/promotions.yml:5:14: promotions[0].percent: must be from 1 to 95, got 200",
                "content/promotions.yml:6:13: promotions[0].amount: give either percent or amount, not both",
                "content/promotions.yml:7:23: promotions[0].products[1]: unknown product 'oolong'",
                "content/promotions.yml:8:5: promotions[0].colour: unknown field",
            ],
        ),
        (
            "timezone: Beijing\npromotions:\n  - {starts: 2026-01-01, ends: 2026-01-02, collections: [tee]}\n",
            [
                "content/promotions.yml:1:11: timezone: must be an offset from UTC such as +08:00, got 'Beijing'",
                "content/promotions.yml:3:5: promotions[0]: products or collections are on sale only with a percent"
                " or an amount",
                "content/promotions.yml:3:58: promotions[0].collections[0]: unknown collection 'tee'"
                " (did you mean 'tea'?)",
                "content/promotions.yml:3:5: promotions[0].title: is required",
            ],
        ),
    ],
)
def test_promotion_mistakes_are_reported_with_file_and_line(
    text: str, expected: list[str], make_site: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    site = make_site({"content/promotions.yml": text})
    result = cli("check", str(site))
    assert result.exit_code == 1
    assert sorted(result.stderr.splitlines()[:-1]) == sorted(expected), result.stderr
    assert "Traceback" not in result.stderr


def test_group_buy_mistakes_are_reported(make_site: Callable[..., Path], cli: Callable[..., Result]) -> None:
    body = "products:\n  - id: green\n    title: G\n    price: 1\n    group_buy: {min_orders: 1, ends: later}\n"
    result = cli("check", str(make_site({"content/catalog/tea.yml": body})))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert "content/catalog/tea.yml:5:29: products[0].group_buy.min_orders: must be 2 or more, got 1" in lines
    assert any(
        line.startswith("content/catalog/tea.yml:5:38: products[0].group_buy.ends: must be a date") for line in lines
    )


def test_catalog_json_and_pages_carry_the_windows(make_site: Callable[..., Path], cli: Callable[..., Result]) -> None:
    from conftest import MINI_SITE

    products = str(MINI_SITE["content/catalog/tea.yml"]).replace(
        "            price: 128\n",
        "            price: 128\n            group_buy: {min_orders: 5, ends: 2026-04-30}\n",
        1,
    )
    site_yml = str(MINI_SITE["site.yml"]).rstrip(" ") + "        checkout: {handler: http}\n"
    site = make_site({"content/promotions.yml": PROMOTIONS, "content/catalog/tea.yml": products, "site.yml": site_yml})
    result = cli("build", str(site))
    assert result.exit_code == 0, result.output
    out = site / "public"
    catalog = json.loads((out / "catalog.json").read_text("utf-8"))
    assert catalog["promotions"] == [{"title": "Spring sale", "starts": "2026-02-28T16:00:00Z",
                                      "ends": "2026-03-15T16:00:00Z", "percent": 10, "amount": None,
                                      "products": ["green"]}]  # fmt: skip
    green = next(p for p in catalog["products"] if p["id"] == "green")
    assert green["group_buy"] == {"min_orders": 5, "ends": "2026-05-01T00:00:00Z"}
    page = (out / "products/green/index.html").read_text("utf-8")
    window = 'data-window="2026-02-28T16:00:00Z/2026-03-15T16:00:00Z"'
    assert f'{window} data-when="on" hidden' in page
    assert "115.20" in page  # 128 less 10%, shown while the window is open
    assert "/api/group-buys/green" in page and "5 orders are in by April 30, 2026" in page


def test_display_currencies_are_shown_as_approximate(
    make_site: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    from conftest import MINI_SITE

    site_yml = str(MINI_SITE["site.yml"]).rstrip(" ") + "        display_currencies: [USD, EUR, CNY]\n"
    rates = "as_of: 2026-11-20\nrates: {USD: 0.1375, EUR: 0.13, GBP: 0.11}\n"
    site = make_site({"site.yml": site_yml, "content/rates.yml": rates})
    result = cli("build", str(site))
    assert result.exit_code == 0, result.output
    page = (site / "public/products/green/index.html").read_text("utf-8")
    # 128 CNY: 17.60 USD, 16.64 EUR; the shop's own currency is not repeated
    assert '<span class="visually-hidden">approximately</span> US$17.60</span>' in page
    assert '<span class="visually-hidden">approximately</span> €16.64</span>' in page
    assert "you pay in CNY" in page
    catalog = json.loads((site / "public/catalog.json").read_text("utf-8"))
    assert catalog["currency"] == "CNY" and "USD" not in json.dumps(catalog)


def test_display_currency_mistakes(make_site: Callable[..., Path], cli: Callable[..., Result]) -> None:
    from conftest import MINI_SITE

    site_yml = str(MINI_SITE["site.yml"]).rstrip(" ") + "        display_currencies: [USD, EUR, XYZ]\n"
    site = make_site({"site.yml": site_yml, "content/rates.yml": "rates: {USD: 0.14, AUD: none}\n"})
    result = cli("check", str(site))
    assert result.exit_code == 1
    assert sorted(result.stderr.splitlines()[:-1]) == [
        "content/rates.yml:1:25: rates.AUD: must be a number above 0 (one CNY in AUD), got text",
        "site.yml:17:27: display_currencies[1]: EUR needs a rate in content/rates.yml (rates: {EUR: ...})",
        "site.yml:17:32: display_currencies[2]: unknown currency 'XYZ': use a code such as USD",
    ]
    (site / "content/rates.yml").unlink()
    result = cli("check", str(site))
    assert "site.yml:17:21: display_currencies: needs content/rates.yml" in result.stderr
