"""The preview's error overlay: a failed rebuild shown over the last good pages, in the browser.

While the latest rebuild of `micromall serve` has content errors, the preview server adds this
panel to every HTML page it serves (the output folder is never touched, so the pages underneath
are the last good build). The panel lists each problem as `path:line:col: field: message`, the
same line the terminal shows, escaped, so a title such as `<b>` in the YAML reads as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from typing import Any

from .errors import Problem, count_line

#: The panel's id; its styles are scoped under it and reset what a theme's CSS might set.
PANEL_ID = "micromall-preview-errors"

STYLE = f"""
#{PANEL_ID}, #{PANEL_ID} * {{ all: revert; box-sizing: border-box; }}
#{PANEL_ID} {{ position: fixed; inset: 0.75rem 0.75rem auto; z-index: 2147483647; max-height: 70vh;
  overflow: auto; margin: 0 auto; max-width: 56rem; padding: 1rem 1.25rem; background: #fff;
  color: #1a1a1a; border: 2px solid #b00020; border-radius: 0.5rem;
  box-shadow: 0 0.5rem 2rem rgb(0 0 0 / 0.35); font: 15px/1.45 system-ui, sans-serif; text-align: left; }}
#{PANEL_ID} h2 {{ margin: 0 2.5rem 0.25rem 0; font-size: 1.1rem; color: #b00020; }}
#{PANEL_ID} p {{ margin: 0.25rem 0; }}
#{PANEL_ID} ol {{ margin: 0.75rem 0; padding: 0; list-style: none; }}
#{PANEL_ID} li {{ margin: 0.4rem 0; padding: 0.5rem 0.6rem; background: #fdf0f2; border-left: 4px solid #b00020;
  font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap;
  overflow-wrap: anywhere; }}
#{PANEL_ID} button {{ position: absolute; top: 0.6rem; right: 0.6rem; width: 2.75rem; height: 2.75rem;
  border: 0; border-radius: 0.4rem; background: #eee; color: #1a1a1a; font-size: 1.4rem; cursor: pointer; }}
"""


def overlay(problems: Sequence[Problem], underneath: bool = True) -> str:
    """The panel's HTML for these problems; a self-contained fragment to put before </body>.
    `underneath`: whether the page under it is the last good build (else nothing is built yet)."""
    items = "".join(f"<li>{html.escape(str(p))}</li>" for p in problems)
    count = html.escape(count_line(problems))
    return (
        f'<div id="{PANEL_ID}" role="alert"><style>{STYLE}</style>'
        '<button type="button" aria-label="Dismiss" title="Dismiss"'
        f' onclick="this.parentNode.remove()">&times;</button>'
        f"<h2>The last rebuild failed: {count}</h2>"
        f"<p>{'This page is the last good build' if underneath else 'Nothing is built yet'}."
        " Fix the file and save: the page reloads.</p>"
        f"<ol>{items}</ol></div>"
    )


def inject(page: bytes, problems: Sequence[Problem], underneath: bool = True) -> bytes:
    """`page` with the panel added before its last </body> (or at its end when there is none)."""
    if not problems:
        return page
    panel = overlay(problems, underneath).encode("utf-8")
    at = page.lower().rfind(b"</body>")
    return page + panel if at < 0 else page[:at] + panel + page[at:]


class ErrorOverlay:
    """The problems of the latest rebuild, kept while it failed and cleared when one succeeds;
    the preview's file handler reads it for every HTML page."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def show(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)

    def clear(self) -> None:
        self.problems = []

    def apply(self, page: bytes) -> bytes:
        return inject(page, self.problems)

    def missing_page(self) -> bytes:
        """What a page that is not built shows while a build fails: the panel on a blank page
        (the first build of a preview failed, or the page is new). Its </head> lets the preview
        server add its reload script, so that fixing the file brings up the real page."""
        blank = b'<!doctype html><html><head><meta charset="utf-8"><title>Preview</title></head><body></body></html>'
        return inject(blank, self.problems, underneath=False)


def file_handler(base: Any, errors: ErrorOverlay) -> Any:
    """A subclass of the preview's static file handler (`base`, a tornado StaticFileHandler)
    that serves HTML pages with the panel while `errors` holds problems, and never lets the
    browser reuse a page that has the panel (or lacks it) by its ETag."""

    class PreviewFiles(base):  # type: ignore[misc]
        # tornado calls get_content on the class too (to version a file): these are classmethods
        @classmethod
        def _with_panel_of(cls, abspath: str) -> bytes | None:
            if not errors.problems or not str(abspath).endswith((".html", ".htm")):
                return None
            with open(abspath, "rb") as f:
                return errors.apply(f.read())

        def _with_panel(self) -> bytes | None:
            return self._with_panel_of(str(self.absolute_path))

        def get_content_size(self) -> int:
            page = self._with_panel()
            return len(page) if page is not None else int(super().get_content_size())

        @classmethod
        def get_content(cls, abspath: str, start: int | None = None, end: int | None = None) -> Iterator[bytes]:
            page = cls._with_panel_of(abspath)
            if page is None:
                yield from base.get_content(abspath, start, end)
            else:
                yield page[start:end]

        def compute_etag(self) -> str | None:
            return None if self._with_panel() is not None else super().compute_etag()

        def write_error(self, status_code: int, **kwargs: Any) -> None:
            if status_code != 404 or not errors.problems:
                super().write_error(status_code, **kwargs)
                return
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(errors.missing_page())

        def set_extra_headers(self, path: str) -> None:
            super().set_extra_headers(path)
            if self._with_panel() is not None:
                self.set_header("Cache-Control", "no-store")

    return PreviewFiles
