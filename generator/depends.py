"""What each page shows, so that a rebuild in `micromall serve` renders only the pages a change touches.

While a page renders, the template environment notes every product, collection, story, page,
store and list of the shop (`site.products`, `site.featured`, ...) whose attributes the
templates read: the page's dependencies. Each of them has a fingerprint taken from the model
(its fields, and the ids of what it links to). After an edit, a page is rendered again when one
of its dependencies' fingerprints changed; every other page is left as it is on disk, which is
byte for byte what a full build would write.
"""

from __future__ import annotations

from typing import Any

import jinja2

from .model import Collection, Doc, Product, Store, Story, Variant
from .render import SiteContext


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
    return tuple(str(getattr(i, "id", None) or getattr(i, "slug", "")) for i in items)


def fingerprints(site_context: SiteContext) -> dict[str, int]:
    """A fingerprint of everything a page can depend on, by dependency key. Fingerprints are
    hashes of reprs, compared only within one process (the preview server)."""
    prints: dict[str, int] = {}
    for p in site_context.products:
        share = p.share
        shown = (share.url, share.text, share.card, share.poster_square, share.poster_story) if share else None
        prints["p:" + p.id] = hash(
            (repr(p), _ids(p.related), _ids(p.collections), _ids(p.stories), repr(shown), p.sold_out, p.price)
        )
    for c in site_context.collections:
        prints["c:" + c.id] = hash((repr(c), _ids(c.products), repr(c.image)))
    for s in site_context.stories:
        prints["s:" + s.slug] = hash((repr(s), _ids(s.products)))
    for d in site_context.pages:
        prints["d:" + d.slug] = hash(repr(d))
    for st in site_context.stores:
        prints["st:" + st.id] = hash(repr(st))
    for name, value in vars(site_context).items():
        if not name.startswith("_"):
            shown_value = _ids(value) if isinstance(value, (list, tuple)) else repr(value)
            prints["site:" + name] = hash(shown_value)
    return prints
