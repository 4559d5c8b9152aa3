"""Page weight budgets on the built demo: what a phone downloads before it can show a page.

Budgets (from the shop's quality bar): a product page of the demo shop without images under 60 KB
of HTML, CSS and JavaScript together (uncompressed), each bundled theme within its own product-page
budget (PRODUCT_PAGE_BUDGETS), and under 20 KB of JavaScript on every page in every theme.
Counted as the browser would: the page, and every local style sheet and script it references.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

PRODUCT_PAGE_BUDGET = 60 * 1024
JAVASCRIPT_BUDGET = 20 * 1024

_SCRIPT = re.compile(r'<script\b[^>]*\ssrc="([^"]+)"')
_STYLE = re.compile(
    r'<link\b[^>]*\brel="stylesheet"[^>]*\shref="([^"]+)"|<link\b[^>]*\shref="([^"]+)"[^>]*\brel="stylesheet"'
)
_INLINE = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


def weights(root: Path, page: Path) -> tuple[int, int, int]:
    """(HTML bytes, CSS bytes, JavaScript bytes) of a page, inline scripts counted as JavaScript
    (JSON data blocks are data, part of the HTML)."""
    html = page.read_text("utf-8")
    css = sum(_local(root, a or b).stat().st_size for a, b in _STYLE.findall(html))
    js = sum(_local(root, src).stat().st_size for src in _SCRIPT.findall(html))
    inline = [body for attrs, body in _INLINE.findall(html) if "src=" not in attrs and "json" not in attrs]
    js += sum(len(body.encode()) for body in inline)
    return len(html.encode("utf-8")), css, js


def _local(root: Path, url: str) -> Path:
    parts = urlsplit(url)
    assert not parts.scheme and not parts.netloc, f"not a local file: {url}"
    file = root / parts.path.lstrip("/")
    assert file.is_file(), url
    return file


#: The product-page budget of each bundled theme. The demo shop's theme, default, holds the shop's
#: quality bar of 60 KB (57.9 KB at the heaviest, tieguanyin-anxi: two variants, a sale window and
#: four related products on sale). Editorial, the desktop-first story theme, loads default's
#: shop.css under its own editorial.css (28 KB of CSS in all) and is held to a ratchet a little
#: above what it weighs now (67,758 bytes at the heaviest), so that it only gets lighter; lower it
#: with every saving (bench/page_weight.py shows the bytes). docs/themes.md states both.
PRODUCT_PAGE_BUDGETS = {"default": PRODUCT_PAGE_BUDGET, "editorial": 67 * 1024}


def product_page_weights(built: Path) -> dict[str, tuple[int, int, int]]:
    """(HTML, CSS, JS) bytes of every product page of a built shop, by product id."""
    pages = sorted((built / "products").glob("*/index.html"))
    assert len(pages) > 10
    found = {page.parent.name: weights(built, page) for page in pages}
    for _html, css, js in found.values():
        assert css > 5000 and js > 2000, "the style sheet and the scripts are counted"
    return found


def test_every_product_page_is_within_its_theme_budget_without_images(
    built_demo_theme: Path, request: pytest.FixtureRequest
) -> None:
    budget = PRODUCT_PAGE_BUDGETS[request.node.callspec.params["built_demo_theme"]]
    over = {name: w for name, w in product_page_weights(built_demo_theme).items() if sum(w) >= budget}
    assert over == {}, f"over {budget} bytes (HTML, CSS, JS): {over}"


def test_the_demo_shop_meets_the_60_kb_bar(built_demo: Path) -> None:
    """The quality bar itself, on the demo shop as it is built by default."""
    heaviest = max(sum(w) for w in product_page_weights(built_demo).values())
    assert heaviest < PRODUCT_PAGE_BUDGET, heaviest


def test_every_page_loads_under_20_kb_of_javascript(built_demo_theme: Path) -> None:
    built_demo = built_demo_theme  # in each bundled theme
    pages = sorted(built_demo.rglob("*.html"))
    loaded = {p.relative_to(built_demo).as_posix(): weights(built_demo, p)[2] for p in pages}
    assert loaded["checkout/index.html"] > 10_000, "the checkout's scripts are counted"
    over = {name: js for name, js in loaded.items() if js >= JAVASCRIPT_BUDGET}
    assert over == {}, over


def test_scripts_and_style_sheets_are_published_minified(built_demo: Path) -> None:
    theme = Path(__file__).resolve().parent.parent / "themes/default/static"
    for source in [*theme.glob("js/*.js"), *theme.glob("css/*.css")]:
        published = built_demo / "static" / source.relative_to(theme)
        text = published.read_text("utf-8")
        assert len(text) < 0.9 * len(source.read_text("utf-8")), source.name
        assert "/* micromall default theme" not in text and "\n  " not in text, source.name


def test_compact_html_drops_indentation_and_gaps_but_keeps_preformatted_text() -> None:
    from generator.minify import compact_html

    page = (
        b"<div>\n    <p>a\n  b</p>\n<pre class=code>\n  x = 1\n    y</pre>\n  <textarea>\n  kept</textarea>\n  <p>c</p>"
        b"<ul>    <li>d  e</li>  </ul><pre><b>    </b></pre>"
    )
    assert compact_html(page) == (
        b"<div>\n<p>a\nb</p>\n<pre class=code>\n  x = 1\n    y</pre>\n<textarea>\n  kept</textarea>\n<p>c</p>"
        b"<ul> <li>d  e</li> </ul><pre><b>    </b></pre>"
    )
