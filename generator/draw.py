"""Drawing helpers shared by share cards and posters: colours, photos, text and JPEG files.

Everything here is a pure function of its arguments (file paths are read, never written), so
that cards and posters can be drawn in worker processes and cached by their inputs.
"""

from __future__ import annotations

import bisect
import functools
import io
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, ImageOps

from .fonts import FontFamily

RGB = tuple[int, int, int]

DEFAULT_ACCENT: RGB = (0x2F, 0x6B, 0x4F)
DEFAULT_BACKGROUND: RGB = (0xFA, 0xF7, 0xF2)
ELLIPSIS = "…"

#: How photos are resized (cards, posters and the responsive sizes): bicubic, first shrunk by
#: a whole factor with a box filter when more than twice too large (Pillow's own `thumbnail`
#: defaults). Measured with bench/images.py on the demo's photos: 35-45 % faster than Lanczos,
#: and 52-57 dB PSNR from it, a difference no eye sees.
RESAMPLE = Image.Resampling.BICUBIC
REDUCING_GAP = 2.0

_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def parse_colour(value: object) -> RGB | None:
    """'#2f6b4f' or '#fff' as an RGB triple; None for anything else."""
    if not isinstance(value, str) or not _HEX.match(value.strip()):
        return None
    digits = value.strip().lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return (r, g, b)


def luminance(colour: RGB) -> float:
    """Relative luminance (WCAG), 0 for black to 1 for white."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return (r, g, bl)


@dataclass(frozen=True)
class Palette:
    """The theme's two colours, and the text colours that read well on them."""

    accent: RGB = DEFAULT_ACCENT
    background: RGB = DEFAULT_BACKGROUND

    @property
    def text(self) -> RGB:
        return (0x1F, 0x1F, 0x1F) if luminance(self.background) > 0.4 else (0xF5, 0xF5, 0xF5)

    @property
    def muted(self) -> RGB:
        return mix(self.text, self.background, 0.45)

    @property
    def on_accent(self) -> RGB:
        white, black = (255, 255, 255), (0x1F, 0x1F, 0x1F)
        return white if contrast(self.accent, white) >= contrast(self.accent, black) else black

    @property
    def price(self) -> RGB:
        """The accent, unless it is too close to the background to read: then the text colour."""
        return self.accent if contrast(self.accent, self.background) >= 3 else self.text


# ---- photos ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFile:
    """A file that an image is drawn from. The drawing reads `path`; the cache key uses only
    `sha256`, the hash of its bytes, so a moved file with the same contents is the same input."""

    path: str = field(metadata={"key": False})
    sha256: str = ""


#: Decoded photos kept by each process, so that a product's card, posters and photo sizes,
#: drawn one after the other (imaging.py keeps them together), decode its photo once.
PHOTOS_KEPT = 4
_PHOTOS: OrderedDict[tuple[str, str], tuple[Image.Image, bool]] = OrderedDict()


def photo(source: SourceFile, size: tuple[int, int]) -> Image.Image:
    """The photo upright and in RGB, at least `size` on each side where the file is that large.

    A decode that is large enough is reused: the first drawing of a photo (or imaging.py's
    `prime` with the largest size any of its drawings needs) decodes it, the others derive
    from it. The image returned is shared: callers must not change it."""
    key = (source.path, source.sha256)
    found = _PHOTOS.get(key)
    if found is not None:
        img, full = found
        if full or (img.width >= size[0] and img.height >= size[1]):
            _PHOTOS.move_to_end(key)
            return img
    img, full = _decode(source.path, size)
    _PHOTOS[key] = (img, full)
    _PHOTOS.move_to_end(key)
    while len(_PHOTOS) > PHOTOS_KEPT:
        _PHOTOS.popitem(last=False)
    return img


#: A decoded photo more than this much larger than every drawing of it needs is shrunk once,
#: so that each drawing resizes from a smaller image (see `prime`).
SHRINK_OVER = 1.25


def prime(source: SourceFile, size: tuple[int, int]) -> None:
    """Decode a photo now for the drawings about to be made, `size` being the largest that any
    of them needs (on each side). A decode much larger than that (JPEG draft mode reduces only
    by whole powers of two) is shrunk once to just cover `size`: a 1600-pixel photo becomes
    1080 pixels, which is the largest responsive size itself, and the card's and posters'
    photos are resized from it at less than half the cost."""
    img = photo(source, size)
    scale = max(size[0] / img.width, size[1] / img.height)
    if scale * SHRINK_OVER >= 1:
        return
    target = (max(size[0], round(img.width * scale)), max(size[1], round(img.height * scale)))
    shrunk = img.resize(target, RESAMPLE, reducing_gap=REDUCING_GAP)
    _PHOTOS[(source.path, source.sha256)] = (shrunk, False)


def _decode(path: str, size: tuple[int, int], background: RGB = (255, 255, 255)) -> tuple[Image.Image, bool]:
    """The photo decoded no larger than needed, and whether that is its full size."""
    with Image.open(path) as img:
        img.seek(0)
        orientation = img.getexif().get(0x0112, 1)
        full_size = img.size
        if img.format == "JPEG":
            # decode a big JPEG at 1/2, 1/4 or 1/8 scale, much faster; the EXIF orientation
            # turns the stored image, so a turned photo asks for its size turned back
            want = (size[1], size[0]) if orientation in (5, 6, 7, 8) else size
            img.draft("RGB", want)
        full = img.size == full_size
        img.load()
        upright = ImageOps.exif_transpose(img) if orientation != 1 else img
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        base = Image.new("RGB", rgba.size, background)
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base, full
    return upright.convert("RGB"), full


def open_rgb(path: str, size: tuple[int, int], background: RGB = (255, 255, 255)) -> Image.Image:
    """A photo upright and in RGB (transparency over `background`), decoded no larger than needed."""
    return _decode(path, size, background)[0]


def cover_need(photo_size: tuple[int, int] | None, size: tuple[int, int]) -> tuple[int, int]:
    """The decoded size that `cover` needs to fill `size` from a photo of `photo_size`."""
    if photo_size is None:
        return size
    scale = max(size[0] / photo_size[0], size[1] / photo_size[1])
    return (max(size[0], round(photo_size[0] * scale)), max(size[1], round(photo_size[1] * scale)))


def cover(source: SourceFile, size: tuple[int, int]) -> Image.Image:
    """The photo scaled to fill `size` exactly, cropped around its centre.

    Resized with `reducing_gap`: a photo more than twice as large is first shrunk by a whole
    factor with a box filter (fast), then resampled the rest of the way."""
    img = photo(source, size)
    scale = min(img.width / size[0], img.height / size[1])
    w, h = size[0] * scale, size[1] * scale
    x, y = (img.width - w) / 2, (img.height - h) / 2
    return img.resize(size, RESAMPLE, box=(x, y, x + w, y + h), reducing_gap=REDUCING_GAP)


@functools.lru_cache(maxsize=16)
def logo_image(source: SourceFile, box: int) -> Image.Image:
    """The logo in RGBA, scaled to fit a `box` pixels square (kept: every picture shows it).
    The image returned is shared: callers must not change it."""
    with Image.open(source.path) as img:
        img.seek(0)
        logo = ImageOps.exif_transpose(img).convert("RGBA")
    logo.thumbnail((box, box), Image.Resampling.LANCZOS)
    return logo


@functools.lru_cache(maxsize=16)
def rounded_mask(size: tuple[int, int], radius: int) -> Image.Image:
    """A mask with rounded corners (kept: every poster of a layout uses the same one)."""
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), radius, fill=255)
    return mask


# ---- text --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fonts:
    """The font chain of one image, and which characters are drawn by a later font than the
    first (their index in `families`). Texts given with it have been resolved already: they
    hold no character that no font can draw."""

    families: tuple[FontFamily, ...]
    fallback: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class TextStyle:
    fonts: Fonts
    size: int
    bold: bool = False
    line_height: float = 1.3
    _map: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_map", dict(self.fonts.fallback))

    def font(self, index: int = 0) -> ImageFont.FreeTypeFont:
        family = self.fonts.families[index]
        return (family.bold if self.bold else family.regular).load(self.size)

    def runs(self, text: str) -> list[tuple[str, ImageFont.FreeTypeFont]]:
        """`text` cut where the font changes."""
        out: list[tuple[str, int]] = []
        for ch in text:
            index = self._map.get(ch, 0)
            if out and out[-1][1] == index:
                out[-1] = (out[-1][0] + ch, index)
            else:
                out.append((ch, index))
        return [(part, self.font(index)) for part, index in out]

    def width(self, text: str) -> float:
        return sum(font.getlength(part) for part, font in self.runs(text))

    @property
    def step(self) -> int:
        """Distance between baselines."""
        return round(self.size * self.line_height)

    @property
    def ascent(self) -> int:
        """From the top of a line box to its baseline."""
        return round(self.size * (0.9 + (self.line_height - 1.2) / 2))

    def draw(self, draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, fill: RGB) -> float:
        """Draw one line with its box's top-left at `xy`; returns the line's width."""
        x, top = xy
        baseline = top + self.ascent
        for part, font in self.runs(text):
            draw.text((x, baseline), part, font=font, fill=fill, anchor="ls")
            x += font.getlength(part)
        return x - xy[0]


# Characters that may not start a line (closing punctuation), or end one (opening).
_NO_START = set("，。、！？：；）」』】》〉〕’”,.!?:;)]}…%·・ー々〜～")
_NO_END = set("（「『【《〈〔‘“([{#$¥￥")


def _is_cjk(ch: str) -> bool:
    if ch in _NO_START or ch in _NO_END:
        return False
    return unicodedata.east_asian_width(ch) in ("W", "F")


def atoms(text: str) -> list[str]:
    """`text` cut where a line may break: after spaces and hyphens, around CJK characters, but
    never before closing or after opening punctuation. Joined again, they are `text`."""
    out: list[str] = []
    current = ""
    for ch in text:
        if not current:
            current = ch
            continue
        prev = current[-1]
        breakable = (
            (prev.isspace() and not ch.isspace())
            or (prev in "-–—/" and not ch.isspace())
            or ((_is_cjk(ch) or _is_cjk(prev)) and not ch.isspace())
        )
        if ch in _NO_START or prev in _NO_END:
            breakable = False
        if breakable:
            out.append(current)
            current = ch
        else:
            current += ch
    if current:
        out.append(current)
    return out


Measure = Callable[[str], float]


def ellipsize(text: str, max_width: float, measure: Measure, force: bool = False) -> str:
    """`text` if it fits (and `force` is off), else its longest start that fits with '…' added:
    cut at a word boundary when one is near the end, without a dangling comma or space."""
    text = text.rstrip()
    if not force and measure(text) <= max_width:
        return text
    # the longest prefix p with measure(p + '…') <= max_width, by bisection
    lengths = range(len(text) + 1)
    fits = bisect.bisect_right(lengths, False, key=lambda n: measure(_cut(text[:n]) + ELLIPSIS) > max_width) - 1
    keep = max(0, fits)
    cut = text[:keep]
    if 0 < keep < len(text) and not text[keep].isspace() and not _is_cjk(text[keep]):
        space = cut.rfind(" ")
        if space >= len(cut) * 0.6:
            cut = cut[:space]
    return _cut(cut) + ELLIPSIS


def _cut(text: str) -> str:
    return text.rstrip(" \t,;:.-–—·、，；：。")


def wrap(text: str, max_width: float, max_lines: int, measure: Measure) -> tuple[list[str], bool]:
    """Lines of at most `max_width` (by `measure`), at most `max_lines` of them; the last one
    ends with '…' when the text does not fit. A line break in `text` starts a new line.
    Returns the lines and whether the text was cut."""
    lines: list[str] = []
    paragraphs = [" ".join(part.split()) for part in text.split("\n")]
    paragraphs = [part for part in paragraphs if part]
    for paragraph in paragraphs:
        if len(lines) == max_lines:
            lines[-1] = ellipsize(lines[-1], max_width, measure, force=True)
            return lines, True
        more, cut = _wrap_paragraph(paragraph, max_width, max_lines - len(lines), measure)
        lines += more
        if cut:
            return lines, True
    return lines, False


def _wrap_paragraph(text: str, max_width: float, max_lines: int, measure: Measure) -> tuple[list[str], bool]:
    lines: list[str] = []
    line = ""
    pieces = atoms(text)
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        candidate = line + piece
        if measure(candidate.rstrip()) <= max_width:
            line = candidate
            i += 1
            continue
        if not line:  # a single word wider than the line: break it between characters
            head = _longest_prefix(piece, max_width, measure)
            lines.append(head)
            pieces[i] = piece[len(head) :]
        else:
            lines.append(line.rstrip())
            line = ""
        if len(lines) == max_lines:
            break
    else:
        if line.strip():
            lines.append(line.rstrip())
        return lines, False
    if not "".join(pieces[i:]).strip():
        return lines, False
    lines[-1] = ellipsize(lines[-1], max_width, measure, force=True)
    return lines, True


def _longest_prefix(text: str, max_width: float, measure: Measure) -> str:
    lengths = range(1, len(text) + 1)
    n = bisect.bisect_right(lengths, False, key=lambda k: measure(text[:k]) > max_width)
    return text[: max(1, n)]


Fit = tuple[TextStyle, list[str]]


def fit(text: str, max_width: float, options: Sequence[tuple[TextStyle, int]]) -> Fit:
    """The first (style, line count) option whose wrapping does not cut `text`; else the last
    option, cut with an ellipsis."""
    lines: list[str] = []
    style = options[-1][0]
    for style, max_lines in options:
        lines, cut = wrap(text, max_width, max_lines, style.width)
        if not cut:
            return style, lines
    return style, lines


def draw_lines(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    block: Fit,
    fill: RGB,
    align: Literal["left", "center"] = "left",
    width: float = 0,
) -> int:
    """Draw wrapped lines from `xy` down; returns the y below the last line."""
    style, lines = block
    x, y = xy[0], round(xy[1])
    for line in lines:
        dx = (width - style.width(line)) / 2 if align == "center" else 0
        style.draw(draw, (x + dx, y), line, fill)
        y += style.step
    return y


def block_height(block: Fit) -> int:
    style, lines = block
    return style.step * len(lines)


# ---- files -------------------------------------------------------------------------------

JPEG_QUALITY = 88


def encode_jpeg(img: Image.Image, budget: int) -> bytes:
    """An optimised baseline JPEG of at most `budget` bytes: quality 88, lowered in steps only
    for a photo so detailed that it would not fit otherwise.

    Not progressive: measured on the cards and posters, progressive encoding takes 2.5 to 3.5
    times as long (a 1080x1920 poster: 46 ms against 18 ms) for files 4-6 % smaller; these
    files are downloaded whole (by a chat app's crawler, or to print), never watched loading."""
    data = b""
    rgb = img.convert("RGB") if img.mode != "RGB" else img
    for quality in (JPEG_QUALITY, 82, 76, 70, 62, 55):
        out = io.BytesIO()
        rgb.save(out, "JPEG", quality=quality, optimize=True)
        data = out.getvalue()
        if len(data) <= budget:
            break
    return data
