"""Safe YAML that remembers where every value came from.

PyYAML's safe loader is the base, but a shop file is read more strictly than YAML allows:
duplicate keys are errors (PyYAML silently keeps the last), decimals become `Decimal` so that a
price never passes through a binary float, `.inf`/`.nan` are refused, and an alias bomb is
stopped by a budget on expanded nodes. Each value's 1-based line is kept by its path so that
validation can say `file:line: field: message` without parsing the file again.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

try:  # the C loader composes about 2.5x faster; the pure one is the fallback
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader

#: Limits for content files. A real catalog of 10,000 products stays far below both.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ALIASED_NODES = 100_000  # nodes reached a second time through an alias
MAX_DEPTH = 100  # nested lists and mappings; a catalog needs about 6

Path = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_PLAIN_DECIMAL = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)$")


class YamlError(Exception):
    """A file that cannot be read as shop YAML; carries the 1-based line."""

    def __init__(self, line: int, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.path = path  # where in the document, when known


@dataclass
class Document:
    """A parsed YAML document and the line of every value in it."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: dict[Path, int] = {}
        self.seen: set[int] = set()
        self.merged: dict[int, int] = {}  # mapping node -> how many of its pairs came from merges
        self.alias_budget = MAX_ALIASED_NODES
        self.building: set[int] = set()  # the nodes being built, from the root down to this one

    def build(self, node: yaml.Node, path: Path, aliased: bool = False) -> Any:
        if len(path) > MAX_DEPTH:
            raise YamlError(node.start_mark.line + 1, f"values nest deeper than {MAX_DEPTH} levels")
        if id(node) in self.building:  # `&a [*a]`: an alias inside the value it names
            raise YamlError(node.start_mark.line + 1, "an alias refers to the value that contains it")
        self.building.add(id(node))
        try:
            return self._build(node, path, aliased)
        finally:
            self.building.discard(id(node))

    def _build(self, node: yaml.Node, path: Path, aliased: bool) -> Any:
        # An alias is the same node object met again; everything below it is expanded anew,
        # which is how a few hundred bytes ask for billions of values.
        if aliased or id(node) in self.seen:
            aliased = True
            self.alias_budget -= 1
            if self.alias_budget < 0:
                raise YamlError(
                    node.start_mark.line + 1,
                    "too many aliased values (is this an alias bomb?)",
                )
        else:
            self.seen.add(id(node))
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, aliased)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise YamlError(node.start_mark.line + 1, _tag_error(node.tag))
            return [self.build(item, path + (i,), aliased) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path, aliased: bool) -> dict[Any, Any]:
        if node.tag != _MAP:
            raise YamlError(node.start_mark.line + 1, _tag_error(node.tag))
        if id(node) not in self.merged:
            before = len(node.value)
            merges = sum(1 for k, _ in node.value if k.tag == _MERGE)
            try:
                self.loader.flatten_mapping(node)  # resolves `<<: *defaults` merges, put first
            except yaml.constructor.ConstructorError as exc:
                raise YamlError(node.start_mark.line + 1, str(exc.problem)) from None
            self.merged[id(node)] = len(node.value) - (before - merges)
        merged = self.merged[id(node)]
        out: dict[Any, Any] = {}
        explicit: set[Any] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError(key_node.start_mark.line + 1, "a key must be a plain value")
            key = self._scalar(key_node)
            if isinstance(key, (bool, type(None))):
                # `on:`/`no:`/`~:` keys silently become True/False/None in YAML 1.1
                key = key_node.value
            # keys written here may override merged ones, but not each other
            if index >= merged:
                if key in explicit:
                    first = self.lines.get(path + (key,), 0)
                    raise YamlError(
                        key_node.start_mark.line + 1,
                        f"duplicate key '{key}' (first at line {first})",
                        path + (key,),
                    )
                explicit.add(key)
            self.lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, path + (key,), aliased)
        return out

    def _scalar(self, node: yaml.Node) -> Any:
        line = node.start_mark.line + 1
        tag = node.tag
        if tag == _FLOAT:
            text = str(node.value)
            if text.lower().lstrip("+-") in {".inf", ".nan"}:
                raise YamlError(line, f"'{node.value}' is not a usable number")
            if not _PLAIN_DECIMAL.match(text):
                return text  # 1e3, 1:30.5, 1_000.5: left as written, so a price check can say so
            try:
                return Decimal(text)
            except InvalidOperation:
                raise YamlError(line, f"'{node.value}' is not a number") from None
        if tag == _INT and not _PLAIN_INT.match(node.value):
            # YAML 1.1 reads 0123 as octal 83 and 12:30 as 750: keep what was written
            return str(node.value)
        if tag == _BOOL and node.value.lower() not in ("true", "false"):
            return str(node.value)  # yes/no/on/off stay words (NO is Norway, not False)
        if tag in (_STR, _INT, _BOOL, _NULL):
            return self.loader.construct_object(node, deep=True)
        if tag == _TIMESTAMP:
            try:
                value = self.loader.construct_object(node, deep=True)
            except ValueError:  # 2026-02-30 matches the timestamp pattern but is no date
                raise YamlError(line, f"'{node.value}' is not a valid date") from None
            assert isinstance(value, (dt.date, dt.datetime))
            return value
        raise YamlError(line, _tag_error(tag))


def _tag_error(tag: str) -> str:
    short = tag.replace("tag:yaml.org,2002:", "!!")
    return f"tag '{short}' is not allowed in shop content"


def parse_yaml(text: str) -> Document:
    """Parse one YAML document strictly; raise `YamlError` with a line for anything off."""
    if len(text) > MAX_FILE_BYTES:
        raise YamlError(1, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    loader = _BaseLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            column = f" (column {mark.column + 1})" if mark else ""
            problem = exc.problem or exc.context or "invalid YAML"
            if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
                raise YamlError(line, f"a tab cannot indent YAML: use spaces{column}") from None
            ctx = exc.context_mark
            if exc.context and ctx is not None and ctx.line + 1 != line:
                problem += f", {exc.context} at line {ctx.line + 1}"
            raise YamlError(line, f"YAML syntax error: {problem}{column}") from None
        except yaml.YAMLError as exc:
            raise YamlError(1, f"YAML syntax error: {exc}") from None
        except RecursionError:  # PyYAML's own composer recurses on `[[[[...`
            raise YamlError(1, f"values nest deeper than {MAX_DEPTH} levels") from None
        if node is None:
            return Document(None, {(): 1})
        builder = _Builder(loader)
        data = builder.build(node, ())
        return Document(data, builder.lines)
    finally:
        loader.dispose()


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column : column + 1] if line < len(lines) else ""


def decode(raw: bytes) -> str:
    """Decode a content file as UTF-8 (a BOM is allowed); raise YamlError when it is not UTF-8."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlError(line, "file is not valid UTF-8 text") from None
    return text.replace("\r\n", "\n")
