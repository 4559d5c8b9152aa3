"""Posters to post in a chat or a feed, or to print: a photo, the title and price, a summary, the
shop, and a QR code that leads to the page, with a call to action under it.

Two layouts: `square` (1080x1080: the photo on top, the texts and the code below it side by
side) and `story` (1080x1920, a phone screen: the shop, the photo, the texts, then a large code).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from PIL import Image, ImageDraw

from . import qr
from .draw import (
    Fit,
    Fonts,
    Palette,
    SourceFile,
    TextStyle,
    block_height,
    cover,
    draw_lines,
    encode_jpeg,
    fit,
    logo_image,
    rounded_mask,
)

SIZES = {"square": (1080, 1080), "story": (1080, 1920)}
BUDGET = 400_000  # bytes
PAD = 64
#: The size of the photo on each layout.
PHOTO_SIZES = {"square": (660, 660), "story": (1080 - 2 * PAD, 900)}
Layout = Literal["square", "story"]


@dataclass(frozen=True)
class QrPlace:
    """Where a poster's code card goes; the layout leaves room for it whatever the URL."""

    xy: tuple[int, int]
    code_size: int
    cta: Fit


@dataclass(frozen=True)
class PosterSpec:
    """Everything a poster shows; texts are already cleared of characters no font can draw."""

    layout: Layout
    fonts: Fonts
    title: str
    url: str  # what the QR code holds
    cta: str  # the call to action under the code: "Scan to buy"
    price: str = ""
    compare_at: str = ""
    sale_note: str = ""  # under the price: when a sale window's price holds ("Sale Dec 1 – 7")
    summary: str = ""
    shop: str = ""
    photo: SourceFile | None = None
    logo: SourceFile | None = None
    palette: Palette = field(default_factory=Palette)
    also_for: tuple[str, ...] = ()  # more codes: the same poster again for each (a promoter's ?ref= link)

    @property
    def size(self) -> tuple[int, int]:
        return SIZES[self.layout]

    @property
    def photo_need(self) -> tuple[SourceFile, tuple[int, int]] | None:
        """The photo this poster shows and the size it shows it at (see imaging.py)."""
        return None if self.photo is None else (self.photo, PHOTO_SIZES[self.layout])

    def render(self) -> tuple[bytes, ...]:
        """The poster for `url`, then the same poster for each of `also_for`: everything but the
        code is drawn once."""
        base, place = _square(self) if self.layout == "square" else _story(self)
        out = []
        for url in (self.url, *self.also_for):
            img = base.copy() if self.also_for else base
            _qr_card(img, url, place)
            out.append(encode_jpeg(img, BUDGET))
        return tuple(out)


def _photo(poster: Image.Image, spec: PosterSpec, box: tuple[int, int, int, int], radius: int = 0) -> None:
    x0, y0, x1, y1 = box
    size = (x1 - x0, y1 - y0)
    if spec.photo is not None:
        photo = cover(spec.photo, size)
    else:  # no photo: the accent colour, with the logo when there is one
        photo = Image.new("RGB", size, spec.palette.accent)
        if spec.logo is not None:
            logo = logo_image(spec.logo, min(size) // 2)
            photo.paste(logo, ((size[0] - logo.width) // 2, (size[1] - logo.height) // 2), logo)
    poster.paste(photo, (x0, y0), rounded_mask(size, radius) if radius else None)


def _qr_card(poster: Image.Image, url: str, place: QrPlace) -> tuple[int, int]:
    """The code on a white rounded card with the call to action under it; returns the card's size."""
    xy, code_size, cta = place.xy, place.code_size, place.cta
    code = qr.image(url, code_size).convert("RGB")
    inner = code.width
    pad = 12
    width = inner + 2 * pad
    height = inner + pad + block_height(cta) + 20
    x, y = xy
    draw = ImageDraw.Draw(poster)
    draw.rounded_rectangle((x, y, x + width, y + height), radius=24, fill=(255, 255, 255))
    poster.paste(code, (x + pad, y + pad))
    draw_lines(draw, (x + pad, y + pad + inner), cta, (0x1F, 0x1F, 0x1F), align="center", width=inner)
    return width, height


def _header(poster: Image.Image, spec: PosterSpec, xy: tuple[int, int], width: int, logo_size: int) -> None:
    """The logo and the shop's name on one line."""
    draw = ImageDraw.Draw(poster)
    x, y = xy
    if spec.logo is not None:
        logo = logo_image(spec.logo, logo_size)
        poster.paste(logo, (x, y + (logo_size - logo.height) // 2), logo)
        x += logo_size + 18
        width -= logo_size + 18
    if spec.shop:
        name = fit(spec.shop, width, [(TextStyle(spec.fonts, round(logo_size * 0.5), bold=True), 1)])
        draw_lines(draw, (x, y + (logo_size - name[0].step) // 2), name, spec.palette.text)


def _price_styles(spec: PosterSpec, size: int) -> tuple[TextStyle, TextStyle]:
    return TextStyle(spec.fonts, size, bold=True, line_height=1.2), TextStyle(spec.fonts, round(size * 0.6))


def _note_style(spec: PosterSpec, size: int) -> TextStyle:
    return TextStyle(spec.fonts, round(size * 0.6), bold=True, line_height=1.3)


def _price_height(spec: PosterSpec, size: int, width: float) -> int:
    price, was = _price_styles(spec, size)
    note = _note_style(spec, size).step if spec.sale_note else 0
    if not spec.compare_at or price.width(spec.price) + 24 + was.width(spec.compare_at) <= width:
        return price.step + note
    return price.step + was.step + note


def _price(draw: ImageDraw.ImageDraw, spec: PosterSpec, xy: tuple[int, int], size: int, width: float) -> int:
    """The price, the struck compare-at price beside it (or under it), and under them the dates
    of the sale window the price belongs to; returns the y below."""
    price, was = _price_styles(spec, size)
    x, y = xy
    w = price.draw(draw, (x, y), spec.price, spec.palette.price)
    bottom = y + price.step
    if spec.compare_at:
        if w + 24 + was.width(spec.compare_at) <= width:
            wx, wy = x + w + 24, y + price.ascent - was.ascent
        else:
            wx, wy = x, bottom
            bottom += was.step
        ww = was.draw(draw, (wx, wy), spec.compare_at, spec.palette.muted)
        strike = wy + was.ascent - round(was.size * 0.36)
        draw.line((wx - 2, strike, wx + ww + 2, strike), fill=spec.palette.muted, width=3)
    if spec.sale_note:
        note = fit(spec.sale_note, width, [(_note_style(spec, size), 1)])
        bottom = draw_lines(draw, (x, bottom), note, spec.palette.price)
    return bottom


def draw_square(spec: PosterSpec) -> Image.Image:
    """A square photo at the top left; beside it the shop and the code; the texts below."""
    poster, place = _square(spec)
    _qr_card(poster, spec.url, place)
    return poster


def draw_story(spec: PosterSpec) -> Image.Image:
    """The shop at the top, the photo, the texts, and a large code at the bottom right."""
    poster, place = _story(spec)
    _qr_card(poster, spec.url, place)
    return poster


def _square(spec: PosterSpec) -> tuple[Image.Image, QrPlace]:
    width, height = spec.size
    pal = spec.palette
    fonts = spec.fonts
    poster = Image.new("RGB", (width, height), pal.background)
    draw = ImageDraw.Draw(poster)
    margin = 48
    photo = PHOTO_SIZES["square"][0]
    _photo(poster, spec, (margin, margin, margin + photo, margin + photo), radius=28)

    # the column beside the photo: logo and shop name at the top, the code at the bottom
    col_x = margin + photo + 32
    col_w = width - margin - col_x
    y = margin + 8
    if spec.logo is not None:
        logo = logo_image(spec.logo, 96)
        poster.paste(logo, (col_x + (col_w - logo.width) // 2, y), logo)
        y += logo.height + 16
    if spec.shop:
        name = fit(spec.shop, col_w, [(TextStyle(fonts, 30, bold=True, line_height=1.2), 2),
                                      (TextStyle(fonts, 24, bold=True, line_height=1.2), 3)])  # fmt: skip
        draw_lines(draw, (col_x, y), name, pal.text, align="center", width=col_w)
    code_size = col_w - 24
    cta = fit(spec.cta, code_size, [(TextStyle(fonts, 30, bold=True, line_height=1.2), 1),
                                    (TextStyle(fonts, 24, bold=True, line_height=1.2), 2)])  # fmt: skip
    card_h = code_size + 12 + block_height(cta) + 20
    place = QrPlace((col_x, margin + photo - card_h), code_size, cta)

    # below, centred in the room left: the title, the price, the summary
    text_w = width - 2 * margin
    top, bottom = margin + photo + 24, height - margin + 8
    title = fit(spec.title, text_w, [(TextStyle(fonts, 54, bold=True, line_height=1.2), 1),
                                     (TextStyle(fonts, 46, bold=True, line_height=1.2), 2)])  # fmt: skip
    price_h = _price_height(spec, 54, text_w) + 6 if spec.price else 0
    summary_style = TextStyle(fonts, 32)
    room = bottom - top - block_height(title) - price_h - 8
    summary = None
    if spec.summary and room >= summary_style.step:
        summary = fit(spec.summary, text_w, [(summary_style, min(3, room // summary_style.step))])
    used = block_height(title) + price_h + (8 + block_height(summary) if summary else 0)
    y = top + max(0, (bottom - top - used) // 2)
    y = draw_lines(draw, (margin, y), title, pal.text)
    if spec.price:
        y = _price(draw, spec, (margin, y + 6), 54, text_w)
    if summary is not None:
        draw_lines(draw, (margin, y + 8), summary, pal.muted)
    return poster, place


def _story(spec: PosterSpec) -> tuple[Image.Image, QrPlace]:
    width, height = spec.size
    pal = spec.palette
    poster = Image.new("RGB", (width, height), pal.background)
    draw = ImageDraw.Draw(poster)
    fonts = spec.fonts

    _header(poster, spec, (PAD, 56), width - 2 * PAD, 72)
    photo_top, photo_h = 168, PHOTO_SIZES["story"][1]
    _photo(poster, spec, (PAD, photo_top, width - PAD, photo_top + photo_h), radius=32)

    # the code at the bottom right, the texts beside it and above it
    code_size = 330
    cta = fit(spec.cta, code_size, [(TextStyle(fonts, 36, bold=True, line_height=1.2), 1),
                                    (TextStyle(fonts, 28, bold=True, line_height=1.2), 2)])  # fmt: skip
    card_h = code_size + 12 + block_height(cta) + 20
    card_w = code_size + 24
    card_x, card_y = width - PAD - card_w, height - PAD - card_h
    place = QrPlace((card_x, card_y), code_size, cta)

    text_w = width - 2 * PAD
    y = photo_top + photo_h + 48
    title = fit(spec.title, text_w, [(TextStyle(fonts, 64, bold=True, line_height=1.2), 2),
                                     (TextStyle(fonts, 52, bold=True, line_height=1.2), 3)])  # fmt: skip
    y = draw_lines(draw, (PAD, y), title, pal.text)
    # the price and the summary may reach down beside the code: they keep to its left
    side_w = card_x - PAD - 40
    if spec.price:
        y = _price(draw, spec, (PAD, y + 16), 64, side_w)
    summary_style = TextStyle(fonts, 34)
    lines = (height - PAD - (y + 16)) // summary_style.step
    if spec.summary and lines > 0:
        draw_lines(draw, (PAD, y + 16), fit(spec.summary, side_w, [(summary_style, min(lines, 6))]), pal.muted)
    return poster, place
