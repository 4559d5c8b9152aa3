"""content/rates.yml: exchange rates for the approximate prices in `display_currencies`.

The shop sells in its one currency; other currencies are shown next to a price as a guide
("≈ US$17.60"), never charged. Rates are the shop owner's own numbers (one unit of the shop's
currency in each other currency), so a build never fetches anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .fields import Obj, SourceFile, kind_of
from .money import Money, is_currency, minor_digits
from .yamlsafe import Path

RATES_KEYS = ("as_of", "rates")


@dataclass(frozen=True)
class DisplayRates:
    rates: tuple[tuple[str, Decimal], ...]  # (currency, units per one unit of the shop's currency), in display order
    as_of: dt.date | None

    def convert(self, money: Money) -> list[Money]:
        """`money` in each display currency, rounded half up to that currency's minor unit."""
        out = []
        for code, rate in self.rates:
            amount = money.amount * rate
            minor = int(amount.scaleb(minor_digits(code)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            out.append(Money(minor, code))
        return out


def parse_rates(src: SourceFile, currency: str, wanted: tuple[str, ...], site: SourceFile) -> DisplayRates | None:
    """The rates for `wanted` (site.yml's display_currencies); a missing one is an error at
    that currency in `site` (site.yml), where the shop owner asked for it."""
    root = src.obj(src.doc.data, (), RATES_KEYS)
    if root is None:
        return None
    found: dict[str, Decimal] = {}
    for code, value in root.mapping("rates").items():
        path = root.at("rates") + (str(code),)
        if not isinstance(code, str) or not is_currency(code):
            src.key_error(path, f"unknown currency '{code}': use an ISO 4217 code such as USD or EUR")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value <= 0:
            src.error(path, f"must be a number above 0 (one {currency} in {code}), got {kind_of(value)}")
            continue
        found[code] = Decimal(value)
    for code in wanted:
        if code not in found and code != currency:
            site.error(_listed_at(site, code), f"{code} needs a rate in {src.rel} (rates: {{{code}: ...}})")
    return DisplayRates(tuple((c, found[c]) for c in wanted if c in found and c != currency), root.date("as_of"))


def _listed_at(site: SourceFile, code: str) -> Path:
    """The path of `code` in site.yml's display_currencies (the list itself if not found)."""
    listed = site.doc.data.get("display_currencies") if isinstance(site.doc.data, dict) else None
    for i, item in enumerate(listed if isinstance(listed, list) else []):
        if isinstance(item, str) and item.strip() == code:
            return ("display_currencies", i)
    return ("display_currencies",)


def check_display_currencies(root: Obj, currency: str) -> tuple[str, ...]:
    """site.yml's display_currencies: ISO codes other than the shop's own."""
    codes = []
    for i, code in enumerate(root.texts("display_currencies")):
        if not is_currency(code):
            root.src.error(root.at("display_currencies") + (i,), f"unknown currency '{code}': use a code such as USD")
        elif code != currency and code not in codes:
            codes.append(code)
    return tuple(codes)
