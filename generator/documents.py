"""Markdown files with front matter: stories (with inline product cards) and trust pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from markupsafe import Markup

from .errors import Problem
from .fields import Obj, SourceFile, field_name
from .markup import MAX_MARKDOWN_CHARS, markdown_problem, render_markdown
from .model import Doc, Image, StoryPart
from .yamlsafe import Document, YamlError, parse_yaml

STORY_KEYS = ("title", "date", "cover", "summary", "products", "tags", "draft")
PAGE_KEYS = ("title", "summary", "order")
MAX_FRONT_MATTER_CHARS = 1_000_000
#: Sections of the shop whose URLs a trust page must not take.
RESERVED_SLUGS = frozenset({
    "products", "collections", "stories", "stores", "cart", "checkout", "order", "search", "static", "media",
    "share", "posters", "qr", "404",
})  # fmt: skip

#: The one shortcode: a line holding only `{{ product some-id }}`. Content is never template code.
SHORTCODE = re.compile(r"^ {0,3}\{\{\s*(\S+)\s+(.*?)\s*\}\}[ \t]*$")  # 4 spaces would be code
_SLUG_FILE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass
class MarkdownFile:
    """A Markdown file split into front matter (parsed, with lines) and body."""

    src: SourceFile
    body: str
    body_line: int  # line number of the body's first line (in the whole file, as every line here)


def split_front_matter(rel: str, text: str, problems: list[Problem]) -> MarkdownFile | None:
    """Front matter sits between a first line '---' and the next '---' line.

    Its YAML is parsed on its own, so its lines are shifted down by the opening '---': every
    line reported is a line of the whole .md file, the one an editor opens."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        problems.append(Problem(rel, 1, "", "must start with front matter between '---' lines (title, ...)", column=1))
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        problems.append(Problem(rel, 1, "", "front matter is not closed by a '---' line", column=1))
        return None
    front = "\n".join(lines[1:end])
    if len(front) > MAX_FRONT_MATTER_CHARS:
        problems.append(Problem(rel, 2, "", "front matter is larger than 1 MB", column=1))
        return None
    try:
        doc = parse_yaml(front, line_offset=1)
    except YamlError as exc:
        problems.append(Problem(rel, exc.line, field_name(exc.path), exc.message, column=exc.column))
        return None
    if doc.data is None:
        doc = Document({}, {(): (2, 1)})
    body = "\n".join(lines[end + 1 :])
    if len(body) > MAX_MARKDOWN_CHARS:
        problems.append(Problem(rel, end + 2, "", f"text is longer than {MAX_MARKDOWN_CHARS:,} characters", column=1))
        body = ""
    if problem := markdown_problem(body):
        problems.append(Problem(rel, end + 2, "", f"text {problem}", column=1))
    return MarkdownFile(SourceFile(rel, doc, problems), body, end + 2)


def check_slug(rel: str, slug: str, problems: list[Problem]) -> bool:
    if not _SLUG_FILE.match(slug):
        problems.append(
            Problem(
                rel, 0, "", f"file name '{slug}' must be lowercase letters, digits and hyphens (it becomes the URL)"
            )
        )
        return False
    return True


@dataclass
class StoryDraft:
    """A story before product ids are resolved: its parts name products by id."""

    slug: str
    title: str
    date: object
    cover: Image | None
    summary: str
    tags: tuple[str, ...]
    draft: bool
    src: SourceFile
    # (product id, line, column) for each `{{ product id }}`
    parts: list[StoryPart | tuple[str, int, int]] = field(default_factory=list)
    product_refs: list[tuple[str, tuple[str | int, ...]]] = field(default_factory=list)


def parse_story(md: MarkdownFile, slug: str, image: Callable[[Obj, str], Image | None]) -> StoryDraft | None:
    src = md.src
    root = src.obj(src.doc.data, (), STORY_KEYS)
    if root is None:
        return None
    title = root.text("title", required=True)
    date = root.date("date", required=True)
    cover = image(root, "cover")
    refs = [(v, p) for p, v in root.items("products") if isinstance(v, str)]
    for p, v in root.items("products"):
        if not isinstance(v, str):
            src.error(p, "must be a product id")
    draft = StoryDraft(
        slug=slug,
        title=title,
        date=date,
        cover=cover,
        summary=root.text("summary"),
        tags=tuple(root.texts("tags")),
        draft=root.boolean("draft", False),
        src=src,
        product_refs=refs,
    )
    draft.parts = _split_body(md)
    if not title or date is None:
        return None
    return draft


def _split_body(md: MarkdownFile) -> list[StoryPart | tuple[str, int, int]]:
    """Render the Markdown between shortcode lines; shortcodes become (product id, line, column)."""
    parts: list[StoryPart | tuple[str, int, int]] = []
    chunk: list[str] = []
    in_fence = False

    def flush() -> None:
        html = render_markdown("\n".join(chunk))
        if html:
            parts.append(StoryPart(html=Markup(html)))  # nosec B704 - already render_markdown output
        chunk.clear()

    for offset, line in enumerate(md.body.split("\n")):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else SHORTCODE.match(line)
        if match is None:
            chunk.append(line)
            continue
        lineno = md.body_line + offset
        column = len(line) - len(line.lstrip(" ")) + 1  # where the `{{` is
        name, arg = match.group(1), match.group(2)
        if name != "product" or not arg or " " in arg:
            message = f"unknown shortcode '{line.strip()}' (write {{{{ product <id> }}}})"
            md.src.problems.append(Problem(md.src.rel, lineno, "", message, column=column))
            continue
        flush()
        parts.append((arg, lineno, column))
    flush()
    return parts


def parse_page(md: MarkdownFile, slug: str) -> Doc | None:
    src = md.src
    root = src.obj(src.doc.data, (), PAGE_KEYS)
    if root is None:
        return None
    if slug in RESERVED_SLUGS:
        src.problems.append(
            Problem(
                src.rel, 0, "", f"the page name '{slug}' is taken by the shop's own section /{slug}/; rename the file"
            )
        )
        return None
    title = root.text("title", required=True)
    order = root.integer("order", default=100)
    if not title:
        return None
    return Doc(
        slug=slug,
        title=title,
        summary=root.text("summary"),
        body_html=render_markdown(md.body),
        order=order if order is not None else 100,
        source=src.rel,
    )
