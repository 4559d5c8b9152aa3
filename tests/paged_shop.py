"""A shop with more products than fit on one page of a listing, for the paging tests.

120 published products, in catalog order `p001` ... `p120`: "All products" takes three pages of
48 (the last one 24). Collection `many` holds the first 100 (pages of 48, 48 and 4), `few` the
last 20 (one page), and `empty` none (its only product is not published yet). The products have
no photos, so the build draws only their share pictures.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import MINI_SITE, write_site

TOTAL = 120
IN_MANY = 100


def product_id(n: int) -> str:
    return f"p{n:03d}"


def _catalog() -> str:
    lines = ["collection:", "  id: many", "  title: Many things", "  description: The **big** shelf.", "products:"]
    for n in range(1, IN_MANY + 1):
        lines += [f"  - id: {product_id(n)}", f"    title: Thing {n}", f"    price: {n}.50"]
    return "\n".join(lines) + "\n"


def _few() -> str:
    lines = ["collection:", "  id: few", "  title: A few things", "products:"]
    for n in range(IN_MANY + 1, TOTAL + 1):
        lines += [f"  - id: {product_id(n)}", f"    title: Thing {n}", f"    price: {n}"]
    return "\n".join(lines) + "\n"


#: A collection whose only product is not published yet: it shows no product.
EMPTY = """\
collection:
  id: empty
  title: Nothing yet
products:
  - id: soon
    title: Coming soon
    price: 1
    published: false
"""


def paged_files(per_page: int | None = None) -> dict[str, str | None]:
    """The mini shop's site.yml and stores, with the 120 products instead of its catalog."""
    site_yml = textwrap.dedent(str(MINI_SITE["site.yml"]))
    if per_page is not None:
        site_yml += f"products_per_page: {per_page}\n"
    return {
        "site.yml": site_yml,
        "content/stores.yml": MINI_SITE["content/stores.yml"],
        "content/catalog/1-many.yml": _catalog(),
        "content/catalog/2-few.yml": _few(),
        "content/catalog/3-empty.yml": EMPTY,
    }


def write_paged_shop(root: Path, per_page: int | None = None) -> Path:
    return write_site(root, paged_files(per_page))
