"""Parsed catalog files, kept between builds: in the cache folder as JSON, and in memory by a
running preview.

Parsing a catalog file (the YAML, every field's checks, the Markdown descriptions) is most of
the cost of loading a large shop, and a build mostly reads files that did not change. A parsed
file is kept under a key made of its path, its bytes, the shop's currency, the generator's code
(`code_print`) and the format's VERSION; the problems found while parsing it are kept with it,
so a warning is reported on every build as if the file had been read again. A parsed file names
the images it uses; an entry is reused only when each of them looks up as it did then (a photo
replaced by one of another size parses the file again).

Why the files on disk are safe to read: the cache folder sits in the shop's folder and may come
with a shop someone else made (docs/security.md), so what is read from it must never be able to
run code or change what a parse would make beyond what the shop's own files can. Entries are
plain JSON (never pickle or marshal: reading those can run code), read with `json.loads`, and
turned into model objects only by catalog_codec.decode: an explicit decoder that builds the
model's own types field by field, checks every type, and checks again what a parse guarantees
(ids that become folder names are slugs, descriptions are HTML that markdown-it could have
written, each image is looked up again and must give the same). Anything else, a corrupt,
truncated or hand-made entry, means "parse the file again": never a crash, never code.

In memory, a running preview keeps each parse (and the related-products links) as made, without
copying: kept parses are never changed, as each load takes its own copies of the objects that
`resolve` links together (CatalogFile.for_load). Entries a load did not use, on disk and in
memory, are deleted after it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

FOLDER = "parsed"
#: Raise when what is kept changes shape: older entries are then never found.
VERSION = 2
#: An entry's file is larger than any real catalog's parse: not read.
MAX_ENTRY_BYTES = 256 * 1024 * 1024
_ENTRY = re.compile(r"^[0-9a-f]{40}\.json$")
#: What `keep` kept: (cache folder, key) -> the value, as made.
_KEPT: dict[tuple[str, str], Any] = {}
#: The key last kept for a file: (cache folder, rel) -> key.
_LAST: dict[tuple[str, str], str] = {}
#: A file's key by its stamp: (cache folder, rel, inputs) -> (stamp, key).
_STAMPED: dict[tuple[str, str, tuple[str, ...]], tuple[tuple[int, ...], str]] = {}


@functools.lru_cache(maxsize=1)
def code_print() -> str:
    """A hash of the generator's own code and of the libraries that parse and render, so that a
    new release never reuses what an older one made."""
    here = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=16)
    for file in sorted(here.glob("*.py")):
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    for package in ("jinja2", "markupsafe", "babel", "markdown-it-py", "pyyaml"):
        try:
            digest.update(f"{package} {importlib.metadata.version(package)}".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(package.encode())
    return digest.hexdigest()


def forget() -> None:
    """Forget what this process kept in memory, as a new process starts (tests)."""
    _KEPT.clear()
    _LAST.clear()
    _STAMPED.clear()


class ParseCache:
    """Parsed files by key in `folder` (None: a cache that never finds or keeps anything)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.used: set[str] = set()

    @staticmethod
    def key(rel: str, data: bytes, *inputs: str) -> str:
        digest = hashlib.blake2b(f"{VERSION}\0{code_print()}\0{rel}\0{inputs!r}\0".encode(), digest_size=20)
        digest.update(data)
        return digest.hexdigest()

    def file_key(self, file: Path, rel: str, *inputs: str) -> str | None:
        """`key` for a file's current bytes, or None when it cannot be read. A running preview
        remembers each file's key by its stamp (size, modification and change times in
        nanoseconds, inode), so that a rebuild reads and hashes only the files that changed."""
        if self.folder is None:
            return None
        try:
            st = file.stat()
            stamp = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            memo = (str(self.folder), rel, inputs)
            known = _STAMPED.get(memo)
            if known is not None and known[0] == stamp:
                return known[1]
            key = self.key(rel, file.read_bytes(), *inputs)
        except OSError:
            return None
        _STAMPED[memo] = (stamp, key)
        return key

    def last_kept(self, rel: str) -> Any | None:
        """What was last kept in this process for the file `rel` (under its key then), or None:
        an edited file is parsed again, and what did not change in it need not be rendered again."""
        if self.folder is None:
            return None
        key = _LAST.get((str(self.folder), rel))
        return None if key is None else _KEPT.get((str(self.folder), key))

    def kept(self, key: str) -> Any | None:
        """What `keep` kept under `key` in this process, as it was kept (never change it), or None."""
        if self.folder is None:
            return None
        found = _KEPT.get((str(self.folder), key))
        if found is not None:
            self.used.add(key)
        return found

    def keep(self, key: str, value: Any, rel: str | None = None) -> None:
        """Keep `value` in memory for later loads in this process; it must not change after.
        With `rel`, it is the parse of that file (`last_kept`)."""
        if self.folder is None:
            return
        self.used.add(key)
        _KEPT[(str(self.folder), key)] = value
        if rel is not None:
            _LAST[(str(self.folder), rel)] = key

    def read(self, key: str) -> object | None:
        """The plain data `write` saved under `key`, or None when there is none or it is not
        JSON. Only data: the caller checks its shape (catalog_codec.decode)."""
        if self.folder is None:
            return None
        file = self.folder / f"{key}.json"
        try:
            with file.open("rb") as f:
                raw = f.read(MAX_ENTRY_BYTES + 1)
            if len(raw) > MAX_ENTRY_BYTES:
                return None
            data: object = json.loads(raw)
        except (OSError, ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return None
        self.used.add(key)
        return data

    def write(self, key: str, data: object) -> None:
        """Save plain data (what `json.dumps` takes) under `key`, whole or not at all."""
        if self.folder is None:
            return
        self.used.add(key)
        try:
            raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            try:
                with os.fdopen(handle, "wb") as f:
                    f.write(raw)
                os.replace(name, self.folder / f"{key}.json")
            except BaseException:
                Path(name).unlink(missing_ok=True)
                raise
        except (OSError, ValueError, TypeError):  # a read-only or full disk: the build goes on
            return

    def prune(self) -> None:
        """Forget the entries this load did not use (the files they were parsed from changed)."""
        if self.folder is None:
            return
        folder = str(self.folder)
        for kept in [k for k in _KEPT if k[0] == folder and k[1] not in self.used]:
            del _KEPT[kept]
        for last in [k for k, key in _LAST.items() if k[0] == folder and key not in self.used]:
            del _LAST[last]
        for memo in [k for k, (_, key) in _STAMPED.items() if k[0] == folder and key not in self.used]:
            del _STAMPED[memo]
        try:
            found = list(os.scandir(self.folder))
        except OSError:
            return
        left_long_ago = time.time() - 3600  # a temporary file: another build may be writing it
        for entry in found:
            name = entry.name
            stale = _ENTRY.match(name) is not None and name[:-5] not in self.used
            with contextlib.suppress(OSError):
                if stale or (name.startswith(".tmp-") and entry.stat().st_mtime < left_long_ago):
                    os.unlink(entry.path)
