"""The exact messages a shop owner sees for the common content mistakes.

Each case changes one file of the mini shop and pins the whole report: every line, sorted,
then the count, with exit code 1 and no traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import MINI_SITE

SITE_YML = MINI_SITE["site.yml"]
assert SITE_YML is not None


def catalog(body: str) -> dict[str, str | None]:
    """A catalog file replacing tea.yml; the story's product goes with it, so keep 'green'."""
    return {"content/catalog/tea.yml": "products:\n  - id: green\n    title: Green\n    price: 1\n" + body}


CASES: dict[str, tuple[dict[str, str | None], list[str]]] = {
    "yaml syntax error": (
        {"content/catalog/tea.yml": "products:\n  - id: a\n    title: [unclosed\n"},
        [
            "content/catalog/tea.yml:4:1: YAML syntax error: did not find expected ',' or ']',"
            " while parsing a flow sequence at line 3, column 12"
        ],
    ),
    "missing required field": (
        catalog("  - id: a\n    price: 1\n"),
        ["content/catalog/tea.yml:5:5: products[1].title: is required"],
    ),
    "wrong type": (
        catalog("  - id: a\n    title: A\n    price: 1\n    tags: green\n    stock: lots\n    featured: yes please\n"),
        [
            "content/catalog/tea.yml:8:11: products[1].tags: must be a list, got text",
            "content/catalog/tea.yml:9:12: products[1].stock: must be a whole number, got text",
            "content/catalog/tea.yml:10:15: products[1].featured: must be true or false, got text",
        ],
    ),
    "negative price": (
        catalog("  - id: a\n    title: A\n    price: -5\n"),
        ["content/catalog/tea.yml:7:12: products[1].price: must not be negative"],
    ),
    "malformed price": (
        catalog("  - id: a\n    title: A\n    price: 12,50\n"),
        [
            "content/catalog/tea.yml:7:12: products[1].price:"
            " '12,50' is not a price; write a number such as 128 or 19.90"
        ],
    ),
    "too many decimals": (
        catalog("  - id: a\n    title: A\n    price: 19.999\n"),
        ["content/catalog/tea.yml:7:12: products[1].price: CNY allows at most 2 decimals, got 19.999"],
    ),
    "unknown currency": (
        {"site.yml": SITE_YML.replace("currency: CNY", "currency: RMB")},
        ["site.yml:5:11: currency: unknown currency 'RMB': use an ISO 4217 code such as CNY, USD or EUR"],
    ),
    "lowercase currency": (
        {"site.yml": SITE_YML.replace("currency: CNY", "currency: cny")},
        [
            "site.yml:5:11: currency: unknown currency 'cny' (did you mean 'CNY'?):"
            " use an ISO 4217 code such as CNY, USD or EUR"
        ],
    ),
    "duplicate product id": (
        {"content/catalog/zmore.yml": "products:\n  - id: green\n    title: Again\n    price: 5\n"},
        [
            "content/catalog/zmore.yml:2:9: products[0].id: duplicate product id 'green'"
            " (first defined at content/catalog/tea.yml:6:9)"
        ],
    ),
    "variant options not among the product's": (
        catalog(
            "  - id: a\n    title: A\n    price: 1\n    options:\n      size: [S, M]\n    variants:\n"
            "      - id: xl\n        options: {size: XL}\n      - id: c\n        options: {colour: red, size: S}\n"
        ),
        [
            "content/catalog/tea.yml:12:25: products[1].variants[0].options.size:"
            " 'XL' is not one of the product's size values: S, M",
            "content/catalog/tea.yml:14:19: products[1].variants[1].options.colour:"
            " 'colour' is not an option of this product (its options: size)",
        ],
    ),
    "unknown product in a story": (
        {
            "content/stories/harvest.md": (
                "---\ntitle: T\ndate: 2026-01-01\nproducts: [gren]\n---\nText\n\n{{ product nope }}\n"
            )
        },
        [
            "content/stories/harvest.md:4:12: products[0]: unknown product 'gren' (did you mean 'green'?)",
            "content/stories/harvest.md:8:1: unknown product 'nope'",
        ],
    ),
    "missing image file": (
        catalog("    images: [images/nothere.jpg]\n"),
        ["content/catalog/tea.yml:5:14: products[0].images[0]: file not found: content/images/nothere.jpg"],
    ),
    "image path escaping the site": (
        catalog("    images: [../../etc/passwd]\n"),
        ["content/catalog/tea.yml:5:14: products[0].images[0]: path must stay inside content/: ../../etc/passwd"],
    ),
    "absolute image path": (
        catalog("    images: [/etc/passwd]\n"),
        ["content/catalog/tea.yml:5:14: products[0].images[0]: path must stay inside content/: /etc/passwd"],
    ),
    "unknown theme": (
        {"site.yml": SITE_YML + "theme: fancy\n"},
        ["site.yml:17:8: theme: unknown theme 'fancy' (available: default, editorial)"],
    ),
    "invalid base_url": (
        {"site.yml": SITE_YML.replace("https://shop.example.com/", "shop.example.com")},
        [
            "site.yml:3:11: base_url:"
            " must be an absolute http(s) URL such as https://example.com/, got 'shop.example.com'"
        ],
    ),
    "products per page not a number": (
        {"site.yml": SITE_YML + "products_per_page: many\n"},
        ["site.yml:17:20: products_per_page: must be a whole number, got text"],
    ),
    "products per page zero": (
        {"site.yml": SITE_YML + "products_per_page: 0\n"},
        ["site.yml:17:20: products_per_page: must be 1 or more, got 0"],
    ),
    "products per page too many": (
        {"site.yml": SITE_YML + "products_per_page: 5000\n"},
        ["site.yml:17:20: products_per_page: must be 500 or less, got 5000 (a longer page is slow to load on a phone)"],
    ),
    "unknown top-level key": (
        {"site.yml": SITE_YML.replace("tagline:", "tagnile:")},
        ["site.yml:2:1: tagnile: unknown field (did you mean 'tagline'?)"],
    ),
    "unknown product field": (
        catalog("    prcie: 2\n"),
        ["content/catalog/tea.yml:5:5: products[0].prcie: unknown field (did you mean 'price'?)"],
    ),
    "duplicate key": (
        catalog("    price: 2\n"),
        ["content/catalog/tea.yml:5:5: products[0].price: duplicate key 'price' (first at line 4)"],
    ),
    "compare-at price not above price": (
        catalog("    compare_at_price: 1\n"),
        [
            "content/catalog/tea.yml:5:23: products[0].compare_at_price:"
            " must be greater than price (it is the struck-through 'was' price)"
        ],
    ),
    "python tag": (
        {"content/catalog/tea.yml": "products: !!python/object/apply:os.system [echo hi]\n"},
        [
            "content/catalog/tea.yml:1:11: products:"
            " tag '!!python/object/apply:os.system' is not allowed in shop content"
        ],
    ),
    "infinite price": (
        catalog("  - id: a\n    title: A\n    price: .inf\n"),
        ["content/catalog/tea.yml:7:12: products[1].price: '.inf' is not a usable number"],
    ),
    "corrupt image": (
        {"content/images/green.jpg": "this is not a jpeg"},
        [
            "content/catalog/tea.yml:12:14: products[0].images[0]:"
            " content/images/green.jpg: not a readable image (cannot identify image file)"
        ],
    ),
    "front matter not closed": (
        {"content/stories/harvest.md": "---\ntitle: T\n"},
        ["content/stories/harvest.md:1:1: front matter is not closed by a '---' line"],
    ),
    "story date": (
        {"content/stories/harvest.md": "---\ntitle: T\ndate: April\n---\nText\n"},
        ["content/stories/harvest.md:3:7: date: must be a date written as YYYY-MM-DD, got 'April'"],
    ),
    "unknown shortcode": (
        {"content/stories/harvest.md": "---\ntitle: T\ndate: 2026-01-01\n---\n{{ video x }}\n"},
        ["content/stories/harvest.md:5:1: unknown shortcode '{{ video x }}' (write {{ product <id> }})"],
    ),
    "page name taken by a shop section": (
        {"content/pages/search.md": "---\ntitle: Search tips\n---\nHi\n"},
        [
            "content/pages/search.md: the page name 'search' is taken by the shop's own section /search/;"
            " rename the file"
        ],
    ),
    "not UTF-8": (
        {"content/pages/about.md": "replaced below by bytes that are not UTF-8"},
        ["content/pages/about.md:2:11: file is not valid UTF-8 text"],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_message_is_pinned(name: str, make_site: Callable[..., Path], cli: Callable[..., Result]) -> None:
    files, expected = CASES[name]
    site = make_site(files)
    if name == "not UTF-8":
        (site / "content/pages/about.md").write_bytes(b"---\ntitle: Caf\xe9\n---\n")
    result = cli("check", str(site))
    assert result.exit_code == 1
    count = f"{len(expected)} error" + ("s" if len(expected) != 1 else "")
    assert result.stderr.splitlines() == [*expected, count]
    assert "Traceback" not in result.stderr


def test_all_problems_are_reported_in_one_run(make_site: Callable[..., Path], cli: Callable[..., Result]) -> None:
    site = make_site(
        {
            "site.yml": SITE_YML.replace("currency: CNY", "currency: XXQ"),
            "content/catalog/zz.yml": "products:\n  - id: Bad Id\n    title: X\n    price: 1\n",
            "content/stores.yml": "stores:\n  - id: lake\n    name: Lake\n",
        }
    )
    result = cli("check", str(site))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == "3 errors"
    assert any(line.startswith("site.yml:5:11: currency:") for line in lines)
    assert any("'Bad Id' is not a valid id" in line for line in lines)
    assert "content/stores.yml:2:5: stores[0].address: is required" in lines


def test_alias_bomb_is_refused_quickly(make_site: Callable[..., Path], cli: Callable[..., Result]) -> None:
    import time

    layers = "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join(["*" + chr(97 + i)] * 9) + "]\n" for i in range(8))
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + layers
    site = make_site({"content/catalog/tea.yml": bomb})
    started = time.perf_counter()
    result = cli("check", str(site))
    elapsed = time.perf_counter() - started
    assert result.exit_code == 1
    # at the anchored value the aliases expand (line 1), by the path at which the budget ran out
    bombed = "content/catalog/tea.yml:1:50: f[0][3][3][7][3][7]: too many aliased values (is this an alias bomb?)"
    assert bombed in result.stderr
    assert elapsed < 5  # a generous bound: the guard trips in about 0.1 s; unguarded it never ends


def test_decompression_bomb_is_refused(make_site: Callable[..., Path], cli: Callable[..., Result]) -> None:
    from PIL import Image

    site = make_site()
    # A 10,000 x 10,000 PNG of one colour is a few hundred KB on disk and 300 MB decoded.
    Image.new("1", (10_000, 10_000)).save(site / "content/images/green.jpg", format="PNG")
    result = cli("check", str(site))
    assert result.exit_code == 1
    assert "content/images/green.jpg: image is too large" in result.stderr


def test_symlink_out_of_the_site_is_refused(
    make_site: Callable[..., Path], cli: Callable[..., Result], tmp_path: Path
) -> None:
    site = make_site()
    outside = tmp_path / "secret.jpg"
    (site / "content/images/green.jpg").rename(outside)
    (site / "content/images/green.jpg").symlink_to(outside)
    result = cli("check", str(site))
    assert result.exit_code == 1
    assert "path must stay inside content/ (a link leads outside): images/green.jpg" in result.stderr
