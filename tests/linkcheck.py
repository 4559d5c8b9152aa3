"""Every internal link and image of a built shop must point at a file that exists."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ATTRS = {"href", "src", "srcset", "poster", "action"}


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name not in ATTRS or not value:
                continue
            if name == "srcset":
                self.refs += [part.strip().split(" ")[0] for part in value.split(",") if part.strip()]
            else:
                self.refs.append(value)


def broken_links(out_dir: Path, base_url: str) -> list[str]:
    """'page -> target' for each internal reference that resolves to no file."""
    base = urlsplit(base_url)
    broken = []
    for page in sorted(out_dir.rglob("*.html")):
        parser = _Refs()
        parser.feed(page.read_text("utf-8"))
        page_url = "/" + page.relative_to(out_dir).as_posix()
        for ref in parser.refs:
            parts = urlsplit(ref)
            if parts.scheme in ("mailto", "tel", "data") or (parts.scheme and parts.netloc != base.netloc):
                continue
            if not parts.path:
                continue  # a fragment on the same page
            path = parts.path
            if not path.startswith("/"):
                path = page_url.rsplit("/", 1)[0] + "/" + path
            if not path.startswith(base.path):
                broken.append(f"{page_url} -> {ref} (outside the base path {base.path})")
                continue
            rel = unquote(path[len(base.path) :])
            target = out_dir / rel
            if rel == "" or rel.endswith("/"):
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page_url} -> {ref}")
    return broken
