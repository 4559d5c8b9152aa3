"""Fonts for the share images: find fonts that can draw a text, and say which characters none can.

A theme names its fonts in theme.yml (`settings: fonts:`), each either a font file in its
`static/` folder (`fonts/brand.ttf`, or `{regular: ..., bold: ...}`) or the family name of a font
installed on the system (`Noto Serif CJK SC`). After the theme's fonts come Noto Sans CJK SC and
then DejaVu Sans from the system. Each character is drawn with the first font of that chain
that has it; a character that no font has is left out of the image (never drawn as a box) and
reported, so the build can warn about it.

Coverage is read from the font's character map with fontTools when it is installed; without it,
a character counts as missing when Pillow draws it exactly like the font's "missing glyph" box.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
import struct
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PIL import ImageFont

SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")

#: The fonts after the theme's: (family, file names of the regular face, of the bold face).
FALLBACKS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Noto Sans CJK SC",
        ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansCJK-Regular.otc", "NotoSansSC-Regular.otf"),
        ("NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf", "NotoSansCJK-Bold.otc", "NotoSansSC-Bold.otf"),
    ),
    ("DejaVu Sans", ("DejaVuSans.ttf",), ("DejaVuSans-Bold.ttf",)),
)


def system_font_dirs() -> list[Path]:
    home = Path.home()
    dirs = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), home / ".local/share/fonts", home / ".fonts"]
    if sys.platform == "darwin":
        dirs += [Path("/System/Library/Fonts"), Path("/Library/Fonts"), home / "Library/Fonts"]
    if sys.platform == "win32":  # pragma: no cover
        dirs.append(Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts")
    return dirs


@dataclass(frozen=True)
class FontRef:
    """One face of a font file. `identity` (size and modification time) changes with the file,
    so that it can stand for the font in the cache key of an image."""

    path: str
    index: int
    identity: str

    @classmethod
    def of(cls, path: Path, index: int = 0) -> FontRef:
        stat = path.stat()
        return cls(str(path.resolve()), index, f"{stat.st_size}-{stat.st_mtime_ns}")

    def load(self, size: int) -> ImageFont.FreeTypeFont:
        return _load(self, size)


@functools.lru_cache(maxsize=256)
def _load(ref: FontRef, size: int) -> ImageFont.FreeTypeFont:
    if not ref.path:  # Pillow's own font, the last resort
        font = ImageFont.load_default(size)
        assert isinstance(font, ImageFont.FreeTypeFont), "Pillow is built without FreeType"
        return font
    return ImageFont.truetype(ref.path, size, index=ref.index)


@dataclass(frozen=True)
class FontFamily:
    name: str
    regular: FontRef
    bold: FontRef


@dataclass(frozen=True)
class Resolved:
    """A text made ready to draw: the characters no font has are left out (and listed in
    `missing`); `fallback` maps each character that the first font lacks to the index of the
    font in the chain that draws it."""

    text: str
    fallback: Mapping[str, int]
    missing: str


_MISSING, _INVISIBLE = -1, -2  # what FontChain._index says of a character no font has, or one not drawn


@dataclass(frozen=True)
class FontChain:
    """The fonts to draw with, in order of preference."""

    families: tuple[FontFamily, ...]
    _seen: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def _index(self, ch: str) -> int:
        """The index of the first family that has `ch`; _MISSING, or _INVISIBLE for a
        character that draws nothing (variation selectors, zero-width joiners)."""
        index = self._seen.get(ch)
        if index is None:
            if _invisible(ch):
                index = _INVISIBLE
            elif ch.isspace():
                index = 0
            else:
                index = next((i for i, fam in enumerate(self.families) if covers(fam.regular, ch)), _MISSING)
            self._seen[ch] = index
        return index

    def resolve(self, text: str) -> Resolved:
        kept: list[str] = []
        fallback: dict[str, int] = {}
        missing: list[str] = []
        for ch in text:
            index = self._index(ch)
            if index == _INVISIBLE:
                continue
            if index == _MISSING:
                if ch not in missing:
                    missing.append(ch)
                continue
            if index:
                fallback[ch] = index
            kept.append(ch)
        drawn = "".join(kept)
        if missing:  # no double space where a character was left out
            drawn = re.sub(r"  +", " ", drawn).strip()
        return Resolved(drawn, fallback, "".join(missing))


def _invisible(ch: str) -> bool:
    return (unicodedata.category(ch) in ("Cf", "Cc") and ch not in "\n\t") or 0xFE00 <= ord(ch) <= 0xFE0F


def describe_missing(chars: str) -> str:
    """'🍵 (U+1F375), ☃ (U+2603)': characters as seen and as code points, for a warning."""
    return ", ".join(f"{ch} (U+{ord(ch):04X})" for ch in chars)


# ---- coverage ----------------------------------------------------------------------------


def covers(ref: FontRef, ch: str) -> bool:
    ranges = _coverage(ref)
    if ranges is None:
        return _pillow_covers(ref, ch)
    code = ord(ch)
    i = bisect.bisect_right(ranges, (code, sys.maxunicode + 1)) - 1
    return i >= 0 and ranges[i][0] <= code <= ranges[i][1]


@functools.lru_cache(maxsize=64)
def _coverage(ref: FontRef) -> tuple[tuple[int, int], ...] | None:
    """The code points the face has, as sorted (first, last) ranges; None without fontTools.

    fontTools finds the face's `cmap` table; its Unicode subtable in format 12 (what large fonts
    such as Noto Sans CJK have) or 4 is read here as ranges, which takes a millisecond where
    decoding it into fontTools' dictionary takes up to a quarter of a second.
    """
    if not ref.path:
        return None
    try:
        from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - the Pillow heuristic is tested on its own
        return None
    with TTFont(ref.path, fontNumber=ref.index, lazy=True) as font:
        ranges = _unicode_ranges(font.reader["cmap"]) if "cmap" in font.reader else None
        if ranges is None:
            codes = sorted((font.getBestCmap() or {}).keys())
            ranges = _ranges(codes)
    return tuple(ranges)


def _unicode_ranges(raw: bytes) -> list[tuple[int, int]] | None:
    """Ranges of the best Unicode subtable of a cmap table in format 12 or 4, or None."""
    _, count = struct.unpack_from(">HH", raw, 0)
    found: dict[int, int] = {}  # format -> offset
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", raw, 4 + 8 * i)
        if (platform, encoding) in ((3, 10), (0, 4), (0, 6), (3, 1), (0, 3)):
            found.setdefault(struct.unpack_from(">H", raw, offset)[0], offset)
    if 12 in found:
        return _format12(raw, found[12])
    if 4 in found:
        return _format4(raw, found[4])
    return None


def _format12(raw: bytes, offset: int) -> list[tuple[int, int]]:
    groups = struct.unpack_from(">I", raw, offset + 12)[0]
    out: list[tuple[int, int]] = []
    for start, end, glyph in struct.iter_unpack(">III", raw[offset + 16 : offset + 16 + 12 * groups]):
        if glyph == 0:  # a group that starts at .notdef: its first code point is missing
            start += 1
        if start <= end:
            out.append((start, end))
    out.sort()
    return out


def _format4(raw: bytes, offset: int) -> list[tuple[int, int]]:
    segments = struct.unpack_from(">H", raw, offset + 6)[0] // 2
    ends = struct.unpack_from(f">{segments}H", raw, offset + 14)
    starts = struct.unpack_from(f">{segments}H", raw, offset + 16 + 2 * segments)
    deltas = struct.unpack_from(f">{segments}h", raw, offset + 16 + 4 * segments)
    range_at = offset + 16 + 6 * segments
    range_offsets = struct.unpack_from(f">{segments}H", raw, range_at)
    codes: list[int] = []
    for i, (start, end, delta, range_offset) in enumerate(zip(starts, ends, deltas, range_offsets, strict=True)):
        if start == 0xFFFF:
            continue
        if range_offset == 0:
            codes += [c for c in range(start, end + 1) if (c + delta) & 0xFFFF]
            continue
        base = range_at + 2 * i + range_offset
        for c in range(start, end + 1):
            at = base + 2 * (c - start)
            glyph = struct.unpack_from(">H", raw, at)[0] if at + 2 <= len(raw) else 0
            if glyph and (glyph + delta) & 0xFFFF:
                codes.append(c)
    return _ranges(sorted(codes))


def _ranges(codes: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for code in codes:
        if out and out[-1][1] == code - 1:
            out[-1] = (out[-1][0], code)
        else:
            out.append((code, code))
    return out


_PROBE_SIZE = 32


@functools.lru_cache(maxsize=8192)
def _pillow_covers(ref: FontRef, ch: str) -> bool:
    """Pillow cannot list a font's characters, but a missing one is drawn as the .notdef glyph:
    compare with a code point that no font has."""
    font = ref.load(_PROBE_SIZE)
    return _mask_signature(font, ch) != _notdef_signature(ref)


@functools.lru_cache(maxsize=64)
def _notdef_signature(ref: FontRef) -> tuple[object, ...]:
    return _mask_signature(ref.load(_PROBE_SIZE), "\U0010fffd")


def _mask_signature(font: ImageFont.FreeTypeFont, ch: str) -> tuple[object, ...]:
    mask = font.getmask(ch)
    return (mask.size, mask.getbbox(), bytes(mask))


# ---- finding fonts ------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def system_font_files() -> tuple[Path, ...]:
    found: list[Path] = []
    for folder in system_font_dirs():
        if folder.is_dir():
            found += sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
    return tuple(found)


@functools.lru_cache(maxsize=512)
def faces(path: Path) -> tuple[tuple[int, str, str], ...]:
    """(index, family, style) of each face in a font file; () when it is not a usable font."""
    out: list[tuple[int, str, str]] = []
    index = 0
    while index < 64:
        try:
            family, style = ImageFont.truetype(str(path), 12, index=index).getname()
        except OSError:
            break
        out.append((index, family or "", style or ""))
        index += 1
    return tuple(out)


REGULAR = ("regular", "book", "normal", "roman", "medium")
BOLD = ("bold", "semibold", "demibold", "extrabold", "black", "heavy")


def _pick(found: list[tuple[Path, int, str]], styles: Iterable[str]) -> FontRef | None:
    """The face in the first of `styles` that `found` has."""
    for style in styles:
        for path, index, sty in found:
            if sty.casefold() == style:
                return FontRef.of(path, index)
    return None


def _family_faces(family: str, files: Iterable[Path]) -> list[tuple[Path, int, str]]:
    return [(path, i, sty) for path in files for i, fam, sty in faces(path) if fam.casefold() == family.casefold()]


def _family(family: str, regular_files: Iterable[Path], bold_files: Iterable[Path]) -> FontFamily | None:
    found = _family_faces(family, regular_files)
    if not found:
        return None
    regular = _pick(found, REGULAR) or FontRef.of(found[0][0], found[0][1])
    return FontFamily(family, regular, _pick(_family_faces(family, bold_files), BOLD) or regular)


def system_family(name: str) -> FontFamily | None:
    """An installed font family by name (case does not matter), or None."""
    files = system_font_files()
    return _family(name, files, files)


def fallback_families() -> list[FontFamily]:
    """Noto Sans CJK SC, then DejaVu Sans: those of them that are installed."""
    return [fam for fam in (_fallback(*spec) for spec in FALLBACKS) if fam is not None]


@functools.cache
def _fallback(family: str, regular_names: tuple[str, ...], bold_names: tuple[str, ...]) -> FontFamily | None:
    """A fallback family from its usual files, or else from any installed file."""
    files = system_font_files()
    found = _family(family, [p for p in files if p.name in regular_names], [p for p in files if p.name in bold_names])
    return found or system_family(family)


class FontSettingError(ValueError):
    """A `fonts` entry of theme.yml that names no usable font."""


def theme_family(entry: object, static: Mapping[str, Path]) -> FontFamily:
    """One entry of theme.yml's `fonts`: a file in static/, {regular, bold} files, or a family."""
    if isinstance(entry, dict):
        regular, bold = entry.get("regular"), entry.get("bold", entry.get("regular"))
        if not isinstance(regular, str) or not isinstance(bold, str):
            raise FontSettingError("a font given as a mapping needs 'regular' (and may have 'bold') file paths")
        reg = _static_font(regular, static)
        return FontFamily(Path(regular).stem, reg, _static_font(bold, static))
    if not isinstance(entry, str) or not entry.strip():
        raise FontSettingError("each font is a file in static/ (fonts/brand.ttf) or a family name")
    entry = entry.strip()
    if entry.lower().endswith(SUFFIXES):
        ref = _static_font(entry, static)
        return FontFamily(Path(entry).stem, ref, ref)
    family = system_family(entry)
    if family is None:
        raise FontSettingError(f"no installed font family '{entry}'")
    return family


def _static_font(rel: str, static: Mapping[str, Path]) -> FontRef:
    path = static.get(rel.strip().lstrip("/"))
    if path is None:
        raise FontSettingError(f"font file not found in static/: {rel}")
    try:
        ImageFont.truetype(str(path), 12)
    except OSError:
        raise FontSettingError(f"not a font Pillow can read: static/{rel}") from None
    return FontRef.of(path)


def default_chain() -> FontChain:
    """Only the system fallbacks; Pillow's own small font when not even those are installed."""
    return FontChain(tuple(fallback_families()) or (_pillow_default(),))


def _pillow_default() -> FontFamily:  # pragma: no cover - every supported system has DejaVu or Noto
    import PIL

    ref = FontRef("", 0, f"pillow-{PIL.__version__}")
    return FontFamily("Pillow default", ref, ref)
