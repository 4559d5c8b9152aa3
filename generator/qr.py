"""QR codes with segno: SVG markup for pages, PNG bytes to download, a Pillow image for posters.

Every code uses error correction level H (it still scans with a logo sticker or a crease on a
printed poster) and the standard quiet zone of 4 modules, drawn white so that a code also scans
on a dark page or photo.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    import segno

ERROR = "h"
BORDER = 4
PNG_SCALE = 10  # pixels per module of the downloadable PNG


@functools.lru_cache(maxsize=1024)
def make(data: str) -> segno.QRCode:
    """The code of `data`, kept: a product's QR files and its two posters encode the same URL,
    and choosing the mask (segno scores all eight in Python) is most of the cost of a code.
    (segno is imported here: a build that draws nothing never needs it.)"""
    import segno

    return segno.make_qr(data, error=ERROR, boost_error=False)


def svg(data: str, code: segno.QRCode | None = None) -> str:
    """Scalable markup (a viewBox, no fixed size) that works inline in HTML and as a file."""
    code = code or make(data)
    out = io.BytesIO()
    code.save(out, kind="svg", xmldecl=False, svgns=True, omitsize=True, border=BORDER,
              dark="#000", light="#fff", svgclass="qr-code", lineclass=None)  # fmt: skip
    return out.getvalue().decode("ascii")


def png(data: str, code: segno.QRCode | None = None, scale: int = PNG_SCALE) -> bytes:
    """A black-and-white PNG (one bit per pixel), `scale` pixels per module. Written with
    Pillow, whose C encoder is several times faster than segno's Python one."""
    framed = _framed(code or make(data)).convert("1", dither=Image.Dither.NONE)
    out = io.BytesIO()
    framed.resize((framed.width * scale, framed.height * scale), Image.Resampling.NEAREST).save(out, "PNG")
    return out.getvalue()


#: segno's matrix holds 1 for a dark module and 0 for a light one: as grey pixels.
_PIXELS = bytes([255, 0]) + bytes(254)


def _framed(code: segno.QRCode) -> Image.Image:
    """The code with its quiet zone, one pixel per module, black on white."""
    inner = int(code.symbol_size(scale=1, border=0)[0])
    rows = b"".join(code.matrix).translate(_PIXELS)
    framed = Image.new("L", (inner + 2 * BORDER, inner + 2 * BORDER), 255)
    framed.paste(Image.frombytes("L", (inner, inner), rows), (BORDER, BORDER))
    return framed


def image(data: str, size: int) -> Image.Image:
    """The code as a black-on-white image of at most `size` pixels square, quiet zone included.

    Modules are whole pixels (no blurry edges), so the image can be a little smaller than `size`.
    """
    framed = _framed(make(data))
    modules = framed.width
    scale = max(1, size // modules)
    return framed.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)


@dataclass(frozen=True)
class QrSpec:
    """A product's QR code files: the SVG and the PNG of `data`."""

    data: str

    def render(self) -> tuple[bytes, ...]:
        code = make(self.data)
        return svg(self.data, code).encode("ascii"), png(self.data, code)
