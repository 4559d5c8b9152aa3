"""What each page shows, so that a rebuild in `micromall serve` renders only the pages a change touches.

While a page renders, the template environment notes every product, collection, story, page,
store and list of the shop (`site.products`, `site.featured`, ...) whose attributes the
templates read: the page's dependencies. Each of them has a fingerprint taken from the model
(its fields, and the ids of what it links to). After an edit, a page is rendered again when one
of its dependencies' fingerprints changed; every other page is left as it is on disk, which is
byte for byte what a full build would write.
"""

from __future__ import annotations

import hashlib
from typing import Any

import jinja2

from .model import Collection, Doc, Product, ProductShare, Store, Story, Variant, content_print
from .render import SiteContext
from .reuse import MISSING, Reuse

#: The preview's table of each product's fingerprint (reuse.py).
PRINTS = "prints"
#: The preview's products' fingerprints by dependency key, from one rebuild to the next (Reuse.each).
PRODUCT_PRINTS = "product prints"


def _product_key(p: Product) -> str:
    return "p:" + p.id


def dependency(obj: Any, attribute: str) -> str | None:
    """The dependency key a template read of `obj.attribute` adds, if any."""
    if isinstance(obj, Product):
        return "p:" + obj.id
    if isinstance(obj, Collection):
        return "c:" + obj.id
    if isinstance(obj, Story):
        return "s:" + obj.slug
    if isinstance(obj, Doc):
        return "d:" + obj.slug
    if isinstance(obj, Store):
        return "st:" + obj.id
    if isinstance(obj, SiteContext):
        return "site:" + attribute
    return None


class TrackingEnvironment(jinja2.Environment):
    """A Jinja environment that records dependencies in `touched` while it is a set."""

    touched: set[str] | None = None

    def getattr(self, obj: Any, attribute: str) -> Any:
        touched = self.touched
        if touched is not None and not isinstance(obj, (str, int, Variant)):
            key = dependency(obj, attribute)
            if key is not None:
                touched.add(key)
        return super().getattr(obj, attribute)


def _ids(items: Any) -> tuple[str, ...]:
    try:
        return tuple([i.id for i in items])  # products, collections, stores: the usual lists
    except AttributeError:
        return tuple(str(getattr(i, "id", None) or getattr(i, "slug", "")) for i in items)


def stable_hash(value: Any) -> int:
    """A hash of `value`'s repr that is the same in every process (Python's own `hash` of a
    string changes from one run to the next), so that a build can compare its fingerprints
    with those the last build saved in the cache folder."""
    return _digest(repr(value))


def _digest(text: str) -> int:
    """`stable_hash` of a text already made."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def _share_shown(share: ProductShare) -> tuple[object, ...]:
    """What a product's page can show of its share: the link, the text and its pictures."""
    pictures = (share.card, share.poster_square, share.poster_story)
    return (share.url, share.text, *((i.url, i.width, i.height, i.alt) for i in pictures))


def fingerprints(site_context: SiteContext, reuse: Reuse | None = None) -> dict[str, int]:
    """A fingerprint of everything a page can depend on, by dependency key: stable hashes of
    reprs, compared with those of the last build (in the preview server, or saved in the cache).
    `reuse` (the preview's) gives a product that is the same object, with the same share and
    the same ids linked, as in the build before, the fingerprint it had."""
    prints: dict[str, int] = {}
    table = reuse.table(PRINTS) if reuse is not None else None

    def print_of(p: Product) -> int:
        share = p.share
        # the ids it links to, as the print shows them: an edited product's neighbours are new
        # objects with the same ids (and the related products of thousands of others)
        ids = (_ids(p.related), _ids(p.collections), _ids(p.stories))
        links = (share, *ids) if table is not None else None
        kept = table.get(p, links) if table is not None else MISSING
        if kept is not MISSING:
            return kept  # type: ignore[no-any-return]
        # (tuples of plain values, whose reprs are made in C, and one text hashed: a warm build
        # prints 10,000 products)
        shown = _share_shown(share) if share is not None else None
        price = p.price
        made = _digest(repr((content_print(p), ids, shown, p.sold_out, price.minor, price.currency)))
        return table.put(p, made, links) if table is not None else made

    if reuse is not None:
        prints.update(reuse.each(PRODUCT_PRINTS, site_context.products, print_of, _product_key))
    else:
        prints.update((_product_key(p), print_of(p)) for p in site_context.products)
    for c in site_context.collections:
        # (in a rebuild of a shop of the same shape, a collection that is the same object lists
        # the same ids: only its picture, its first product's photo, may have changed)
        same_shape = table is not None and reuse is not None and reuse.changed is not None
        kept = table.get(c, ("collection", c.image)) if same_shape and table is not None else MISSING
        if kept is MISSING:
            kept = stable_hash((repr(c), _ids(c.products), repr(c.image)))
            if table is not None:
                table.put(c, kept, ("collection", c.image))
        prints["c:" + c.id] = kept
    for s in site_context.stories:
        prints["s:" + s.slug] = stable_hash((repr(s), _ids(s.products)))
    for d in site_context.pages:
        prints["d:" + d.slug] = stable_hash(repr(d))
    for st in site_context.stores:
        prints["st:" + st.id] = stable_hash(repr(st))
    for name, value in vars(site_context).items():
        if not name.startswith("_"):
            shown_value = _ids(value) if isinstance(value, (list, tuple)) else repr(value)
            prints["site:" + name] = stable_hash(shown_value)
    return prints
