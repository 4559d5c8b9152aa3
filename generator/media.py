"""Content images: path checks, and the size of each image, read once.

An image path comes from the shop owner's YAML, so it is checked like untrusted input: it must
name a file inside `content/` (no `../`, no absolute path, no symlink leading out), and the
file must be a real image of a sane size (a decompression bomb is refused, not decoded).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from PIL import Image as PILImage

from .model import Image

#: About 40 megapixels: larger than any phone photo; beyond it Pillow would need gigabytes.
MAX_PIXELS = 40_000_000
FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


class ImageProblem(Exception):
    """Why an image path cannot be used, in the shop owner's words."""


class MediaLibrary:
    """The images of one site, each checked and measured once however often it is used."""

    def __init__(self, site_dir: Path, measured: MeasureCache | None = None) -> None:
        self.content_dir = site_dir / "content"
        self._content_real = self.content_dir.resolve()
        self._cache: dict[str, Image | ImageProblem] = {}
        self.measured = measured if measured is not None else MeasureCache(None)

    def image(self, value: object) -> Image:
        """The Image for a content path, or raise ImageProblem."""
        if not isinstance(value, str) or not value.strip():
            raise ImageProblem("must be an image path such as images/tea.jpg")
        key = value.strip()
        if key not in self._cache:
            try:
                self._cache[key] = self._load(key)
            except ImageProblem as exc:
                self._cache[key] = exc
        found = self._cache[key]
        if isinstance(found, ImageProblem):
            raise found
        return found

    def used(self) -> list[Image]:
        """Every image that was looked up and is usable, for copying into the output."""
        return [img for img in self._cache.values() if isinstance(img, Image)]

    def _load(self, value: str) -> Image:
        if "\x00" in value or "\\" in value or "%" in value:
            raise ImageProblem(f"'{value}' is not a usable path (write it as images/name.jpg)")
        posix = PurePosixPath(value)
        if posix.is_absolute() or ".." in posix.parts or value.startswith("~"):
            raise ImageProblem(f"path must stay inside content/: {value}")
        file = self.content_dir.joinpath(*posix.parts)
        try:
            real = file.resolve(strict=True)
        except (FileNotFoundError, RuntimeError):
            raise ImageProblem(f"file not found: content/{posix}") from None
        if not real.is_relative_to(self._content_real):
            raise ImageProblem(f"path must stay inside content/ (a link leads outside): {value}")
        if not real.is_file():
            raise ImageProblem(f"not a file: content/{posix}")
        width, height = self.measured.size(real, f"content/{posix}")
        return Image(path=str(posix), url=f"media/{quote(str(posix))}", width=width, height=height)


class MeasureCache:
    """Sizes of images already checked, by path, size, modification time and inode, kept in a
    JSON file in the cache folder: a rebuild then decodes only new or changed images. Only
    images found good are remembered, so a broken one is reported again on every build."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.known: dict[str, list[int]] = {}
        self.changed = False
        if file is not None:
            try:
                loaded = json.loads(file.read_text("utf-8"))
                self.known = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                pass

    def size(self, file: Path, shown: str) -> tuple[int, int]:
        st = file.stat()
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        known = self.known.get(str(file))
        if isinstance(known, list) and len(known) == 5 and known[:3] == stamp:
            return known[3], known[4]
        width, height = _measure(file, shown)
        self.known[str(file)] = [*stamp, width, height]
        self.changed = True
        return width, height

    def save(self) -> None:
        if self.file is None or not self.changed:
            return
        live = {path: v for path, v in self.known.items() if Path(path).exists()}
        self.file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(live, indent=0), "utf-8")
        os.replace(tmp, self.file)
        self.changed = False


def _measure(file: Path, shown: str) -> tuple[int, int]:
    """Width and height of a real, complete image; corrupt files and bombs are refused."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(file) as img:
                if img.format not in FORMATS:
                    raise ImageProblem(f"{shown}: {img.format} images are not supported (use JPEG, PNG, WebP or GIF)")
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise ImageProblem(
                        f"{shown}: image is too large ({width}x{height} pixels; "
                        f"at most {MAX_PIXELS // 1_000_000} megapixels)"
                    )
                img.load()  # decode fully, so that a truncated file is caught now, not later
    except ImageProblem:
        raise
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise ImageProblem(f"{shown}: image is too large to decode safely") from None
    except (OSError, SyntaxError, ValueError) as exc:  # what Pillow raises for broken files
        reason = str(exc).replace(f" '{file}'", "").replace(str(file), shown)
        raise ImageProblem(f"{shown}: not a readable image ({reason})") from None
    return width, height
