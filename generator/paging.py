"""Listing pages in pages: "All products" and each collection show a fixed number of cards per page.

One page per listing of any length would mean megabytes of HTML on a phone at a few thousand
products, and a preview that renders all of them again for one edited product. Split in pages
of `products_per_page` (site.yml), a listing costs the same at any catalog size, and an edit
renders again only the page that shows the product.

Page 1 keeps the listing's own URL (`products/`, `collections/<id>/`); page n is at
`<listing URL>page/<n>/`, so every page has one stable address (for links, the sitemap and
search engines) and the URLs of a shop without many products do not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

#: Cards per page unless site.yml says otherwise: divisible by the 2, 3 and 4 columns of the
#: default theme's grid, so every full page ends with a full row.
DEFAULT_PAGE_SIZE = 48
#: The most site.yml may ask for: a larger page is the page weight this module is here to avoid.
MAX_PAGE_SIZE = 500
#: Numbered links on each side of the current page (the first and last page are always linked).
NEIGHBOURS = 2


def page_url(base: str, number: int) -> str:
    """The site-relative URL of page `number` of the listing at `base` (page 1 is `base`)."""
    return base if number == 1 else f"{base}page/{number}/"


def page_count(total: int, size: int) -> int:
    """How many pages `total` items take; an empty listing is still one page (which says so)."""
    return max(1, -(-total // size))


def listing_urls(base: str, total: int, size: int) -> list[str]:
    """The URL of every page of a listing of `total` items, page 1 first."""
    return [page_url(base, n) for n in range(1, page_count(total, size) + 1)]


@dataclass(frozen=True)
class PageLink:
    """A numbered link of the page navigation."""

    number: int
    url: str  # site-relative: write it with url()
    current: bool


@dataclass(frozen=True)
class Pagination:
    """`pagination` in listing templates: where this page is in its listing.

    Plain values only (no products): the build compares its repr between builds to know that
    the page navigation changed."""

    number: int  # this page, from 1
    count: int  # pages in all (1 for an empty listing)
    total: int  # items in the whole listing
    first: int  # position of this page's first item in the listing, from 1 (0 when empty)
    last: int  # position of its last item (0 when empty)
    url: str  # this page's site-relative URL
    previous: str | None  # the previous page's URL; None on page 1
    next: str | None  # the next page's URL; None on the last page
    links: tuple[PageLink | None, ...]  # numbered links, None where a run of pages is left out

    @property
    def is_paged(self) -> bool:
        """More than one page: the navigation is worth showing."""
        return self.count > 1


def _numbers(number: int, count: int) -> list[int | None]:
    """The page numbers to link: the first, the last and the current one's neighbours; None
    for a gap. A gap of a single page shows that page instead (an ellipsis would be no shorter)."""
    shown = {1, count, *range(max(1, number - NEIGHBOURS), min(count, number + NEIGHBOURS) + 1)}
    out: list[int | None] = []
    previous = 0
    for n in sorted(shown):
        if n - previous == 2:
            out.append(n - 1)
        elif n - previous > 2:
            out.append(None)
        out.append(n)
        previous = n
    return out


def paginate(items: Sequence[T], base: str, size: int) -> list[tuple[Pagination, Sequence[T]]]:
    """The listing at `base` in pages of `size` items: each page's Pagination and its items."""
    total = len(items)
    count = page_count(total, size)
    pages: list[tuple[Pagination, Sequence[T]]] = []
    for number in range(1, count + 1):
        start = (number - 1) * size
        shown = items[start : start + size]
        links = tuple(
            None if n is None else PageLink(n, page_url(base, n), n == number) for n in _numbers(number, count)
        )
        pagination = Pagination(
            number=number,
            count=count,
            total=total,
            first=start + 1 if shown else 0,
            last=start + len(shown),
            url=page_url(base, number),
            previous=page_url(base, number - 1) if number > 1 else None,
            next=page_url(base, number + 1) if number < count else None,
            links=links,
        )
        pages.append((pagination, shown))
    return pages
