"""The image cache: made images kept outside the output folder, keyed by all their inputs.

An image's key is a sha256 of everything that decides its bytes: the drawing code (a version
constant, the source of the drawing modules, the Pillow and segno versions), the texts, prices
and colours, the sizes, the identity of each font file, and the hash of each source image's
bytes. As the drawing modules' source is part of the key, changing how images are drawn redraws
them even if nobody remembers to raise DRAWING_VERSION.

A build looks every image up by its key and draws only the ones it misses, so a build with
nothing changed draws nothing, and a price change redraws only the images that show that price.

Layout of the cache folder (default `SITE_DIR/.micromall-cache/`):

    images/<key>.<n>      the n-th file of one drawing (a QR code makes an SVG and a PNG)
    builds/<tag>.json     the keys the last successful build of each base URL used (and of
                          its preview, which keeps a record of its own)
    sources.json          the hash of each source image by its path, size and modification time
    measured.json         the width and height of each content image checked, by the same stamp

At the end of a successful build, images that no recent build uses are deleted. Every file is
written under a temporary name and renamed, so a build that stops halfway leaves no torn file.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CACHE_DIR = ".micromall-cache"
KEEP_BUILDS = 4  # prune keeps what the last builds of this many base URLs used

#: Raise to redraw every image, e.g. for a change of behaviour outside DRAWING_MODULES.
DRAWING_VERSION = 1
DRAWING_MODULES = ("draw", "cards", "posters", "qr", "fonts", "cache", "responsive")


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the code that draws: DRAWING_VERSION, the drawing modules, Pillow and segno."""
    import PIL
    import segno

    from . import __version__

    digest = hashlib.sha256(f"{DRAWING_VERSION} {PIL.__version__} {segno.__version__}".encode())
    here = Path(__file__).resolve().parent
    for name in DRAWING_MODULES:
        try:
            digest.update((here / f"{name}.py").read_bytes())
        except OSError:  # installed without sources: the release stands for the code
            digest.update(__version__.encode())
    return digest.hexdigest()


def key_of(spec: object) -> str:
    """The sha256 of a drawing's inputs: the drawing code, the spec's class, and every field
    (nested dataclasses included) except those marked `metadata={"key": False}`, such as file
    paths whose content hash is a field of its own."""
    payload = {"class": type(spec).__qualname__, "code": code_version(), "spec": _plain(spec)}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: The keyed field names of each dataclass, and the plain form of frozen dataclass instances
#: seen lately (by id, holding the instance so that the id stays its own): the fonts, palette
#: and logo shared by every picture of a shop are walked once, not once per picture.
_FIELDS: dict[type, tuple[str, ...]] = {}
_SEEN: dict[int, tuple[object, Any]] = {}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        seen = _SEEN.get(id(value))
        if seen is not None and seen[0] is value:
            return seen[1]
        cls = type(value)
        names = _FIELDS.get(cls)
        if names is None:
            names = _FIELDS[cls] = tuple(
                f.name for f in dataclasses.fields(value) if f.metadata.get("key", True) and f.init
            )
        plain = {name: _plain(getattr(value, name)) for name in names}
        if cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            if len(_SEEN) > 2048:
                _SEEN.clear()
            _SEEN[id(value)] = (value, plain)
        return plain
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot key a {type(value).__name__}")


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ImageCache:
    """Made images by key. `get` and `put` are safe while another build uses the same folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.images = folder / "images"
        self._hashes: dict[str, list[Any]] | None = None
        self._hashes_changed = False

    def get(self, key: str, count: int) -> tuple[Path, ...] | None:
        """The files of a drawing, or None when any is missing. Only their presence is checked:
        the output copies them, so a build holds no image bytes in memory."""
        files = tuple(self.images / f"{key}.{n}" for n in range(count))
        return files if all(f.is_file() for f in files) else None

    def put(self, key: str, parts: Iterable[bytes]) -> tuple[Path, ...]:
        files = []
        for n, data in enumerate(parts):
            files.append(self.images / f"{key}.{n}")
            _write_atomic(files[-1], data)
        return tuple(files)

    # ---- source images: their hash, read again only when the file changed ----------------

    def file_hash(self, path: Path) -> str:
        """sha256 of a file's bytes, remembered by its path, size, and modification time."""
        if self._hashes is None:
            try:
                loaded = json.loads((self.folder / "sources.json").read_text("utf-8"))
                self._hashes = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self._hashes = {}
        stat = path.stat()
        stamp = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        known = self._hashes.get(str(path))
        if isinstance(known, list) and len(known) == 4 and known[:3] == stamp:
            return str(known[3])
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self._hashes[str(path)] = [*stamp, digest]
        self._hashes_changed = True
        return digest

    def save_hashes(self) -> None:
        if self._hashes is not None and self._hashes_changed:
            live = {p: v for p, v in self._hashes.items() if Path(p).exists()}
            _write_atomic(self.folder / "sources.json", json.dumps(live, indent=0).encode())
            self._hashes_changed = False

    # ---- pruning -------------------------------------------------------------------------

    def prune(self, used: Iterable[str], tag: str) -> int:
        """Record the keys this build used under `tag` (one per base URL, so that a preview
        build and a published build keep each other's images), and delete the images that
        none of the last KEEP_BUILDS tags use. Returns the number of files deleted."""
        builds = self.folder / "builds"
        _write_atomic(builds / f"{tag}.json", json.dumps(sorted(set(used))).encode())
        records = sorted(builds.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        keep: set[str] = set()
        for n, record in enumerate(records):
            if n >= KEEP_BUILDS:
                record.unlink(missing_ok=True)
                continue
            try:
                keep.update(json.loads(record.read_text("utf-8")))
            except (OSError, ValueError):
                continue
        removed = 0
        if not self.images.is_dir():
            return 0
        stale_tmp = time.time() - 3600
        for file in self.images.iterdir():
            if file.name.startswith("."):  # a temporary file: left behind when it is old
                if file.stat().st_mtime < stale_tmp:
                    file.unlink(missing_ok=True)
                continue
            if file.name.split(".", 1)[0] not in keep:
                file.unlink(missing_ok=True)
                removed += 1
        return removed


def tag_for(base_url: str) -> str:
    return hashlib.sha256(base_url.encode("utf-8")).hexdigest()[:16]
