"""A parsed catalog file as plain JSON data and back, for the parse cache on disk (parsecache.py).

Writing is easy; reading is the half that matters, because the cache folder sits in the shop's
folder and may come with a shop someone else made. So `decode` is explicit: it reads only
lists, dicts, strings, numbers, booleans and null (what `json.loads` makes), builds only the
model's own types (Product, Variant, Option, GroupBuy, Collection, Money, Markup, Problem, Ref)
field by field, checks the type of every value, and raises `Unusable` at the first thing that
is not what `encode` writes. The caller then parses the file again. Besides types, it checks
what a parse guarantees and later steps rely on:

- ids are slugs (they become folder names in the output);
- prices are in the shop's currency, stock and minimum orders are in range, a group buy ends at
  a moment with a time zone, a variant's options are among its product's;
- descriptions are HTML that markdown-it could have written (markup.could_be_rendered): no
  tag it does not write, no `javascript:` link;
- images are never read from the entry: it names the content paths the parse looked up and what
  each gave, each is looked up again (MediaLibrary checks the path stays inside content/), and
  the entry is used only if each gives the same; the model gets those fresh Images.

An entry made by hand under the right key can still say other titles, prices or problems than
the file: no more than whoever made the shop could have written in the file itself, and gone as
soon as the file is edited (the key holds the file's bytes). The same holds for each product's
print (model.content_print, the hash of its repr as the parse made it), kept so that a build
need not take 10,000 reprs again: a wrong one can only make a build keep this product's page,
or its share plan, as the last build made it.

A file's problems are kept with it, so a warning is reported on every build as if the file had
been read again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from markupsafe import Markup

from .catalog import CatalogFile, Ref
from .errors import Problem, Severity
from .fields import SLUG, SourceFile
from .markup import could_be_rendered
from .model import Collection, GroupBuy, Image, Option, Product, Variant, content_print
from .money import Money
from .yamlsafe import Document, Path

#: Raise when what `encode` writes changes shape (older entries are then parsed again).
FORMAT = 2

#: What looking an image path up gave: the Image, or the problem's message.
Outcome = Image | str
T = TypeVar("T")


class Unusable(Exception):
    """An entry that is not what `encode` writes, or no longer matches the shop: parse again."""


@dataclass(frozen=True)
class Parsed:
    """One catalog file's parse as kept: the file in its kept form (CatalogFile.kept_form), the
    problems found in it, and each image path it looked up with what that gave."""

    catalog: CatalogFile
    problems: tuple[Problem, ...]
    looked_up: tuple[tuple[object, Outcome], ...]
    #: Each Markdown text the parse rendered, with its HTML: in memory only (not encoded).
    rendered: Mapping[str, Markup] = dataclasses.field(default_factory=dict, compare=False)

    @functools.cached_property
    def related_print(self) -> str:
        """What related products depend on in this file (load.py `_link_related_kept`): each
        product's id, whether it is published and sold out, its collections and tags."""
        cat = self.catalog
        own = cat.collection.id if cat.collection is not None else None
        return repr([
            (p.id, p.published, p.sold_out, own, [r.id for r in cat.collection_refs[p.id]], p.tags)
            for p in cat.products
        ])  # fmt: skip


# -- writing ---------------------------------------------------------------------------------
#
# Rows are lists, in the order of `_Reader`'s unpacking; a price is its minor units (the key
# holds the currency); a place in the file is [path, line, column].


class Unencodable(Exception):
    """A parse that plain data cannot hold (an image named by a value that is not text)."""


def encode(parsed: Parsed) -> dict[str, Any]:
    """`parsed` as plain data for `json.dumps`; raises Unencodable when it cannot be."""
    cat = parsed.catalog
    images: list[list[Any]] = []
    index: dict[int, int] = {}
    for value, outcome in parsed.looked_up:
        if not isinstance(value, str):
            raise Unencodable("an image named by a value that is not text")
        if isinstance(outcome, Image):
            index[id(outcome)] = len(images)
            images.append([value, [outcome.path, outcome.url, outcome.width, outcome.height]])
        else:
            images.append([value, outcome])

    def image(img: Image | None) -> int | None:
        if img is None:
            return None
        if id(img) not in index:
            raise Unencodable("an image that was not looked up")
        return index[id(img)]

    def minor(m: Money | None) -> int | None:
        return None if m is None else m.minor

    def at(path: Path) -> list[Any]:
        return [list(path), *cat.src.mark(path)]

    def variant(v: Variant) -> list[Any]:
        return [
            v.id,
            v.title,
            dict(v.options),
            v.price.minor,
            minor(v.compare_at_price),
            v.sku,
            v.stock,
            image(v.image),
        ]

    def product(p: Product) -> list[Any]:
        gb = p.group_buy
        return [
            p.id, p.title, p.base_price.minor, minor(p.base_compare_at_price), p.sku, p.summary,
            str(p.description_html), [image(i) for i in p.images], list(p.tags), p.base_stock,
            [[o.name, list(o.values)] for o in p.options], [variant(v) for v in p.variants], p.published,
            p.featured, None if gb is None else [gb.min_orders, gb.ends.isoformat()], at(cat.id_paths[p.id]),
            [[r.id, *at(r.path)] for r in cat.collection_refs[p.id]], content_print(p),
        ]  # fmt: skip

    coll = cat.collection
    return {
        "format": FORMAT,
        "rel": cat.src.rel,
        "images": images,
        "problems": [[p.line, p.column, p.field, p.message, p.severity.value] for p in parsed.problems],
        "collection": None
        if coll is None
        else [
            coll.id,
            coll.title,
            str(coll.description_html),
            coll.summary,
            image(coll.own_image),
            list(cat.src.mark(("collection", "id"))),
        ],
        "products": [product(p) for p in cat.products],
        "skus": [[sku, *at(path)] for sku, path in cat.skus],
    }


# -- reading ---------------------------------------------------------------------------------


def decode(data: object, rel: str, currency: str, lookup: Callable[[str], Outcome]) -> Parsed:
    """The Parsed that `encode` wrote as `data` for the file `rel` in a shop priced in
    `currency`; `lookup` looks an image path up now. Raises Unusable for anything else."""
    try:
        return _Reader(rel, currency, lookup).parsed(data)
    except Unusable:
        raise
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, RecursionError) as exc:
        raise Unusable(f"{type(exc).__name__}: {exc}") from None


_TOP = frozenset(("format", "rel", "images", "problems", "collection", "products", "skus"))
_PATH_PART = frozenset((str, int))
_TEXT = frozenset((str,))


def _need(ok: object, what: str) -> None:
    if not ok:
        raise Unusable(what)


def _rows(value: object) -> list[Any]:
    """A list (of rows): checked, because unpacking a string or a mapping would work too."""
    _need(type(value) is list, "not a list")
    assert isinstance(value, list)
    return value


def _number(value: object) -> int:
    """A whole number from 0 up (a price, a line, an index); bool is not one here."""
    if type(value) is not int or value < 0:
        raise Unusable("not a whole number from 0")
    return value


def _count(value: object) -> int | None:
    """A whole number from 0 up, or None (stock)."""
    return None if value is None else _number(value)


def _html(value: object) -> Markup:
    _need(type(value) is str and could_be_rendered(value), "HTML that markdown-it does not write")
    return Markup(value)  # nosec B704 - checked just above: only the tags and links markdown-it writes


_FIELDS: dict[type, frozenset[str]] = {
    cls: frozenset(f.name for f in dataclasses.fields(cls)) for cls in (Money, Product, Variant)
}


def _make(cls: type[T], fields: dict[str, Any]) -> T:
    """A frozen model object from all its fields, checked by the caller: the dataclass's
    __init__ sets each field through object.__setattr__, which is most of decoding's time."""
    assert fields.keys() == _FIELDS[cls], cls
    made = object.__new__(cls)
    object.__setattr__(made, "__dict__", fields)
    return made


class _Reader:
    def __init__(self, rel: str, currency: str, lookup: Callable[[str], Outcome]) -> None:
        self.rel = rel
        self.currency = currency
        self.lookup = lookup
        self.images: list[Image | None] = []
        self.marks: dict[Path, tuple[int, int]] = {}
        self.prices: dict[int, Money] = {}

    def parsed(self, data: object) -> Parsed:
        _need(type(data) is dict and data.keys() == _TOP, "not an entry")
        assert isinstance(data, dict)
        _need(type(data["format"]) is int and data["format"] == FORMAT, "another format")
        _need(data["rel"] == self.rel, "another file")
        looked_up = tuple(self.image_entry(entry) for entry in _rows(data["images"]))
        problems = tuple(self.problem(p) for p in _rows(data["problems"]))
        coll = None if data["collection"] is None else self.collection(data["collection"])
        cat = CatalogFile(SourceFile(self.rel, Document(None, self.marks), []), coll)
        for row in _rows(data["products"]):
            product, id_at, refs = self.product(row)
            _need(product.id not in cat.id_paths, "a product twice")
            cat.products.append(product)
            cat.id_paths[product.id] = self.at(id_at)
            cat.collection_refs[product.id] = [self.ref(r) for r in _rows(refs)]
        for row in _rows(data["skus"]):
            sku, *at = _rows(row)
            _need(type(sku) is str, "a SKU that is not text")
            cat.skus.append((sku, self.at(at)))
        return Parsed(cat, problems, looked_up)

    def at(self, value: object) -> Path:
        """A place in the file: its path, kept with its line and column."""
        raw, line, column = _rows(value)
        _need(type(raw) is list and _PATH_PART.issuperset(map(type, raw)), "not a path")
        path = tuple(raw)
        self.marks[path] = (self.line(line), self.line(column))
        return path

    line = staticmethod(_number)

    def image_entry(self, entry: object) -> tuple[object, Outcome]:
        value, then = _rows(entry)
        _need(type(value) is str, "an image path that is not text")
        now = self.lookup(value)
        if isinstance(now, Image):
            _need(then == [now.path, now.url, now.width, now.height], "an image that changed")
            self.images.append(now)
        else:
            _need(now == then, "an image problem that changed")
            self.images.append(None)
        return value, now

    def image(self, value: object) -> Image | None:
        if value is None:
            return None
        found = self.images[_number(value)]
        _need(found is not None, "an image that could not be used")
        return found

    def problem(self, value: object) -> Problem:
        line, column, field, message, severity = _rows(value)
        _need(type(field) is str and type(message) is str and type(severity) is str, "not a problem")
        return Problem(self.rel, self.line(line), field, message, Severity(severity), column=self.line(column))

    def price(self, value: object) -> Money:
        minor = _number(value)
        found = self.prices.get(minor)
        if found is None:  # one Money for each price in the file
            found = self.prices[minor] = _make(Money, {"minor": minor, "currency": self.currency})
        return found

    def collection(self, value: object) -> Collection:
        cid, title, html, summary, image, (line, column) = _rows(value)
        _need(type(cid) is str and SLUG.match(cid) and type(title) is type(summary) is str, "not a collection")
        self.marks[("collection", "id")] = (self.line(line), self.line(column))
        return Collection(cid, title, _html(html), summary, self.image(image), self.rel)

    def ref(self, value: object) -> Ref:
        cid, *at = _rows(value)
        _need(type(cid) is str, "a collection id that is not text")
        return Ref(cid, self.at(at))

    def product(self, row: object) -> tuple[Product, object, object]:
        (pid, title, price, compare_at, sku, summary, html, images, tags, stock, options, variants,
         published, featured, group_buy, id_at, refs, printed) = _rows(row)  # fmt: skip
        _need(type(pid) is str and SLUG.match(pid), "a product id that is not an id")
        _need(type(title) is type(sku) is type(summary) is str, "product texts that are not text")
        _need(type(published) is type(featured) is bool, "not true or false")
        _need(_TEXT.issuperset(map(type, _rows(tags))), "tags that are not text")
        kept_options = tuple(self.option(o) for o in _rows(options))
        by_name = {o.name: o.values for o in kept_options}
        fields = {
            "id": pid,
            "title": title,
            "base_price": self.price(price),
            "base_compare_at_price": None if compare_at is None else self.price(compare_at),
            "sku": sku,
            "summary": summary,
            "description_html": _html(html),
            "images": tuple(self.image(n) for n in _rows(images) if n is not None),
            "tags": tuple(tags),
            "base_stock": _count(stock),
            "options": kept_options,
            "variants": tuple(self.variant(v, by_name) for v in _rows(variants)),
            "published": published,
            "featured": featured,
            "source": self.rel,
            "group_buy": None if group_buy is None else self.group_buy(group_buy),
            "collections": [],
            "related": [],
            "stories": [],
            "_share": [],
            "_print": [_number(printed)],  # (a hash of 64 bits: checked for its type and range)
        }
        _need(printed < 1 << 64, "not a print")
        _need(None not in fields["images"], "an image that could not be used")
        return _make(Product, fields), id_at, refs

    def option(self, value: object) -> Option:
        name, values = _rows(value)
        _need(type(name) is str and _TEXT.issuperset(map(type, _rows(values))), "not an option")
        return Option(name, tuple(values))

    def variant(self, row: object, options: dict[str, tuple[str, ...]]) -> Variant:
        vid, title, chosen, price, compare_at, sku, stock, image = _rows(row)
        _need(type(vid) is str and SLUG.match(vid) and type(title) is type(sku) is str, "not a variant")
        _need(type(chosen) is dict and all(v in options.get(k, ()) for k, v in chosen.items()), "not its options")
        fields = {
            "id": vid,
            "title": title,
            "options": chosen,
            "price": self.price(price),
            "compare_at_price": None if compare_at is None else self.price(compare_at),
            "sku": sku,
            "stock": _count(stock),
            "image": self.image(image),
        }
        return _make(Variant, fields)

    def group_buy(self, value: object) -> GroupBuy:
        min_orders, ends = _rows(value)
        if type(min_orders) is not int or min_orders < 2 or type(ends) is not str:
            raise Unusable("not a group buy")
        moment = dt.datetime.fromisoformat(ends)
        _need(moment.tzinfo is not None, "a moment without its time zone")
        return GroupBuy(min_orders, moment)
