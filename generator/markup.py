"""Markdown from content to HTML. Raw HTML in content is not rendered, and links are vetted.

markdown-it-py's "js-default" preset has HTML off and refuses `javascript:`, `vbscript:` and
most `data:` URLs, so a product description can never carry a script onto the shop's pages.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup

MAX_MARKDOWN_CHARS = 1_000_000


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    return MarkdownIt("js-default")


def render_markdown(text: str) -> Markup:
    """Content Markdown as safe HTML; over-long input is refused by the loaders first."""
    if not text.strip():
        return Markup("")  # nosec B704 - a constant
    return Markup(_md().render(text))  # nosec B704 - markdown-it js-default: raw HTML off, links vetted


_TAGS = re.compile(r"<[^>]+>")


def plain_text(html: str, limit: int = 160) -> str:
    """A short plain-text summary of rendered HTML, for meta descriptions."""
    text = " ".join(_TAGS.sub(" ", html).split())
    text = Markup(text).unescape()  # nosec B704 - unescaped into plain text, never output as HTML
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "…"


_BLOCK_END = re.compile(r"</(p|li|h[1-6]|tr|blockquote|pre)>|<br\s*/?>", re.I)


def markdown_text(source: str) -> str:
    """Markdown as plain text (paragraphs kept), for messages and APIs that show no HTML."""
    html = _BLOCK_END.sub("\n", str(render_markdown(source)))
    text = Markup(_TAGS.sub("", html)).unescape()  # nosec B704 - plain text out, never HTML
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()
