"""Reading one YAML mapping field by field, turning every mistake into a located Problem.

Loaders describe what they expect (`obj.text("title", required=True)`) and get a usable value
back, or a default, whatever the content says; the mistakes pile up in the file's problem list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from .errors import Problem, Severity, did_you_mean
from .money import Money, parse_price
from .yamlsafe import Document, Mark, Path

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def field_name(path: Path) -> str:
    """('products', 3, 'price') -> 'products[3].price'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def kind_of(value: object) -> str:
    """How a shop owner would name the type of a YAML value."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (dt.date, dt.datetime)):
        return "a date"
    return type(value).__name__


class SourceFile:
    """One content file: its site-relative path, its parsed document and its problems."""

    def __init__(self, rel: str, doc: Document, problems: list[Problem]) -> None:
        self.rel = rel
        self.doc = doc  # its lines are the file's (front matter is parsed with its offset)
        self.problems = problems

    def mark(self, path: Path) -> Mark:
        """Line and column of the value at `path` in the file (of its mapping, if it is missing)."""
        return self.doc.mark(path)

    def line(self, path: Path) -> int:
        return self.mark(path)[0]

    def where(self, path: Path) -> str:
        """'content/catalog/tea.yml:6:11': the value at `path`, as an editor opens it."""
        line, column = self.mark(path)
        return f"{self.rel}:{line}:{column}"

    def error(self, path: Path, message: str, severity: Severity = Severity.ERROR, *, key: bool = False) -> None:
        """A problem with the value at `path` or, with `key`, with the key naming it (a typo)."""
        line, column = self.doc.key_mark(path) if key else self.doc.mark(path)
        self.problems.append(Problem(self.rel, line, field_name(path), message, severity, column=column))

    def key_error(self, path: Path, message: str) -> None:
        """A problem with the key itself (unknown, misspelt): located at the key, not its value."""
        self.error(path, message, key=True)

    def warn(self, path: Path, message: str) -> None:
        self.error(path, message, Severity.WARNING)

    def obj(self, value: Any, path: Path, keys: Iterable[str]) -> Obj | None:
        """The mapping at `path`, checked for unknown keys; None (with a problem) if not a mapping."""
        if not isinstance(value, dict):
            self.error(path, f"must be a mapping of fields, got {kind_of(value)}")
            return None
        return Obj(self, value, path, tuple(keys))


class Obj:
    """A YAML mapping whose known keys are fixed; typed getters record problems and never raise."""

    def __init__(self, src: SourceFile, data: dict[Any, Any], path: Path, keys: tuple[str, ...]):
        self.src = src
        self.data = data
        self.path = path
        for key in data:
            if key not in keys:
                self.src.key_error(path + (str(key),), "unknown field" + did_you_mean(str(key), keys))

    def at(self, key: str) -> Path:
        return self.path + (key,)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None and required:
            empty = " and must not be empty" if key in self.data else ""
            self.src.error(self.at(key), "is required" + empty)
        return value

    def text(self, key: str, required: bool = False, default: str = "") -> str:
        value = self._get(key, required)
        if value is None:
            return default
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return str(value)  # a sku or phone number written without quotes is fine
        if not isinstance(value, str):
            self.src.error(self.at(key), f"must be text, got {kind_of(value)}")
            return default
        if required and not value.strip():
            self.src.error(self.at(key), "is required and must not be empty")
        return value.strip()

    def slug(self, key: str, required: bool = True) -> str:
        value = self.text(key, required=required)
        if value and not SLUG.match(value):
            self.src.error(
                self.at(key),
                f"'{value}' is not a valid id: use lowercase letters, digits and hyphens",
            )
        return value

    def unique_slug(self, key: str, seen: dict[str, int], what: str) -> str:
        """A required slug id that must not repeat among its siblings; `seen` maps id -> line."""
        value = self.slug(key)
        if value in seen:
            self.src.error(self.at(key), f"duplicate {what} id '{value}' (first at line {seen[value]})")
        elif value:
            seen[value] = self.src.line(self.at(key))
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.src.error(self.at(key), f"must be true or false, got {kind_of(value)}")
            return default
        return value

    def integer(self, key: str, minimum: int | None = None, default: int | None = None) -> int | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.src.error(self.at(key), f"must be a whole number, got {kind_of(value)}")
            return default
        if minimum is not None and value < minimum:
            self.src.error(self.at(key), f"must be {minimum} or more, got {value}")
            return default
        return value

    def price(self, key: str, currency: str, required: bool = False) -> Money | None:
        value = self._get(key, required)
        if value is None:
            return None
        try:
            return parse_price(value, currency)
        except ValueError as exc:
            self.src.error(self.at(key), str(exc))
            return None

    def date(self, key: str, required: bool = False) -> dt.date | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.src.error(self.at(key), f"must be a date written as YYYY-MM-DD, got {value!r}")
        return None

    def items(self, key: str, required: bool = False) -> list[tuple[Path, Any]]:
        """The entries of a list field with their paths; a problem if it is not a list."""
        value = self._get(key, required)
        if value is None:
            return []
        if not isinstance(value, list):
            self.src.error(self.at(key), f"must be a list, got {kind_of(value)}")
            return []
        return [(self.at(key) + (i,), item) for i, item in enumerate(value)]

    def texts(self, key: str, allow_single: bool = False) -> list[str]:
        """A list of text entries (tags, ids); `allow_single` also takes one string."""
        if allow_single and isinstance(self.data.get(key), str):
            return [self.data[key].strip()]
        out = []
        for path, item in self.items(key):
            if isinstance(item, (int, Decimal)) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or not item.strip():
                self.src.error(path, f"must be text, got {kind_of(item)}")
                continue
            out.append(item.strip())
        return out

    def mapping(self, key: str) -> dict[Any, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.src.error(self.at(key), f"must be a mapping of fields, got {kind_of(value)}")
            return {}
        return value

    def check(self, key: str, test: Callable[[Any], str | None]) -> None:
        """Run an extra check on a present value; `test` returns a message or None."""
        if self.data.get(key) is not None:
            message = test(self.data[key])
            if message:
                self.src.error(self.at(key), message)
