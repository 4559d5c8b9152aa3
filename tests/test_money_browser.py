"""Money reads the same on the page (Babel, generator/money.py) and in the cart (Intl, shop.js).

The templates write prices with `format_money`; the cart, checkout and order pages write them
in the browser with `window.micromall.money`. Both must follow the same CLDR rules, or a price
would change its look between the product page and the cart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import CHROMIUM, static_server
from conftest import REPO
from playwright.sync_api import Browser, Page

from generator.money import MIN_GROUPING_2, Money, format_money, minor_digits

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

#: The shops we promise to write correctly, with the currencies they sell in.
REQUIRED = [("en", "USD"), ("en", "CNY"), ("zh-CN", "CNY"), ("de-DE", "EUR"), ("pt-PT", "EUR"), ("ja", "JPY")]
AMOUNTS = [0, 1, 99, 100000, 12345678]  # minor units: 0, the smallest, under one, 4 and 6 integer digits

#: A wider sweep: every pair of these. Left out, because Babel's CLDR and Chromium's ICU data
#: disagree (a CLDR version apart), not because of our code: Swiss group separators (’ or '),
#: fr-CH's decimal separator, zh-SG's yuan symbol and es-AR's spacing after "US$".
SWEEP_LANGUAGES = [
    "en", "en-GB", "en-AU", "en-CA", "en-IN", "zh-CN", "zh-TW", "zh-HK", "ja", "ko", "de-DE", "de-AT", "fr-FR",
    "fr-CA", "it-IT", "es-ES", "es-MX", "pt-PT", "pt-BR", "nl-NL", "pl", "sv", "da", "nb", "fi", "cs", "sk", "hu",
    "ro", "bg", "el", "ru", "uk", "tr", "th", "vi", "id", "ms", "hi-IN", "he", "ar-EG", "fa", "sl", "lv", "et",
]  # fmt: skip
SWEEP_CURRENCIES = ["CNY", "USD", "EUR", "JPY", "GBP", "CHF", "HKD", "KRW"]


@pytest.fixture(scope="module")
def money_pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A folder with the theme's shop.js, served; pages are written into it per language."""
    root = tmp_path_factory.mktemp("money")
    (root / "shop.js").write_bytes((REPO / "themes/default/static/js/shop.js").read_bytes())
    with static_server(root) as url:
        yield root, url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], errors


def browser_money(page: Page, pages: tuple[Path, str], language: str, currency: str, amounts: list[int],
                  others: tuple[str, ...] = ()) -> dict[str, list[str]]:  # fmt: skip
    """{currency: [the amounts as shop.js writes them]} on a page in `language` whose shop sells
    in `currency` (as base.html configures it), for `currency` and `others`."""
    root, url = pages
    config = {"language": language, "currency": currency, "digits": minor_digits(currency)}
    name = f"{language}-{currency}.html"
    (root / name).write_text(
        f'<!doctype html><html lang="{language}"><script type="application/json" id="micromall-config">'
        f'{json.dumps(config)}</script><script src="shop.js"></script></html>', "utf-8"
    )  # fmt: skip
    page.goto(url + name)
    result: dict[str, list[str]] = page.evaluate(
        "([amounts, currencies]) => Object.fromEntries(currencies.map((c, i) =>"
        " [c, amounts.map((m) => i ? window.micromall.money(m, c) : window.micromall.money(m))]))",
        [amounts, [currency, *others]],
    )
    return result


@pytest.mark.parametrize(("language", "currency"), REQUIRED)
def test_cart_script_writes_money_like_the_templates(
    page: Page, money_pages: tuple[Path, str], language: str, currency: str
) -> None:
    shown = browser_money(page, money_pages, language, currency, AMOUNTS)[currency]
    assert shown == [format_money(Money(m, currency), language) for m in AMOUNTS]


def test_the_promised_formats() -> None:
    """What a buyer sees, written out: the choices we made (see docs/themes.md, money)."""
    assert format_money(Money(1990, "USD"), "en") == "$19.90"  # not US$: the shop's own currency in English
    assert format_money(Money(12800, "CNY"), "en") == "CN¥128.00"  # ¥ alone would be yen to many readers
    assert format_money(Money(12800, "CNY"), "zh-CN") == "¥128.00"
    assert format_money(Money(1990, "EUR"), "de-DE") == "19,90\u00a0€"  # a no-break space before €
    assert format_money(Money(100000, "EUR"), "pt-PT") == "1000,00\u00a0€"  # Portugal groups from 5 digits
    assert format_money(Money(1234567, "EUR"), "pt-PT") == "12\u00a0345,67\u00a0€"
    assert format_money(Money(12345678, "JPY"), "ja") == "￥12,345,678"  # no decimals
    assert format_money(Money(1990, "EUR"), "en-AU") == "EUR\u00a019.90"  # letters and digits kept apart


def test_a_wide_sweep_of_languages_and_currencies_agrees(page: Page, money_pages: tuple[Path, str]) -> None:
    amounts = [0, 100000, 12345678]
    differ = []
    for language in SWEEP_LANGUAGES:
        shown = browser_money(
            page, money_pages, language, "EUR", amounts, tuple(c for c in SWEEP_CURRENCIES if c != "EUR")
        )
        for currency, texts in shown.items():
            expected = [format_money(Money(m, currency), language) for m in amounts]
            if texts != expected:
                differ.append((language, currency, expected, texts))
    assert differ == []


def test_minimum_grouping_list_matches_the_browser(page: Page, money_pages: tuple[Path, str]) -> None:
    """generator/money.py's MIN_GROUPING_2 (which Babel lacks) against Chromium's ICU: every
    listed locale writes 1000 ungrouped, and a sample of unlisted ones group it."""
    page.goto(money_pages[1] + "shop.js")
    listed = sorted(k.replace("_", "-") for k in MIN_GROUPING_2)
    unlisted = ["en", "de-DE", "fr-FR", "es-MX", "pt-BR", "pt-AO", "ru", "zh-CN", "ja", "nl-NL", "sv", "cs"]
    grouped = page.evaluate(
        "(tags) => tags.map((t) => new Intl.NumberFormat(t).formatToParts(1000).some((p) => p.type === 'group'))",
        listed + unlisted,
    )
    assert dict(zip(listed + unlisted, grouped, strict=True)) == {
        **dict.fromkeys(listed, False),
        **dict.fromkeys(unlisted, True),
    }
