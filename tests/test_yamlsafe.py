"""The strict YAML reader: exact decimals, kept lines, and YAML 1.1's surprises disarmed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from generator.yamlsafe import YamlError, decode, parse_yaml


def test_values_and_their_lines() -> None:
    doc = parse_yaml("title: Tea\nproducts:\n  - id: a\n    price: 19.90\n    date: 2026-03-01\n")
    assert doc.data == {
        "title": "Tea",
        "products": [{"id": "a", "price": Decimal("19.90"), "date": dt.date(2026, 3, 1)}],
    }
    assert doc.line(("products", 0, "price")) == 4
    assert doc.line(("products", 0, "missing")) == 3  # falls back to the nearest ancestor


def test_values_and_keys_have_their_own_columns() -> None:
    """A wrong value is pointed at where the value is, a misspelt key where the key is; a missing
    field at the mapping it is missing from. Columns count characters, from 1."""
    doc = parse_yaml("products:\n  - id: 茶\n    tags: [a, 价格, b]\n    price:\n      -5\n    group: {n: 1}\n")
    assert doc.mark(("products", 0, "id")) == (2, 9)
    assert doc.key_mark(("products", 0, "id")) == (2, 5)
    assert doc.mark(("products", 0, "tags", 2)) == (3, 19)  # after two wide characters, still characters
    assert doc.mark(("products", 0, "price")) == (5, 7)  # the value, on the line below its key
    assert doc.key_mark(("products", 0, "price")) == (4, 5)
    assert doc.mark(("products", 0, "group", "n")) == (6, 16)
    assert doc.mark(("products", 0, "title")) == (2, 5)  # missing: where the product's mapping starts
    assert doc.mark(()) == (1, 1)


def test_a_key_written_beside_a_merge_is_located_where_it_is_written() -> None:
    doc = parse_yaml("base: &b {price: 10, stock: 5}\nitem:\n  <<: *b\n  price: 12\n")
    assert doc.mark(("item", "price")) == (4, 10)
    assert doc.mark(("item", "stock")) == (1, 29)  # merged: where it is written, in the anchored mapping


def test_front_matter_is_located_in_the_whole_file() -> None:
    doc = parse_yaml("title: T\norder: first\n", line_offset=1)
    assert doc.mark(("order",)) == (3, 8)
    with pytest.raises(YamlError) as err:
        parse_yaml("title: T\nsummary: 'open\n", line_offset=1)
    assert (err.value.line, err.value.column) == (4, 1)
    assert err.value.message.endswith("while scanning a quoted scalar at line 3, column 10")


@pytest.mark.parametrize(
    ("text", "line", "column", "path"),
    [
        ("a: 1\nb: [1, 2\n", 3, 1, ()),  # the parser gives up at the end of the file
        ("a:\n\t- x\n", 2, 1, ()),  # the tab
        ("a: 1\nb: {c: .inf}\n", 2, 8, ("b", "c")),
        ("a: 1\nb: 2026-02-30\n", 2, 4, ("b",)),
        ("x: [1, !!binary aGk=]\n", 1, 8, ("x", 1)),
        ("p:\n  q: 1\n  q: 2\n", 3, 3, ("p", "q")),
    ],
)
def test_errors_carry_line_column_and_path(text: str, line: int, column: int, path: tuple[object, ...]) -> None:
    with pytest.raises(YamlError) as err:
        parse_yaml(text)
    assert (err.value.line, err.value.column, err.value.path) == (line, column, path)


def test_bytes_that_are_not_utf8_are_located_by_character() -> None:
    with pytest.raises(YamlError) as err:
        decode(b"\xef\xbb\xbfa: 1\n\nname: caf\xc3\xa9 \xff\n")  # a BOM, then an \u00e9 before the bad byte
    assert (err.value.line, err.value.column) == (3, 12)
    with pytest.raises(YamlError) as err:
        decode(b"\xef\xbb\xbfab\xff\n")  # the BOM is no character of the line
    assert (err.value.line, err.value.column) == (1, 3)


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
