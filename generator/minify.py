"""Smaller scripts and style sheets: the theme's readable sources, minified as the build copies them.

Every byte of JavaScript and CSS is downloaded and parsed before a phone shows a page, and the
theme's sources are written to be read (comments, indentation), so the build strips what the
browser does not need. A script the ES5 parser of calmjs.parse understands (the ones a product
page loads: shop.js, buyer.js, product.js) is printed back from its syntax tree with its local
names shortened (never a global or a property: what other scripts and the page see stays the
same), a fifth smaller than with whitespace removed alone; a script written in later JavaScript
(const, arrow functions) falls back to rjsmin, which only removes comments and whitespace, as
rcssmin does for style sheets. A file ending in `.min.js` or `.min.css` is already minified and
is copied as it is.

Minifying is slow next to the rest of a build that changed little (calmjs.parse takes most of
a second for the default theme's scripts), so each result is kept by the hash of its source:
in this process (a preview rebuilds often) and, given a cache folder, as a plain file there
(`minified/<hash>.js`), which a build only ever publishes, as it publishes the cached pictures.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
from pathlib import Path

import rcssmin
import rjsmin

#: Elements whose text keeps its whitespace: the indentation of code, of a text area's value.
_KEEP = re.compile(rb"(<(pre|textarea)\b.*?</\2>)", re.S | re.I)
_INDENT = re.compile(rb"\n[ \t]+")
#: A run of spaces between two tags on one line (where a template's `{%-` joined its lines).
_GAP = re.compile(rb">[ \t]{2,}<")


#: Cache folder / FOLDER / <hash of the source>.<js|css>: minified files kept between builds.
FOLDER = "minified"
#: Raise when the minified output of the same source changes (a new rule here).
VERSION = 1
#: Minified bytes by key, kept in this process.
_KEPT: dict[str, bytes] = {}


def _versions() -> str:
    found = []
    for package in ("calmjs.parse", "rjsmin", "rcssmin"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(package)
    return ";".join(found)


_VERSIONS = _versions()


class Minifier:
    """Minifies static files, reusing what an earlier build kept for the same source (in this
    process, or in the cache folder `cache`); `prune` then removes the kept files no longer used."""

    def __init__(self, cache: Path | None = None) -> None:
        self.folder = cache / FOLDER if cache is not None else None
        self.used: set[str] = set()

    def __call__(self, path: str, data: bytes) -> bytes:
        """The bytes to publish for the static file `path`: minified for .js and .css."""
        if not minifiable(path):
            return data
        suffix = ".js" if path.endswith(".js") else ".css"
        digest = hashlib.blake2b(f"{VERSION}\0{_VERSIONS}\0{suffix}\0".encode(), digest_size=20)
        digest.update(data)
        key = digest.hexdigest()
        self.used.add(key)
        found = _KEPT.get(key)
        if found is not None:
            return found
        file = self.folder / f"{key}{suffix}" if self.folder is not None else None
        if file is not None:
            try:
                found = file.read_bytes()
            except OSError:
                found = None
        if found is None:
            found = _minify(path, data)
            if file is not None:
                _keep(file, found)
        if len(_KEPT) > 256:  # a preview of a theme being written: only the latest sources matter
            _KEPT.clear()
        _KEPT[key] = found
        return found

    def prune(self) -> None:
        """Remove the kept files that this build did not use (their sources changed)."""
        if self.folder is not None and self.folder.is_dir():
            for file in self.folder.iterdir():
                if file.stem not in self.used and not file.name.startswith("."):
                    file.unlink(missing_ok=True)


def _keep(file: Path, data: bytes) -> None:
    """Save a minified file for later builds; a cache folder that cannot take it only costs time."""
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, file)
    except OSError:
        tmp.unlink(missing_ok=True)


def minify(path: str, data: bytes) -> bytes:
    """The bytes to publish for the static file `path`: minified for .js and .css."""
    return Minifier()(path, data)


def _minify(path: str, data: bytes) -> bytes:
    if path.endswith((".min.js", ".min.css")):
        return data
    if path.endswith(".js"):
        return _minify_js(data.decode("utf-8")).encode("utf-8") + b"\n"
    if path.endswith(".css"):
        return str(rcssmin.cssmin(data.decode("utf-8"), keep_bang_comments=True)).encode("utf-8") + b"\n"
    return data


def _minify_js(source: str) -> str:
    """Local names shortened where the script is ES5; else comments and whitespace removed.
    A licence comment (/*! ... */) is kept first, as rjsmin keeps it. (calmjs.parse is imported
    here: a build whose scripts did not change never needs it, and it takes 15 ms to import.)"""
    from calmjs.parse import es5
    from calmjs.parse.exceptions import ECMASyntaxError
    from calmjs.parse.unparsers.es5 import minify_print

    try:
        tree = es5(source)
    except ECMASyntaxError:
        return str(rjsmin.jsmin(source, keep_bang_comments=True))
    bang = "".join(m.group(0) + "\n" for m in _BANG.finditer(source))
    return bang + str(minify_print(tree, obfuscate=True, obfuscate_globals=False, drop_semi=True))


_BANG = re.compile(r"/\*!.*?\*/", re.S)


def minifiable(path: str) -> bool:
    return path.endswith((".js", ".css")) and not path.endswith((".min.js", ".min.css"))


def compact_html(html: bytes) -> bytes:
    """A page without the indentation of its templates: the whitespace at the start of each line
    (a tenth of a product page) is dropped, and so is a run of spaces between two tags on one
    line (one space stays: the browser shows it as one anyway), except inside <pre> and
    <textarea>. The line breaks stay, so text never runs together and the page is still
    readable when viewed as source."""
    parts = _KEEP.split(html)
    out = []
    for n, part in enumerate(parts):
        kind = n % 3  # split() gives: outside, the kept element, its tag name, outside, ...
        if kind == 0:
            out.append(_GAP.sub(b"> <", _INDENT.sub(b"\n", part)))
        elif kind == 1:
            out.append(part)
    return b"".join(out)
