"""Safe YAML that remembers where every value came from.

PyYAML's safe loader is the base, but a shop file is read more strictly than YAML allows:
duplicate keys are errors (PyYAML silently keeps the last), decimals become `Decimal` so that a
price never passes through a binary float, `.inf`/`.nan` are refused, and an alias bomb is
stopped by a budget on expanded nodes. Each value's 1-based line and column are kept by its
path so that validation can say `file:line:column: field: message` without parsing the file
again; the key of each mapping entry is kept apart from its value, so that a misspelt key and a
wrong value are each pointed at where they are written.
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
#: A 1-based line and column (in characters, as editors count them).
Mark = tuple[int, int]

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
    """A file that cannot be read as shop YAML; carries the 1-based line (and column, 0 if unknown)."""

    def __init__(self, line: int, message: str, path: Path = (), column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message
        self.path = path  # where in the document, when known


def _mark(mark: yaml.Mark, line_offset: int = 0) -> Mark:
    return mark.line + 1 + line_offset, mark.column + 1


@dataclass
class Document:
    """A parsed YAML document, where each value in it starts and where each mapping key is."""

    data: Any
    marks: dict[Path, Mark] = field(default_factory=dict)  # the value at each path
    keys: dict[Path, Mark] = field(default_factory=dict)  # the key that names each mapping entry

    def mark(self, path: Path) -> Mark:
        """Where the value at `path` starts; for a path that is not there (a missing field), the
        start of its nearest ancestor that is: the mapping the field is missing from."""
        while path:
            if path in self.marks:
                return self.marks[path]
            path = path[:-1]
        return self.marks.get((), (1, 1))

    def key_mark(self, path: Path) -> Mark:
        """Where the key of the entry at `path` is written (for an unknown or misspelt key)."""
        return self.keys.get(path) or self.mark(path)

    def line(self, path: Path) -> int:
        """The line of `mark(path)`."""
        return self.mark(path)[0]


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, line_offset: int) -> None:
        self.loader = loader
        self.line_offset = line_offset
        self.marks: dict[Path, Mark] = {}
        self.keys: dict[Path, Mark] = {}
        self.seen: set[int] = set()
        self.merged: dict[int, int] = {}  # mapping node -> how many of its pairs came from merges
        self.alias_budget = MAX_ALIASED_NODES
        self.building: set[int] = set()  # the nodes being built, from the root down to this one

    def mark(self, mark: yaml.Mark) -> Mark:
        return _mark(mark, self.line_offset)

    def error(self, node: yaml.Node, message: str, path: Path) -> YamlError:
        """The error located where `node` starts."""
        line, column = self.mark(node.start_mark)
        return YamlError(line, message, path, column)

    def build(self, node: yaml.Node, path: Path, aliased: bool = False) -> Any:
        if len(path) > MAX_DEPTH:
            raise self.error(node, f"values nest deeper than {MAX_DEPTH} levels", path)
        if id(node) in self.building:  # `&a [*a]`: an alias inside the value it names
            raise self.error(node, "an alias refers to the value that contains it", path)
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
                raise self.error(node, "too many aliased values (is this an alias bomb?)", path)
        else:
            self.seen.add(id(node))
        # assigned, not set once: a key written in a mapping replaces the one merged from `<<:`
        self.marks[path] = self.mark(node.start_mark)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, aliased)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise self.error(node, _tag_error(node.tag), path)
            return [self.build(item, path + (i,), aliased) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path, aliased: bool) -> dict[Any, Any]:
        if node.tag != _MAP:
            raise self.error(node, _tag_error(node.tag), path)
        if id(node) not in self.merged:
            before = len(node.value)
            merges = sum(1 for k, _ in node.value if k.tag == _MERGE)
            try:
                self.loader.flatten_mapping(node)  # resolves `<<: *defaults` merges, put first
            except yaml.constructor.ConstructorError as exc:
                line, column = self.mark(exc.problem_mark or node.start_mark)
                raise YamlError(line, str(exc.problem), path, column) from None
            self.merged[id(node)] = len(node.value) - (before - merges)
        merged = self.merged[id(node)]
        out: dict[Any, Any] = {}
        explicit: set[Any] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(key_node, "a key must be a plain value", path)
            key = self._scalar(key_node, path)
            if isinstance(key, (bool, type(None))):
                # `on:`/`no:`/`~:` keys silently become True/False/None in YAML 1.1
                key = key_node.value
            # keys written here may override merged ones, but not each other
            if index >= merged:
                if key in explicit:
                    first = self.keys.get(path + (key,), (0, 0))[0]
                    raise self.error(key_node, f"duplicate key '{key}' (first at line {first})", path + (key,))
                explicit.add(key)
            self.keys[path + (key,)] = self.mark(key_node.start_mark)
            out[key] = self.build(value_node, path + (key,), aliased)
        return out

    def _scalar(self, node: yaml.Node, path: Path) -> Any:
        tag = node.tag
        if tag == _FLOAT:
            text = str(node.value)
            if text.lower().lstrip("+-") in {".inf", ".nan"}:
                raise self.error(node, f"'{node.value}' is not a usable number", path)
            if not _PLAIN_DECIMAL.match(text):
                return text  # 1e3, 1:30.5, 1_000.5: left as written, so a price check can say so
            try:
                return Decimal(text)
            except InvalidOperation:
                raise self.error(node, f"'{node.value}' is not a number", path) from None
        if tag == _INT and not _PLAIN_INT.match(node.value):
            # YAML 1.1 reads 0123 as octal 83 and 12:30 as 750: keep what was written
            return str(node.value)
        if tag == _BOOL and node.value.lower() not in ("true", "false"):
            return str(node.value)  # yes/no/on/off stay words (NO is Norway, not False)
        # what PyYAML's safe constructor makes of the plain forms left, without its machinery
        # (a third of reading a catalog file): `_PLAIN_INT` leaves no sign of another base
        if tag == _STR:
            return str(node.value)
        if tag == _INT:
            return int(node.value)
        if tag == _BOOL:
            return node.value.lower() == "true"
        if tag == _NULL:
            return None
        if tag == _TIMESTAMP:
            try:
                value = self.loader.construct_object(node, deep=True)
            except ValueError:  # 2026-02-30 matches the timestamp pattern but is no date
                raise self.error(node, f"'{node.value}' is not a valid date", path) from None
            assert isinstance(value, (dt.date, dt.datetime))
            return value
        raise self.error(node, _tag_error(tag), path)


def _tag_error(tag: str) -> str:
    short = tag.replace("tag:yaml.org,2002:", "!!")
    return f"tag '{short}' is not allowed in shop content"


def parse_yaml(text: str, line_offset: int = 0) -> Document:
    """Parse one YAML document strictly; raise `YamlError` with a line and column for anything off.

    `line_offset` is how many lines of the file come before `text` (1 for front matter, below
    its opening '---'): every line reported, in marks and in messages, is then a line of the file."""
    first = 1 + line_offset
    if len(text) > MAX_FILE_BYTES:
        raise YamlError(first, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", column=1)
    loader = _BaseLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, column = _mark(mark, line_offset) if mark else (first, 1)
            problem = exc.problem or exc.context or "invalid YAML"
            if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
                raise YamlError(line, "a tab cannot indent YAML: use spaces", column=column) from None
            ctx = exc.context_mark
            if exc.context and ctx is not None and _mark(ctx, line_offset) != (line, column):
                ctx_line, ctx_column = _mark(ctx, line_offset)
                problem += f", {exc.context} at line {ctx_line}, column {ctx_column}"
            raise YamlError(line, f"YAML syntax error: {problem}", column=column) from None
        except yaml.YAMLError as exc:
            raise YamlError(first, f"YAML syntax error: {exc}", column=1) from None
        except RecursionError:  # PyYAML's own composer recurses on `[[[[...`
            raise YamlError(first, f"values nest deeper than {MAX_DEPTH} levels", column=1) from None
        if node is None:
            return Document(None, {(): (first, 1)})
        builder = _Builder(loader, line_offset)
        data = builder.build(node, ())
        return Document(data, builder.marks, builder.keys)
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
        before = exc.object[: exc.start]  # what the codec read: the text after a BOM, if any
        line = before.count(b"\n") + 1
        # the column counts the characters before the bad byte on its line, as an editor does
        start = before.rfind(b"\n") + 1
        column = len(before[start:].decode("utf-8")) + 1
        raise YamlError(line, "file is not valid UTF-8 text", column=column) from None
    return text.replace("\r\n", "\n")
