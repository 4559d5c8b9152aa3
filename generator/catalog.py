"""content/catalog/*.yml: products, their variants, and the collection each file declares."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from markupsafe import Markup

from .errors import Problem, did_you_mean
from .fields import Obj, SourceFile
from .markup import MAX_MARKDOWN_CHARS, markdown_problem, plain_text, render_markdown
from .model import Collection, GroupBuy, Image, Option, Product, Variant
from .money import Money
from .yamlsafe import Document, Path

CATALOG_KEYS = ("collection", "products")
COLLECTION_KEYS = ("id", "title", "description", "image")
PRODUCT_KEYS = (
    "id", "title", "price", "compare_at_price", "sku", "summary", "description", "images",
    "tags", "collections", "stock", "options", "variants", "published", "featured", "group_buy",
)  # fmt: skip
GROUP_BUY_KEYS = ("min_orders", "ends")
VARIANT_KEYS = ("id", "options", "price", "compare_at_price", "sku", "stock", "image")

ImageFn = Callable[[Obj, str], Image | None]
ImagesFn = Callable[[Obj, str], list[Image]]
RenderFn = Callable[[str], Markup]


@dataclass(frozen=True)
class Ref:
    """An id that names something in another file, with where it was written (in this file)."""

    id: str
    path: Path


@dataclass
class CatalogFile:
    """One catalog file, parsed: what it defines, and where its ids are written, for the checks
    across files (duplicate ids and SKUs, unknown collections) that `resolve` makes.

    A parse is kept between builds (parsecache.py) and never changed: each load takes its own
    copy with `for_load`, whose cross-link lists `resolve` then fills."""

    src: SourceFile
    collection: Collection | None
    products: list[Product] = field(default_factory=list)
    collection_refs: dict[str, list[Ref]] = field(default_factory=dict)  # product id -> refs
    id_paths: dict[str, Path] = field(default_factory=dict)  # product id -> path of its id
    skus: list[tuple[str, Path]] = field(default_factory=list)  # each SKU written, with its path

    def paths(self) -> list[Path]:
        """Every path that `resolve` may report a problem at or point to."""
        found: list[Path] = [("collection", "id")] if self.collection is not None else []
        found.extend(self.id_paths.values())
        found.extend(path for _, path in self.skus)
        found.extend(ref.path for refs in self.collection_refs.values() for ref in refs)
        return found

    def items(self) -> list[Product | Collection]:
        """What the file defines: its collection, if any, and its products."""
        return [self.collection, *self.products] if self.collection is not None else list(self.products)

    def kept_form(self) -> CatalogFile:
        """This parse as it is kept: its document reduced to the lines and columns of `paths`
        (the whole document's would be most of the memory), with no problem list."""
        marks = {path: self.src.mark(path) for path in self.paths()}
        src = SourceFile(self.src.rel, Document(None, marks), [])
        return CatalogFile(src, self.collection, self.products, self.collection_refs, self.id_paths, self.skus)

    def for_load(self, problems: list[Problem], like: CatalogFile | None = None) -> CatalogFile:
        """A copy for one load, reporting into `problems`: new products and collection, sharing
        every field but the cross-link lists, which are new (the file's own collection only).
        Shallow copies: a few seconds of deepcopy at 10,000 products become milliseconds.

        `like` is the last load's copy of the same file (the preview's, after an edit): its
        products and collection whose own fields (their repr, which leaves the links out) are
        as this parse's are taken over, with the links that load made (see `again`), so that an
        edit to one product of a file leaves the others the objects they were."""
        src = SourceFile(self.src.rel, self.src.doc, problems)
        coll = self.collection
        if coll is not None:
            last_coll = like.collection if like is not None else None
            coll = last_coll if last_coll is not None and repr(last_coll) == repr(coll) else _renewed(coll, products=[])
        own = [coll] if coll is not None else []
        known = {p.id: p for p in like.products} if like is not None else {}
        products = []
        for p in self.products:
            last = known.get(p.id)
            if last is not None and repr(last) == repr(p):
                products.append(last)
            else:
                products.append(_renewed(p, collections=list(own), related=[], stories=[], _share=[]))
        return CatalogFile(src, coll, products, self.collection_refs, self.id_paths, self.skus)

    def again(self, problems: list[Problem]) -> CatalogFile:
        """This load copy (made by `for_load`) again, for the next load of the same kept parse:
        the same products and collection, with the cross-links the last load made, which the
        load either keeps (the shop's links are as they were) or empties with `unlink` and
        makes again. The preview's rebuilds do this (reuse.py): an unchanged product stays the
        same object from one build to the next, so the work done for it is found again. Its
        `share` stays until the build gives it again."""
        return CatalogFile(SourceFile(self.src.rel, self.src.doc, problems), self.collection, self.products,
                           self.collection_refs, self.id_paths, self.skus)  # fmt: skip

    def unlink(self) -> None:
        """Empty the cross-link lists of this copy's products and collection (its products keep
        their file's own collection), for `resolve` to make them again."""
        coll = self.collection
        own = [coll] if coll is not None else []
        if coll is not None:
            coll.products.clear()
        for product in self.products:
            product.collections[:] = own
            product.related.clear()
            product.stories.clear()


T = TypeVar("T", Product, Collection)


def _renewed(item: T, **lists: list[Any]) -> T:
    """A copy of a frozen model object with new values for its cross-link lists."""
    new = object.__new__(type(item))
    new.__dict__.update(item.__dict__)
    new.__dict__.update(lists)
    return new


def parse_catalog(
    src: SourceFile, currency: str, image: ImageFn, images: ImagesFn, render: RenderFn = render_markdown
) -> CatalogFile:
    """The file's collection and products, every problem in `src`; `render` is render_markdown,
    or one that remembers what it rendered (the preview parses an edited file again)."""
    root = src.obj(src.doc.data, (), CATALOG_KEYS)
    if root is None:
        return CatalogFile(src, None)
    collection = None
    if root.has("collection"):
        coll = src.obj(root.data["collection"], root.at("collection"), COLLECTION_KEYS)
        if coll is not None:
            collection = _collection(coll, image, render)
    out = CatalogFile(src, collection)
    entries = root.items("products", required=True)
    if root.has("products") and not entries and isinstance(root.data["products"], list):
        src.warn(root.at("products"), "the list is empty")
    for path, item in entries:
        obj = src.obj(item, path, PRODUCT_KEYS)
        if obj is None:
            continue
        product = _product(obj, currency, image, images, collection, render)
        if product is None:
            continue
        out.products.append(product)
        out.id_paths[product.id] = obj.at("id")
        out.skus.extend(_skus(obj, product.sku))
        out.collection_refs[product.id] = [Ref(cid, p) for p, cid in _texts_with_paths(obj, "collections")]
    return out


def _collection(obj: Obj, image: ImageFn, render: RenderFn) -> Collection | None:
    cid = obj.slug("id")
    title = obj.text("title", required=True)
    description = obj.text("description")
    if problem := markdown_problem(description):
        obj.src.error(obj.at("description"), problem)
    html = render(description) if description else Markup("")
    img = image(obj, "image")
    if not (cid and title):
        return None
    return Collection(cid, title, html, plain_text(html), img, obj.src.rel)


def _skus(obj: Obj, own: str) -> list[tuple[str, Path]]:
    """The SKUs a product writes, its own then its variants', for the site-wide duplicate check.
    A variant that repeats its product's own SKU names the same goods and is not counted twice.
    Read from the raw data: the typed getters have already reported wrong values."""
    found = [(own, obj.at("sku"))] if own else []
    variants = obj.data.get("variants")
    for i, item in enumerate(variants if isinstance(variants, list) else []):
        value = item.get("sku") if isinstance(item, dict) else None
        if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool):
            sku = str(value).strip()
            if sku and sku != own:
                found.append((sku, obj.at("variants") + (i, "sku")))
    return found


def _texts_with_paths(obj: Obj, key: str) -> list[tuple[Path, str]]:
    return [(p, v) for p, v in obj.items(key) if isinstance(v, str) and v.strip()]


def _product(
    obj: Obj, currency: str, image: ImageFn, images: ImagesFn, collection: Collection | None, render: RenderFn
) -> Product | None:
    src = obj.src
    pid = obj.slug("id")
    title = obj.text("title", required=True)
    price = obj.price("price", currency, required=True)
    compare_at = obj.price("compare_at_price", currency)
    _check_compare_at(obj, price, compare_at)
    description = obj.text("description")
    if len(description) > MAX_MARKDOWN_CHARS:
        src.error(obj.at("description"), f"is longer than {MAX_MARKDOWN_CHARS:,} characters")
        description = ""
    if problem := markdown_problem(description):
        src.error(obj.at("description"), problem)
    stock = obj.integer("stock", minimum=0)
    options = _options(obj)
    variants = _variants(obj, options, price, compare_at, stock, image, currency)
    tags = obj.texts("tags")
    for p, v in obj.items("collections"):
        if not isinstance(v, str) or not v.strip():
            src.error(p, "must be a collection id")
    product_images = images(obj, "images")
    published = obj.boolean("published", True)
    featured = obj.boolean("featured", False)
    group_buy = _group_buy(obj)
    if not (pid and title) or price is None:
        return None
    product = Product(
        id=pid,
        title=title,
        base_price=price,
        base_compare_at_price=compare_at,
        sku=obj.text("sku"),
        summary=obj.text("summary"),
        description_html=render(description),
        images=tuple(product_images),
        tags=tuple(tags),
        base_stock=stock,
        options=options,
        variants=variants,
        published=published,
        featured=featured,
        source=src.rel,
        group_buy=group_buy,
    )
    if collection is not None:
        product.collections.append(collection)
    return product


def _group_buy(obj: Obj) -> GroupBuy | None:
    """group_buy: {min_orders: N, ends: DATE}: a date means to the end of that day (UTC), or
    give a date and time with its offset (2026-12-01 20:00+08:00)."""
    from .promotions import moment

    if not obj.has("group_buy"):
        return None
    gobj = obj.src.obj(obj.data["group_buy"], obj.at("group_buy"), GROUP_BUY_KEYS)
    if gobj is None:
        return None
    min_orders = gobj.integer("min_orders", minimum=2)
    if not gobj.has("min_orders"):
        gobj.src.error(gobj.at("min_orders"), "is required (how many orders make the group buy go ahead)")
    ends = moment(gobj, "ends", dt.UTC, end=True)
    if min_orders is None or ends is None:
        return None
    return GroupBuy(min_orders, ends)


def _check_compare_at(obj: Obj, price: Money | None, compare_at: Money | None) -> None:
    if price is not None and compare_at is not None and price.currency and compare_at <= price:
        obj.src.error(
            obj.at("compare_at_price"),
            "must be greater than price (it is the struck-through 'was' price)",
        )


def _options(obj: Obj) -> tuple[Option, ...]:
    options = []
    for name, values in obj.mapping("options").items():
        path = obj.at("options") + (str(name),)
        if not isinstance(values, list) or not values:
            obj.src.error(path, "must be a list of values such as [S, M, L]")
            continue
        texts = [str(v).strip() for v in values if isinstance(v, (str, int)) and not isinstance(v, bool)]
        if len(texts) != len(values):
            obj.src.error(path, "values must be text")
            continue
        if len(set(texts)) != len(texts):
            obj.src.error(path, "values must not repeat")
        options.append(Option(str(name), tuple(texts)))
    return tuple(options)


def _variants(
    obj: Obj,
    options: tuple[Option, ...],
    price: Money | None,
    compare_at: Money | None,
    stock: int | None,
    image: ImageFn,
    currency: str,
) -> tuple[Variant, ...]:
    src = obj.src
    entries = obj.items("variants")
    if not entries:
        if not options or price is None:
            return ()
        # options without variants: every combination is for sale at the product's price
        combos = list(itertools.product(*(o.values for o in options)))
        ids = _combo_ids(combos)
        return tuple(
            Variant(
                id=vid,
                title=" / ".join(combo),
                options=dict(zip((o.name for o in options), combo, strict=True)),
                price=price,
                compare_at_price=compare_at,
                sku="",
                stock=stock,
                image=None,
            )
            for vid, combo in zip(ids, combos, strict=True)
        )
    if not options:
        src.error(obj.at("variants"), "variants need the product's options (e.g. options: {size: [S, M]})")
    by_name = {o.name: o for o in options}
    variants: list[Variant] = []
    seen_ids: dict[str, int] = {}
    seen_combos: dict[tuple[str, ...], str] = {}
    for path, item in entries:
        vobj = src.obj(item, path, VARIANT_KEYS)
        if vobj is None:
            continue
        vid = vobj.unique_slug("id", seen_ids, "variant")
        chosen = _variant_options(vobj, by_name)
        if chosen is not None and options:
            combo = tuple(chosen[o.name] for o in options)
            if combo in seen_combos:
                src.error(vobj.at("options"), f"same options as variant '{seen_combos[combo]}'")
            seen_combos.setdefault(combo, vid)
        vprice = vobj.price("price", currency) or price
        vcompare = vobj.price("compare_at_price", currency) if vobj.has("compare_at_price") else compare_at
        if vobj.has("compare_at_price"):
            _check_compare_at(vobj, vprice, vcompare)
        vstock = vobj.integer("stock", minimum=0, default=stock)
        vimage = image(vobj, "image")
        vsku = vobj.text("sku")
        if vid and chosen is not None and vprice is not None:
            variants.append(
                Variant(
                    id=vid,
                    title=" / ".join(chosen[o.name] for o in options if o.name in chosen),
                    options=chosen,
                    price=vprice,
                    compare_at_price=vcompare if vcompare is not None and vcompare > vprice else None,
                    sku=vsku,
                    stock=vstock,
                    image=vimage,
                )
            )
    return tuple(variants)


def _variant_options(vobj: Obj, by_name: dict[str, Option]) -> dict[str, str] | None:
    src = vobj.src
    raw = vobj.data.get("options")
    if raw is None:
        src.error(vobj.at("options"), "is required (which of the product's options this variant is)")
        return None
    if not isinstance(raw, dict):
        src.error(vobj.at("options"), "must be a mapping such as {size: M}")
        return None
    chosen: dict[str, str] = {}
    ok = True
    for name, value in raw.items():
        path = vobj.at("options") + (str(name),)
        option = by_name.get(str(name))
        if option is None:
            known = ", ".join(by_name) or "none"
            src.key_error(
                path,
                f"'{name}' is not an option of this product{did_you_mean(str(name), by_name)} (its options: {known})",
            )
            ok = False
            continue
        text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        if text not in option.values:
            src.error(
                path,
                f"'{value}' is not one of the product's {name} values: {', '.join(option.values)}",
            )
            ok = False
            continue
        chosen[option.name] = text
    missing = [n for n in by_name if n not in raw]
    if missing and ok:
        src.error(vobj.at("options"), f"missing a value for: {', '.join(missing)}")
        ok = False
    return chosen if ok else None


def _combo_ids(combos: list[tuple[str, ...]]) -> list[str]:
    """Ids for generated variants: a slug of the values ('m-red'), or 'v1', 'v2'... when the
    values make no usable or no unique slug (Chinese values, 'S' beside 's')."""
    parts = [[_slugify(v) for v in combo] for combo in combos]
    slugs = ["-".join(p) for p in parts]
    if all(all(p) for p in parts) and len(set(slugs)) == len(slugs):
        return slugs
    return [f"v{i + 1}" for i in range(len(combos))]


def _slugify(text: str) -> str:
    out = "".join(c.lower() if c.isascii() and c.isalnum() else "-" for c in text)
    return "-".join(filter(None, out.split("-")))
