"""Markdown from content to HTML. Raw HTML in content is not rendered, and links are vetted.

markdown-it-py's "js-default" preset has HTML off and refuses `javascript:`, `vbscript:` and
most `data:` URLs, so a product description can never carry a script onto the shop's pages.

Its parser is quadratic on some shapes (many `*`/`_`, `[` or `<`, very deep indentation: seconds
for 200 KB), so text past the limits below is not parsed at all: the loaders report it as an
error and `render_markdown` shows it as plain text.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup

MAX_MARKDOWN_CHARS = 200_000  # about 35,000 words; parsing stays well under a second
MAX_EMPHASIS_MARKS = 20_000  # `*` and `_` characters in one text
MAX_ANGLE_BRACKETS = 10_000  # `<` characters (autolinks, HTML-looking text)
MAX_BRACKETS = 1_000  # `[` characters: links, images and link definitions
MAX_INDENT = 200  # leading spaces on a line (deep list and quote nesting)
_INDENT = re.compile(rf"^[ \t>]{{{MAX_INDENT + 1},}}", re.M)


def markdown_problem(text: str) -> str | None:
    """Why `text` is too costly to parse as Markdown, or None. Linear time."""
    if len(text) > MAX_MARKDOWN_CHARS:
        return f"is longer than {MAX_MARKDOWN_CHARS:,} characters"
    marks = text.count("*") + text.count("_")
    if marks > MAX_EMPHASIS_MARKS:
        return f"has {marks:,} '*' and '_' marks; at most {MAX_EMPHASIS_MARKS:,} are rendered as Markdown"
    if text.count("<") > MAX_ANGLE_BRACKETS:
        return f"has more than {MAX_ANGLE_BRACKETS:,} '<' characters"
    if text.count("[") > MAX_BRACKETS:
        return f"has more than {MAX_BRACKETS:,} '[' characters (links and images)"
    if _INDENT.search(text):
        return f"nests deeper than {MAX_INDENT} characters of indentation"
    return None


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    return MarkdownIt("js-default")


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> Markup:
    """Content Markdown as safe HTML; over-long or too costly input is refused by the loaders first.
    (Remembered for the last few thousand texts: a preview reads every story again at each edit.)"""
    if not text.strip():
        return Markup("")  # nosec B704 - a constant
    if markdown_problem(text) is not None:  # escaped plain text: linear time, and safe
        return Markup("<p>%s</p>") % text  # nosec B704 - a constant; %-formatting escapes `text`
    return Markup(_md().render(text))  # nosec B704 - markdown-it js-default: raw HTML off, links vetted


#: Every tag markdown-it writes with the js-default preset (HTML off), with the attributes it
#: gives them; attribute values never hold '"', '<' or '>' (it escapes them).
_WRITTEN_TAG = re.compile(
    r"<(?:/?(?:p|em|strong|s|code|pre|blockquote|ul|li|h[1-6]|table|thead|tbody|tr)"
    r"|br|hr|/ol|/a|/th|/td"
    r'|ol(?: start="[0-9]{1,10}")?'
    r'|t[hd](?: style="text-align:(?:left|right|center)")?'
    r'|code class="language-[^"<>]*"'
    r'|a href="[^"<>]*"(?: title="[^"<>]*")?'
    r'|img src="[^"<>]*" alt="[^"<>]*"(?: title="[^"<>]*")?'
    r")>"
)
#: The address of each link and image, for markdown-it's own `validateLink`.
_ADDRESS = re.compile(r'<(?:a href|img src)="([^"]*)"')


def could_be_rendered(text: str) -> bool:
    """Whether `text` is HTML that `render_markdown` could have written: each `<` opens a tag
    markdown-it writes with raw HTML off, and each link and image address passes its own
    `validateLink` (no `javascript:`). HTML read back from the cache folder, which may come with
    someone else's shop, is used only if it passes (parsecache.py); one regular-expression scan."""
    if "<" in _WRITTEN_TAG.sub("", text):
        return False
    validate = _md().validateLink
    return all(validate(html.unescape(address)) for address in _ADDRESS.findall(text))


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
