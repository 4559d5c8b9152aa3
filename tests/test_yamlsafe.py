"""The strict YAML reader: exact decimals, kept lines, and YAML 1.1's surprises disarmed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from generator.yamlsafe import YamlError, parse_yaml


def test_values_and_their_lines() -> None:
    doc = parse_yaml("title: Tea\nproducts:\n  - id: a\n    price: 19.90\n    date: 2026-03-01\n")
    assert doc.data == {
        "title": "Tea",
        "products": [{"id": "a", "price": Decimal("19.90"), "date": dt.date(2026, 3, 1)}],
    }
    assert doc.line(("products", 0, "price")) == 4
    assert doc.line(("products", 0, "missing")) == 3  # falls back to the nearest ancestor


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0123", "0123"),  # YAML 1.1 octal would be 83
        ("12:30", "12:30"),  # sexagesimal would be 750
        ("NO", "NO"),  # the Norway problem
        ("yes", "yes"),
        ("on", "on"),
        ("1e3", "1e3"),  # a price check can then say it is not a plain number
        ("1_000", "1_000"),
        ("true", True),
        ("0", 0),
        ("-7", -7),
        ("1.10", Decimal("1.10")),
        ("~", None),
    ],
)
def test_ambiguous_scalars_keep_what_was_written(text: str, value: object) -> None:
    assert parse_yaml(f"v: {text}\n").data == {"v": value}


def test_merge_keys_may_be_overridden_but_keys_not_repeated() -> None:
    doc = parse_yaml("base: &b {price: 10, stock: 5}\nitem:\n  <<: *b\n  price: 12\n")
    assert doc.data["item"] == {"price": 12, "stock": 5}
    with pytest.raises(YamlError, match=r"duplicate key 'price' \(first at line 2\)"):
        parse_yaml("item:\n  price: 1\n  price: 2\n")


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system [ls]\n",
        "a: !!python/name:os.system\n",
        "a: !!binary aGk=\n",
        "a: !custom x\n",
        "a: .nan\n",
        "a: -.inf\n",
    ],
)
def test_dangerous_or_unusable_values_are_refused(text: str) -> None:
    with pytest.raises(YamlError):
        parse_yaml(text)


def test_an_empty_document_is_none() -> None:
    assert parse_yaml("# nothing\n").data is None
