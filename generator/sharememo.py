"""Each product's share pictures as the last build planned them, kept in the cache folder.

Planning a product's card, posters and QR code (share.py) means resolving its texts in the
font chain and hashing every drawing's inputs into its cache key: about 90 µs a product, most
of a warm build of a large shop in which nothing changed. What the plan gives the rest of the
build is small: the four drawings' keys, the pictures' alt text, the share text and the
characters no font draws. That is kept here, by product, under a key of everything the plan
reads (share.py makes it): the product's own fields, its photo's bytes, and, for the whole
file, the shop's settings, theme, fonts, words, promoters and which sale windows are open.

A product found here is not planned again; its drawings are planned only if one of them must be
drawn (its file is gone from the image cache: see imaging.Later).

Like everything in the cache folder, the file may come with a shop someone else made
(docs/security.md): it is plain JSON, read with `json.loads`, and an entry is used only if it
has the exact shape written here (keys that are sha256 hex digests, texts that are text).
Anything else is ignored, and the products are planned again.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path

FOLDER = "share-plans"
#: Raise when an entry's shape changes.
VERSION = 1
#: Plans for this many sets of settings are kept (a preview and a published build differ).
KEEP = 4
#: A file larger than this is not read.
MAX_BYTES = 256 * 1024 * 1024

#: (card key, square poster key, story poster key, QR code key, alt text, share text, missing characters)
Entry = tuple[str, str, str, str, str, str, str]

_KEY = re.compile(r"^[0-9a-f]{64}$")


def _entry(value: object) -> Entry | None:
    if not isinstance(value, list) or len(value) != 7 or not all(type(v) is str for v in value):
        return None
    if not all(_KEY.match(key) for key in value[:4]):
        return None
    return (value[0], value[1], value[2], value[3], value[4], value[5], value[6])


class ShareMemo:
    """The plans kept for one set of shop-wide settings (`basis`), by product key."""

    def __init__(self, folder: Path | None, basis: int) -> None:
        self.folder = folder
        self.file = folder / f"{basis:016x}.json" if folder is not None else None
        self._known = self._read()
        self._now: dict[str, Entry] = {}
        self._changed = False

    def _read(self) -> dict[str, object]:
        if self.file is None:
            return {}
        try:
            with self.file.open("rb") as f:
                raw = f.read(MAX_BYTES + 1)
            data = json.loads(raw) if len(raw) <= MAX_BYTES else None
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("plans"), dict):
            return {}
        return data["plans"]  # type: ignore[no-any-return]

    def get(self, key: str) -> Entry | None:
        """The plan kept for the product with this key, if it is one."""
        found = _entry(self._known.pop(key, None))  # (taken out: at 100,000 products, held once)
        if found is not None:
            self._now[key] = found
        return found

    def put(self, key: str, entry: Entry) -> None:
        self._now[key] = entry
        self._changed = True

    def save(self) -> None:
        """Keep the plans of this build's products (those of products gone are dropped), and the
        files of the last KEEP sets of settings. A disk that refuses is no error: the next
        build plans again."""
        if self.folder is None or self.file is None:
            return
        with contextlib.suppress(OSError):
            if self._changed or self._known:  # a plan made, or one of a product gone
                data = {"version": VERSION, "plans": self._now}
                raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                self.folder.mkdir(parents=True, exist_ok=True)
                handle, name = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
                try:
                    with os.fdopen(handle, "wb") as f:
                        f.write(raw)
                    os.replace(name, self.file)
                except BaseException:
                    Path(name).unlink(missing_ok=True)
                    raise
            else:
                os.utime(self.file)  # among the last KEEP used
            files = sorted(self.folder.glob("*.json"), key=lambda f: f.stat().st_mtime, reverse=True)
            for old in files[KEEP:]:
                old.unlink(missing_ok=True)
