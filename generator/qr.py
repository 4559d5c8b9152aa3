"""QR codes with segno: SVG markup for pages, PNG bytes to download, a Pillow image for posters.

Every code uses error correction level H (it still scans with a logo sticker or a crease on a
printed poster) and the standard quiet zone of 4 modules, drawn white so that a code also scans
on a dark page or photo.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from PIL import Image

ERROR = "h"
BORDER = 4
PNG_SCALE = 10  # pixels per module of the downloadable PNG


def make(data: str) -> segno.QRCode:
    return segno.make_qr(data, error=ERROR, boost_error=False)


def svg(data: str, code: segno.QRCode | None = None) -> str:
    """Scalable markup (a viewBox, no fixed size) that works inline in HTML and as a file."""
    code = code or make(data)
    out = io.BytesIO()
    code.save(out, kind="svg", xmldecl=False, svgns=True, omitsize=True, border=BORDER,
              dark="#000", light="#fff", svgclass="qr-code", lineclass=None)  # fmt: skip
    return out.getvalue().decode("ascii")


def png(data: str, code: segno.QRCode | None = None, scale: int = PNG_SCALE) -> bytes:
    code = code or make(data)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=BORDER, dark="#000", light="#fff")
    return out.getvalue()


def image(data: str, size: int) -> Image.Image:
    """The code as a black-on-white image of at most `size` pixels square, quiet zone included.

    Modules are whole pixels (no blurry edges), so the image can be a little smaller than `size`.
    """
    code = make(data)
    modules = int(code.symbol_size(scale=1, border=BORDER)[0])
    scale = max(1, size // modules)
    inner = int(code.symbol_size(scale=1, border=0)[0])
    rows = bytes(0 if bit else 255 for row in code.matrix for bit in row)
    matrix = Image.frombytes("L", (inner, inner), rows)
    framed = Image.new("L", (modules, modules), 255)
    framed.paste(matrix, (BORDER, BORDER))
    return framed.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)


@dataclass(frozen=True)
class QrSpec:
    """A product's QR code files: the SVG and the PNG of `data`."""

    data: str

    def render(self) -> tuple[bytes, ...]:
        code = make(self.data)
        return svg(self.data, code).encode("ascii"), png(self.data, code)
