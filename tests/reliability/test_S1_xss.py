"""S1: stored XSS from the shop owner's content.

Plan criterion, not loosened: a corpus of >= 50 payloads across the YAML and Markdown fields is
built; html5lib parses every page: 0 script elements or event-handler attributes beyond the ones our
templates put there (compared with the same site built from harmless text), 0 `javascript:` (or
`vbscript:`, `data:text/html`) URLs, JSON embedded safely (`<` escaped, still valid JSON). Headless
Chromium loads every page with an alert/confirm/prompt trap: 0 triggers. Raw HTML in Markdown is off
(markdown-it js-default); ids that could break out of an attribute are refused by the loader.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import html5lib
import pytest
from browser import CHROMIUM, static_server
from click.testing import CliRunner
from conftest import MINI_SITE, write_site

from generator.build import build
from generator.cli import main

PAYLOADS = [
    "<script>alert(1)</script>", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "<img src=x onerror=alert(1)>",
    '"><img src=x onerror=alert(1)>', "'><svg onload=alert(1)>", "<svg><script>alert(1)</script></svg>",
    "<iframe src=javascript:alert(1)></iframe>", "<body onload=alert(1)>", "<a href=javascript:alert(1)>x</a>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "</script><script>alert(1)</script>",
    "</title><script>alert(1)</script>", "</textarea><script>alert(1)</script>", "<!--<img src=x onerror=alert(1)>-->",
    "<details open ontoggle=alert(1)>", "<object data=javascript:alert(1)>", "<embed src=javascript:alert(1)>",
    "<form action=javascript:alert(1)><button>x</button></form>", "<input autofocus onfocus=alert(1)>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>", "<base href=javascript:alert(1)//>",
    "<style>@import 'javascript:alert(1)'</style>", "<link rel=import href=data:text/html,<script>alert(1)</script>>",
    "&lt;script&gt;alert(1)&lt;/script&gt;", "&#60;script&#62;alert(1)&#60;/script&#62;",
    "\\u003cscript\\u003ealert(1)",
    "<scr<script>ipt>alert(1)</scr</script>ipt>", "<img src=`x` onerror=alert(1)>", "<img/src=x/onerror=alert(1)>",
    "<video><source onerror=alert(1)>", "' onmouseover='alert(1)", '" onmouseover="alert(1)', "javascript:alert(1)",
    "{{ 7*7 }}<script>alert(1)</script>", "{% raw %}<script>alert(1)</script>", "${alert(1)}",
    "]]><script>alert(1)</script>",
    "\u2028\u2029</script><script>alert(1)</script>", "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
]  # fmt: skip
MARKDOWN = [
    "[click](javascript:alert(1))", "[click](JaVaScRiPt:alert(1))", "[click](&#106;avascript:alert(1))",
    "[click](java%0ascript:alert(1))", "[click]( javascript:alert(1))", "![x](javascript:alert(1))",
    "[click](vbscript:msgbox(1))", "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>", "[x][r]\n\n[r]: javascript:alert(1)", "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>", "[a](\"onmouseover=alert(1) x)", "![a](x\"onerror=\"alert(1))",
    "<a href=\"javascript:alert(1)\">x</a>", "```\n</code></pre><script>alert(1)</script>\n```",
]  # fmt: skip
CORPUS = PAYLOADS + MARKDOWN
TRAP = """
window.__xss = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__xss.push(name + ":" + args.join(",")); };
}
"""


def scalar(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def shop_files(texts: list[str], markdown: list[str]) -> dict[str, str | None]:
    """The mini shop with `texts` spread over every text field and `markdown` over every Markdown one."""
    t = lambda i: scalar(texts[i % len(texts)])  # noqa: E731
    m = lambda i: scalar(markdown[i % len(markdown)])  # noqa: E731
    products = "".join(
        f"  - id: p{i}\n    title: {t(i)}\n    price: 1{i}\n    summary: {t(i + 1)}\n"
        f"    description: {m(i)}\n    tags: [{t(i + 2)}]\n"
        f"    options: {{size: [{t(i + 3)}, small]}}\n"
        for i in range(0, max(len(texts), len(markdown)), 4)
    )
    files = dict(MINI_SITE)
    site = MINI_SITE["site.yml"] or ""
    files["site.yml"] = (site.replace("title: Mini Tea", f"title: {t(5)}").replace("tagline: Good tea, small shop.",
                         f"tagline: {t(6)}").replace("label: Standard\n", f"label: {t(7)}\n"))  # fmt: skip
    files["content/catalog/tea.yml"] = (
        f"collection:\n  id: tea\n  title: {t(8)}\n  description: {m(3)}\n"
        "products:\n  - id: green\n    title: Green\n    price: 1\n    images: [images/green.jpg]\n" + products
    )
    story_body = "\n\n".join(markdown) + "\n\n" + "\n\n".join(texts)
    files["content/stories/harvest.md"] = (
        f"---\ntitle: {t(9)}\ndate: 2026-04-02\nsummary: {t(10)}\nproducts: [green]\n---\n{story_body}\n"
    )
    files["content/pages/about.md"] = f"---\ntitle: {t(11)}\n---\n{story_body}\n"
    files["content/stores.yml"] = (f"stores:\n  - id: lake\n    name: {t(12)}\n    address: {t(13)}\n"
                                   f"    hours: [{t(14)}]\n")  # fmt: skip
    return files


def build_pages(root: Path, texts: list[str], markdown: list[str]) -> Path:
    site = write_site(root / "site", shop_files(texts, markdown))
    out = root / "public"
    build(site, out)
    return out


def scan(html: str) -> dict[str, Any]:
    """What matters for XSS in one page, as html5lib (a browser's parser) sees it."""
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    found: dict[str, Any] = {"scripts": [], "handlers": [], "bad_urls": [], "json": [], "frames": 0}
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.split("}")[-1].lower()
        if tag == "script":
            kind = el.get("type", "")
            if "json" in kind:
                found["json"].append(el.text or "")
            else:
                found["scripts"].append(el.get("src") or re.sub(r"\s+", " ", el.text or "")[:80])
        if (tag in ("iframe", "object", "embed", "frame", "base", "meta") and tag != "meta") or (
            tag == "meta" and el.get("http-equiv")
        ):
            found["frames"] += 1
        for name, value in el.attrib.items():
            name = str(name).split("}")[-1].lower()
            if name.startswith("on"):
                found["handlers"].append(f"{tag} {name}")
            url_attrs = ("href", "src", "action", "formaction", "data", "poster", "xlink:href")
            if name in url_attrs or (name == "content" and el.get("http-equiv")):  # og:title's text is no URL
                squashed = re.sub(r"[\x00-\x20]", "", str(value)).lower()
                if squashed.startswith(("javascript:", "vbscript:", "data:text/html")) or "url=javascript:" in squashed:
                    found["bad_urls"].append(f"{tag} {name}={value}")
    return found


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The shop built from the XSS corpus, and from harmless text of the same shape."""
    root = tmp_path_factory.mktemp("xss")
    hostile = build_pages(root / "hostile", PAYLOADS, MARKDOWN)
    harmless = build_pages(root / "harmless", [f"text {i}" for i in range(len(PAYLOADS))],
                           [f"*text* {i}" for i in range(len(MARKDOWN))])  # fmt: skip
    return hostile, harmless


def test_S1_built_html_has_no_foreign_script(builds: tuple[Path, Path]) -> None:
    """S1: >= 50 payloads: 0 foreign script elements, 0 event handlers, 0 javascript: URLs, JSON safe."""
    assert len(CORPUS) >= 50
    hostile, harmless = builds
    pages = sorted(p.relative_to(hostile) for p in hostile.rglob("*.html"))
    assert len(pages) >= 15
    for rel in pages:
        got = scan((hostile / rel).read_text("utf-8"))
        clean = scan((harmless / rel).read_text("utf-8")) if (harmless / rel).exists() else None
        assert got["handlers"] == [] and got["bad_urls"] == [] and got["frames"] == 0, (rel, got)
        ours = set(clean["scripts"]) if clean else {s for s in got["scripts"] if s.startswith(("/", "http"))}
        assert set(got["scripts"]) <= ours and len(got["scripts"]) == len(clean["scripts"] if clean else got["scripts"])
        for text in got["json"]:
            assert "<" not in text, (rel, text[:200])  # `</script>` can never close the element early
            json.loads(text)
    print(f"S1: {len(CORPUS)} payloads, {len(pages)} pages: 0 foreign scripts, 0 handlers, 0 javascript: URLs")


def test_S1_ids_that_break_out_of_attributes_are_refused(tmp_path: Path) -> None:
    """S1: attacker-chosen ids (product, store) cannot carry quotes or markup: the build refuses them."""
    files = dict(MINI_SITE)
    files["content/catalog/x.yml"] = 'products:\n  - id: "x\\" onmouseover=\\"alert(1)"\n    title: X\n    price: 1\n'
    files["content/stores.yml"] = 'stores:\n  - id: "<script>"\n    name: S\n    address: A\n'
    site = write_site(tmp_path / "site", files)
    result = CliRunner().invoke(main, ["check", str(site)])
    assert result.exit_code == 1
    assert "products[0].id:" in result.stderr and "stores[0].id:" in result.stderr


@pytest.mark.browser
def test_S1_chromium_alert_trap(builds: tuple[Path, Path], browser: Any) -> None:
    """S1: every built page loads in headless Chromium with alert/confirm/prompt trapped: 0 triggers."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (apt-get install chromium): S1's browser pass did not run")
    hostile, _ = builds
    pages = sorted(p.relative_to(hostile).as_posix() for p in hostile.rglob("*.html"))[:60]
    control = hostile / "trap-control.html"  # proves the trap fires: it must catch this one page
    control.write_text("<!doctype html><img src=x onerror=alert(1)>", "utf-8")
    pages.append(control.name)
    context = browser.new_context()
    context.add_init_script(TRAP)
    dialogs: list[str] = []
    triggered: dict[str, list[str]] = {}
    try:
        with static_server(hostile) as base:
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.route(re.compile(r"^(?!http://127\.0\.0\.1).*"), lambda route: route.abort())  # nothing leaves
            for rel in pages:
                page.goto(base + rel, wait_until="load")
                page.wait_for_timeout(50)
                fired = page.evaluate("window.__xss")
                if fired:
                    triggered[rel] = fired
    finally:
        context.close()
        control.unlink()
    assert triggered == {control.name: ["alert:1"]} and dialogs == []
    print(f"S1: Chromium loaded {len(pages) - 1} pages with the trap: 0 triggers (and the control page: 1)")
