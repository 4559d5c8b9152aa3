"""Parsed catalog files, kept in the cache folder so that each file is parsed once.

Parsing a catalog file (the YAML, every field's checks, the Markdown descriptions) is most of
the cost of loading a large shop, and a rebuild mostly reads files that did not change. A
parsed file is kept under a key made of its path, its bytes, the shop's currency and the
generator's code; the problems found while parsing it are kept with it, so a warning is
reported on every build as if the file had been read again.

A parsed file names the images it uses; an entry is reused only when each of them looks up
as it did then (a photo replaced by one of another size parses the file again).

Layout: `<cache>/parsed/<key>.pickle`. Entries that a load did not use are removed after it.
Each is written under a temporary name and renamed; an unreadable one is parsed again.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import pickle
from pathlib import Path
from typing import Any

FOLDER = "parsed"
#: Raise when what is kept changes shape: older entries are then never found.
VERSION = 1


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
        """What `put` kept under `key`, unpickled afresh (the caller may change it), or None."""
        if self.folder is None:
            return None
        try:
            found = pickle.loads((self.folder / f"{key}.pickle").read_bytes())  # nosec B301 - our own cache file
        except Exception:  # missing, torn or from another Python: parse the file again
            return None
        self.used.add(key)
        return found

    def put(self, key: str, value: Any) -> None:
        if self.folder is None:
            return
        self.used.add(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{key}.pickle"
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, target)

    def prune(self) -> None:
        """Remove the entries this load did not use (the files they were parsed from changed)."""
        if self.folder is None or not self.folder.is_dir():
            return
        for file in self.folder.iterdir():
            if file.suffix == ".pickle" and file.stem not in self.used:
                file.unlink(missing_ok=True)
