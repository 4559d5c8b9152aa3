"""Parsed catalog files, kept in memory so that a running preview parses each file once.

Parsing a catalog file (the YAML, every field's checks, the Markdown descriptions) is most of
the cost of loading a large shop, and a rebuild mostly reads files that did not change. A
parsed file is kept under a key made of its path, its bytes, the shop's currency and the
generator's code; the problems found while parsing it are kept with it, so a warning is
reported on every build as if the file had been read again.

A parsed file names the images it uses; an entry is reused only when each of them looks up
as it did then (a photo replaced by one of another size parses the file again).

Kept in this process only, by cache folder and key; entries a load did not use are forgotten
after it. Never on disk: the cache folder sits in the shop's folder and may come with a shop
someone else made, and the only way to keep a parsed model there would be pickle, whose reading
can run code (docs/security.md). Saving them as plain data is left for later (issue #6).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib.metadata
from pathlib import Path
from typing import Any

FOLDER = "parsed"
#: Raise when what is kept changes shape: older entries are then never found.
VERSION = 1
#: What `put` kept: (cache folder, key) -> the parsed value.
_KEPT: dict[tuple[str, str], Any] = {}


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


class ParseCache:
    """Parsed files by key in `folder` (None: a cache that never finds anything)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.used: set[str] = set()

    @staticmethod
    def key(rel: str, data: bytes, *inputs: str) -> str:
        digest = hashlib.blake2b(f"{VERSION}\0{code_print()}\0{rel}\0{inputs!r}\0".encode(), digest_size=20)
        digest.update(data)
        return digest.hexdigest()

    def get(self, key: str) -> Any | None:
        """What `put` kept under `key`, as a deep copy (the caller may change it), or None."""
        if self.folder is None:
            return None
        found = _KEPT.get((str(self.folder), key))
        if found is None:
            return None
        self.used.add(key)
        return copy.deepcopy(found)

    def put(self, key: str, value: Any) -> None:
        if self.folder is None:
            return
        self.used.add(key)
        _KEPT[(str(self.folder), key)] = copy.deepcopy(value)

    def prune(self) -> None:
        """Forget the entries this load did not use (the files they were parsed from changed)."""
        if self.folder is None:
            return
        folder = str(self.folder)
        for kept in [k for k in _KEPT if k[0] == folder and k[1] not in self.used]:
            del _KEPT[kept]
