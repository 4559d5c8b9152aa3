"""What a product page's bytes are: the page weight budget (tests/test_budgets.py) broken down.

Builds the demo shop in each bundled theme (or reads built folders given with --built) and
prints, for the heaviest product page of each: its HTML, CSS and JavaScript bytes as the budget
test counts them, the HTML split by part of the page (head, header, gallery, buy box, share,
related products, footer...), the bytes of markup that repeats (prices, approximate prices,
pictures, icons), and the style sheets' rules that no element of the page or of its scripts
can match (by class name), which is what a split of the style sheet can save.

Run: python bench/page_weight.py [--built DIR ...] [--page NAME]
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from conftest import THEMES, demo_in_theme  # noqa: E402
from test_budgets import _SCRIPT, _STYLE, weights  # noqa: E402

from generator.build import build  # noqa: E402

#: Parts of a product page, found by the element that opens them (first match, in page order).
PARTS = (
    ("head: meta, Open Graph", r"<head>"),
    ("head: config, JSON-LD", r'<script type="application/json" id="micromall-config">'),
    ("header", r"<header\b"),
    ("breadcrumbs", r'<nav class="breadcrumbs"'),
    ("gallery", r'<div class="product__gallery'),
    ("title, summary", r'<div class="product__info">'),
    ("buy box", r'<div class="buy-box"'),
    ("share", r'<section class="share"'),
    ("description, details, pickup", r'<section class="product__section'),
    ("stories", r'aria-labelledby="product-stories-title"'),
    ("related products", r'aria-labelledby="related-title"'),
    ("footer", r"<footer\b"),
    ("bottom nav", r'<nav class="bottom-nav"'),
)
#: Markup that repeats on the page, counted across all parts.
PIECES = (
    ("approximate prices", r' ?<span class="approx"[^>]*>(?:<span[^>]*>[^<]*</span>)*[^<]*</span>'),
    ("sale windows (data-window)", r' data-window="[^"]*"(?: data-when="[^"]*")?'),
    ("pictures", r"<picture>.*?</picture>"),
    ("inline SVG", r"<svg\b.*?</svg>"),
    ("variant templates", r"<template\b.*?</template>"),
    ("whitespace between tags", r">\s+<"),
)


def html_parts(html: str) -> list[tuple[str, int]]:
    """The bytes of each part of the page, from its opening element to the next part's."""
    starts = []
    for name, pattern in PARTS:
        found = re.search(pattern, html)
        if found:
            starts.append((found.start(), name))
    starts.sort()
    starts.append((len(html), "end"))
    out = [("doctype", len(html[: starts[0][0]].encode()))]
    for (start, name), (end, _) in itertools.pairwise(starts):
        out.append((name, len(html[start:end].encode())))
    return out


def css_rules(css: str) -> list[tuple[str, int]]:
    """(selector, bytes) of each rule of a minified style sheet, @media rules flattened."""
    rules = []
    for media, body in re.findall(r"(@media[^{]*)\{((?:[^{}]*\{[^}]*\})*)\}", css):
        inner = re.findall(r"([^{}]+)\{([^}]*)\}", body)
        rules += [(f"{media} {sel}", len(sel) + len(decl) + 2) for sel, decl in inner]
    flat = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^}]*\})*\}", "", css)
    rules += [(sel, len(sel) + len(decl) + 2) for sel, decl in re.findall(r"([^{}@]+)\{([^}]*)\}", flat)]
    return rules


def unmatched(rules: list[tuple[str, int]], corpus: str) -> list[tuple[str, int]]:
    """Rules none of whose selectors names only classes found in `corpus` (page and scripts)."""

    def can_match(selector: str) -> bool:
        return all(name in corpus for name in re.findall(r"\.([A-Za-z_][\w-]*)", selector))

    return [(sel, size) for sel, size in rules if not any(can_match(s) for s in sel.split(","))]


def report(root: Path, page: Path, rules_shown: int) -> None:
    html = page.read_text("utf-8")
    h, c, j = weights(root, page)
    print(f"{page.relative_to(root)}: {h + c + j} bytes = HTML {h} + CSS {c} + JS {j}")
    print("  HTML by part:")
    for name, size in html_parts(html):
        print(f"    {size:6d}  {name}")
    print("  repeated markup:")
    for name, pattern in PIECES:
        found = re.findall(pattern, html, re.S)
        print(f"    {sum(len(f.encode()) for f in found):6d}  {name} ({len(found)})")
    scripts = "".join((root / s.lstrip("/").split("?")[0]).read_text("utf-8") for s in _SCRIPT.findall(html))
    for a, b in _STYLE.findall(html):
        sheet = (root / (a or b).lstrip("/").split("?")[0]).read_text("utf-8")
        rules = css_rules(sheet)
        unused = unmatched(rules, html + scripts)
        print(f"  {a or b}: {len(sheet)} bytes, rules no element of this page can match: {sum(s for _, s in unused)}")
        for sel, size in sorted(unused, key=lambda r: -r[1])[:rules_shown]:
            print(f"    {size:6d}  {sel[:100]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--built", type=Path, nargs="*", help="built shops to read instead of building the demo")
    parser.add_argument("--page", help="the product (its id) to break down; the heaviest one unless told")
    parser.add_argument("--rules", type=int, default=10, help="how many unmatched rules to list")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        roots = args.built or []
        if not roots:
            for theme in THEMES:
                out = Path(tmp) / theme / "public"
                build(demo_in_theme(theme, Path(tmp) / theme / "site"), out)
                roots.append(out)
        for root in roots:
            pages = sorted((root / "products").glob("*/index.html"))
            totals = {p: sum(weights(root, p)) for p in pages}
            print(f"{root}: {len(pages)} product pages, {min(totals.values())} to {max(totals.values())} bytes")
            page = root / "products" / args.page / "index.html" if args.page else max(totals, key=lambda p: totals[p])
            report(root, page, args.rules)


if __name__ == "__main__":
    main()
