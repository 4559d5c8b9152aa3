"""Money parsing and the product rules that templates and the cart rely on."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from generator.load import load_site
from generator.money import Money, format_money, parse_price


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [(128, "CNY", 12800), (Decimal("19.90"), "CNY", 1990), ("0.5", "USD", 50), (1200, "JPY", 1200), (0, "EUR", 0)],
)
def test_prices_become_exact_minor_units(value: object, currency: str, minor: int) -> None:
    assert parse_price(value, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("value", "currency", "message"),
    [
        (Decimal("19.999"), "CNY", "CNY allows at most 2 decimals, got 19.999"),
        (Decimal("1.5"), "JPY", "JPY has no minor unit; write a whole number"),
        (-1, "CNY", "must not be negative"),
        ("1e3", "CNY", "'1e3' is not a price; write a number such as 128 or 19.90"),
        (True, "CNY", "must be a number such as 128 or 19.90"),
        (1.5, "CNY", "must be a number such as 128 or 19.90"),  # a float never gets in
    ],
)
def test_bad_prices_are_explained(value: object, currency: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        parse_price(value, currency)


def test_money_is_formatted_per_language() -> None:
    assert format_money(Money(12850, "CNY"), "en") == "CN¥128.50"
    assert format_money(Money(12850, "CNY"), "zh-CN") == "¥128.50"
    assert format_money(Money(1200, "JPY"), "en") == "¥1,200"
    assert format_money(Money(990, "EUR"), "en") == "€9.90"


def catalog(make_site: Callable[..., Path], body: str) -> Path:
    return make_site({"content/catalog/tea.yml": "products:\n  - id: green\n    title: Green\n    price: 1\n" + body})


def test_options_without_variants_make_every_combination(make_site: Callable[..., Path]) -> None:
    site = catalog(
        make_site,
        "  - id: cup\n    title: Cup\n    price: 30\n    stock: 4\n"
        "    options:\n      size: [S, M]\n      color: [red, 蓝]\n",
    )
    loaded, _ = load_site(site)
    cup = next(p for p in loaded.products if p.id == "cup")
    assert [v.title for v in cup.variants] == ["S / red", "S / 蓝", "M / red", "M / 蓝"]
    assert [v.id for v in cup.variants] == ["v1", "v2", "v3", "v4"]  # 蓝 makes no ASCII slug
    assert all(v.stock == 4 and v.price == Money(3000, "CNY") for v in cup.variants)
    assert cup.stock == 16


def test_product_price_is_the_cheapest_variant_in_stock(make_site: Callable[..., Path]) -> None:
    site = catalog(
        make_site,
        "  - id: tin\n    title: Tin\n    price: 50\n    options:\n      size: [s, m, l]\n    variants:\n"
        "      - {id: s, options: {size: s}, price: 20, stock: 0}\n"
        "      - {id: m, options: {size: m}, price: 30, compare_at_price: 40}\n"
        "      - {id: l, options: {size: l}, price: 45, stock: 2}\n",
    )
    loaded, _ = load_site(site)
    tin = next(p for p in loaded.products if p.id == "tin")
    assert tin.price == Money(3000, "CNY")
    assert tin.compare_at_price == Money(4000, "CNY") and tin.on_sale
    assert tin.price_varies and not tin.sold_out
    assert tin.default_variant is not None and tin.default_variant.id == "m"
    assert tin.stock is None  # variant m is unlimited
    assert [v.low_stock for v in tin.variants] == [False, False, True]


def test_related_products_share_collections_or_tags(make_site: Callable[..., Path]) -> None:
    loaded, _ = load_site(make_site())
    green = next(p for p in loaded.products if p.id == "green")
    assert [p.id for p in green.related] == ["black"]
    assert [s.slug for s in green.stories] == ["harvest"]
