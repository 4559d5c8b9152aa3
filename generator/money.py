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


@lru_cache(maxsize=8192)
def format_money(money: Money, language: str) -> str:
    """'CN¥128.00' in English, '¥128.00' in Chinese: the locale decides symbol and spacing."""
    return str(format_currency(money.amount, money.currency, locale=babel_locale(language)))
