"""Page weight budgets on the built demo: what a phone downloads before it can show a page.

Budgets (from the shop's quality bar): a product page without images under 60 KB of HTML, CSS
and JavaScript together (uncompressed), in each bundled theme, and under 20 KB of JavaScript on
every page. Counted as the browser would: the page, and every local style sheet and script it
references.
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


#: What the heaviest product page of a bundled theme still over 60 KB may weigh until issue #7
#: reaches it there: a ratchet, a little above what it weighs now (editorial: 67,837 bytes on the
#: heaviest, tieguanyin-anxi: two variants, a sale window and four related products on sale), so
#: that it only gets lighter. Lower it with every saving; bench/page_weight.py shows the bytes.
#: The default theme is under 60 KB on every product page (57.9 KB at the heaviest).
INTERIM_CEILING = {"editorial": 67 * 1024}
OVER_BUDGET = (
    "issue #7 is open on this: editorial's product pages load default's shop.css and editorial.css "
    "(28 KB of CSS); 66.2 KB at the heaviest, 15 of 19 product pages over 60 KB"
)


def product_page_weights(built: Path) -> dict[str, tuple[int, int, int]]:
    """(HTML, CSS, JS) bytes of every product page of a built shop, by product id."""
    pages = sorted((built / "products").glob("*/index.html"))
    assert len(pages) > 10
    found = {page.parent.name: weights(built, page) for page in pages}
    for _html, css, js in found.values():
        assert css > 5000 and js > 2000, "the style sheet and the scripts are counted"
    return found


def test_every_product_page_is_under_60_kb_without_images(
    built_demo_theme: Path, request: pytest.FixtureRequest
) -> None:
    if request.node.callspec.params["built_demo_theme"] in INTERIM_CEILING:
        request.applymarker(pytest.mark.xfail(strict=True, reason=OVER_BUDGET))
    over = {name: w for name, w in product_page_weights(built_demo_theme).items() if sum(w) >= PRODUCT_PAGE_BUDGET}
    assert over == {}, f"over {PRODUCT_PAGE_BUDGET} bytes (HTML, CSS, JS): {over}"


def test_product_pages_stay_under_their_interim_ceiling(built_demo_theme: Path, request: pytest.FixtureRequest) -> None:
    theme = request.node.callspec.params["built_demo_theme"]
    if theme not in INTERIM_CEILING:
        pytest.skip(f"{theme}: every product page is under {PRODUCT_PAGE_BUDGET} bytes, the test above holds it")
    ceiling = INTERIM_CEILING[theme]
    over = {name: w for name, w in product_page_weights(built_demo_theme).items() if sum(w) >= ceiling}
    assert over == {}, f"over {ceiling} bytes (HTML, CSS, JS): {over}"


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
