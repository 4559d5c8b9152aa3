"""Money as integer minor units: parsing prices from content and formatting them for a locale.

A price is never a float. Content prices arrive as `Decimal` (or `int`) from the YAML loader,
are checked against the currency's minor units (2 for CNY, 0 for JPY) and stored as integers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel.core import Locale
from babel.numbers import format_currency, get_currency_precision, list_currencies

_PRICE_TEXT = re.compile(r"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")


@lru_cache(maxsize=1)
def known_currencies() -> frozenset[str]:
    return frozenset(c for c in list_currencies() if len(c) == 3 and c.isupper())


def is_currency(code: str) -> bool:
    """Babel formats any string as a currency; only ISO 4217 codes it knows are accepted here."""
    return code in known_currencies()


def minor_digits(currency: str) -> int:
    return int(get_currency_precision(currency))


@dataclass(frozen=True, order=True)
class Money:
    """An amount in a currency's minor units (fen, cents)."""

    minor: int
    currency: str

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor).scaleb(-minor_digits(self.currency))

    def __str__(self) -> str:  # for debugging and plain-text outputs
        return f"{self.amount} {self.currency}"


def parse_price(value: object, currency: str) -> Money:
    """Turn a content price into Money, or raise ValueError with the words a shop owner needs.

    With `currency` empty (site.yml's was unusable) the number is still checked, and a
    zero stand-in is returned so that the rest of the content can be checked too.
    """
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise ValueError("must be a number such as 128 or 19.90")
    if isinstance(value, str):
        text = value.strip()
        if not _PRICE_TEXT.match(text):
            raise ValueError(f"'{text}' is not a price; write a number such as 128 or 19.90")
        value = Decimal(text)
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError("must be a number such as 128 or 19.90")
    if amount < 0:
        raise ValueError("must not be negative")
    if not currency:
        return Money(0, "")
    digits = minor_digits(currency)
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > digits:
        if digits == 0:
            raise ValueError(f"{currency} has no minor unit; write a whole number")
        unit = "decimal" if digits == 1 else "decimals"
        raise ValueError(f"{currency} allows at most {digits} {unit}, got {value}")
    return Money(int(amount.scaleb(digits)), currency)


@lru_cache(maxsize=16)
def babel_locale(language: str) -> Locale:
    """Our language tags use a hyphen (zh-CN); Babel wants zh_CN."""
    return Locale.parse(language, sep="-")


#: Locales whose numbers group only from five digits on (CLDR's minimumGroupingDigits = 2:
#: "1000,00 €" but "12 345,00 €" in Portugal). Babel's data lacks this field, while browsers
#: (ICU) apply it; tests/test_money_browser.py checks this list against Chromium.
MIN_GROUPING_2 = frozenset((
    "bg", "bg_BG", "es", "es_EA", "es_ES", "es_GQ", "es_IC", "es_PH", "et", "et_EE", "hu", "hu_HU",
    "it", "it_CH", "it_IT", "it_SM", "it_VA", "lv", "lv_LV", "pl", "pl_PL", "pt_CH", "pt_CV", "pt_GQ",
    "pt_GW", "pt_LU", "pt_MO", "pt_MZ", "pt_PT", "pt_ST", "pt_TL", "ru_UA", "sl", "sl_SI",
))  # fmt: skip


@lru_cache(maxsize=8192)
def format_money(money: Money, language: str) -> str:
    """'CN¥128.00' in English, '¥128.00' in Chinese, '1000,00 €' in Portugal: the locale decides
    symbol, spacing and grouping, by the same CLDR rules as `Intl.NumberFormat` in the cart's
    script (shop.js `money`), so that a price reads the same on the page and in the cart."""
    locale = babel_locale(language)
    key = f"{locale.language}_{locale.territory}" if locale.territory else locale.language
    group = not (key in MIN_GROUPING_2 and 1000 <= abs(money.amount) < 10000)
    text = str(format_currency(money.amount, money.currency, locale=locale, group_separator=group))
    return _currency_spacing(text)


def _currency_spacing(text: str) -> str:
    """CLDR's currencySpacing, which Babel leaves out: a symbol made of letters ('EUR', 'CHF')
    next to a digit gets a no-break space between them ('EUR 12.00', '12.00 EUR'), as ICU writes it."""
    return _LETTER_THEN_DIGIT.sub("\\1\u00a0\\2", _DIGIT_THEN_LETTER.sub("\\1\u00a0\\2", text))


_LETTER_THEN_DIGIT = re.compile(r"([^\W\d_])(\d)")
_DIGIT_THEN_LETTER = re.compile(r"(\d)([^\W\d_])")
