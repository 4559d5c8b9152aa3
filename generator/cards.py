"""Share cards: the 1200x630 picture that a chat app or social network shows with a link.

The photo fills the left square (cover-fit, centred); on the right, on the theme's background,
the shop's logo and name, the title (up to three lines, smaller when long, then cut with '…'),
a subtitle and the price, with the struck compare-at price when on sale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from .draw import Fit, Fonts, Palette, TextStyle, block_height, cover, draw_lines, encode_jpeg, fit, logo_image
from .draw import SourceFile as SourceFile

WIDTH, HEIGHT = 1200, 630
BUDGET = 200_000  # bytes
PHOTO = HEIGHT  # the photo is a square on the left
PAD = 52
LOGO = 64


@dataclass(frozen=True)
class CardSpec:
    """Everything a card shows; texts are already cleared of characters no font can draw."""

    fonts: Fonts
    title: str
    subtitle: str = ""
    price: str = ""
    compare_at: str = ""
    badge: str = ""
    shop: str = ""
    photo: SourceFile | None = None
    logo: SourceFile | None = None
    palette: Palette = field(default_factory=Palette)

    def render(self) -> tuple[bytes, ...]:
        return (encode_jpeg(draw_card(self), BUDGET),)

    @property
    def photo_need(self) -> tuple[SourceFile, tuple[int, int]] | None:
        """The photo this card shows and the size it shows it at (see imaging.py)."""
        return None if self.photo is None else (self.photo, (PHOTO, HEIGHT))


@dataclass(frozen=True)
class CardLayout:
    left: int  # x of the text column
    width: int  # its width
    title: Fit
    subtitle: Fit | None
    shop: Fit | None
    price_height: int  # the price block at the bottom; 0 without a price
    compare_inline: bool  # the struck price fits beside the price (else it goes above it)


def layout(spec: CardSpec) -> CardLayout:
    """Where the texts go and how they wrap: the title takes the room the subtitle leaves."""
    left = (PHOTO if spec.photo is not None else PHOTO // 2) + PAD
    width = WIDTH - left - PAD
    fonts = spec.fonts
    title = fit(spec.title, width, [(TextStyle(fonts, 60, bold=True, line_height=1.2), 2),
                                    (TextStyle(fonts, 50, bold=True, line_height=1.2), 3),
                                    (TextStyle(fonts, 44, bold=True, line_height=1.2), 3)])  # fmt: skip
    price, was = _price_styles(fonts)
    compare_inline = price.width(spec.price) + 24 + was.width(spec.compare_at) <= width
    price_height = 0
    if spec.price:
        price_height = price.step + 24 + (0 if compare_inline or not spec.compare_at else was.step)
    room = HEIGHT - 2 * PAD - LOGO - 36 - block_height(title) - price_height
    subtitle = None
    style = TextStyle(fonts, 30)
    if spec.subtitle and room >= style.step + 8:
        lines = min(3 if spec.price else 5, (room - 8) // style.step)
        subtitle = fit(spec.subtitle, width, [(style, lines)])
    shop = None
    if spec.shop:
        shop = fit(spec.shop, width - (LOGO + 16 if spec.logo else 0), [(TextStyle(fonts, 30, bold=True), 1)])
    return CardLayout(left, width, title, subtitle, shop, price_height, compare_inline)


def _price_styles(fonts: Fonts) -> tuple[TextStyle, TextStyle]:
    return TextStyle(fonts, 56, bold=True, line_height=1.2), TextStyle(fonts, 34, line_height=1.2)


def draw_card(spec: CardSpec) -> Image.Image:
    pal = spec.palette
    card = Image.new("RGB", (WIDTH, HEIGHT), pal.background)
    draw = ImageDraw.Draw(card)
    spot = layout(spec)

    if spec.photo is not None:
        card.paste(cover(spec.photo, (PHOTO, HEIGHT)), (0, 0))
    else:  # no photo: an accent panel with the logo, or the first letter of the title
        draw.rectangle((0, 0, PHOTO // 2 - 1, HEIGHT), fill=pal.accent)
        if spec.logo is not None:
            logo = logo_image(spec.logo, 200)
            card.paste(logo, ((PHOTO // 2 - logo.width) // 2, (HEIGHT - logo.height) // 2), logo)
    draw.rectangle((spot.left - PAD, 0, spot.left - PAD + 7, HEIGHT), fill=pal.accent)
    if spec.badge and spec.photo is not None:
        _badge(draw, spec, (28, 28))

    # the shop, at the top
    y = PAD
    x = spot.left
    if spec.logo is not None and spec.photo is not None:
        logo = logo_image(spec.logo, LOGO)
        card.paste(logo, (x, y + (LOGO - logo.height) // 2), logo)
        x += LOGO + 16
    if spot.shop is not None:
        style = spot.shop[0]
        draw_lines(draw, (x, y + (LOGO - style.step) // 2), spot.shop, pal.muted)
    y += LOGO + 36

    # the title, the subtitle
    y = draw_lines(draw, (spot.left, y), spot.title, pal.text)
    if spot.subtitle is not None:
        draw_lines(draw, (spot.left, y + 8), spot.subtitle, pal.muted)

    # the price, at the bottom; the struck compare-at price beside it, or above it when too long
    if spec.price:
        price, was = _price_styles(spec.fonts)
        top = HEIGHT - PAD - price.step
        width = price.draw(draw, (spot.left, top), spec.price, pal.price)
        if spec.compare_at:
            if spot.compare_inline:
                wx, wtop = spot.left + width + 24, top + price.ascent - was.ascent
            else:
                wx, wtop = spot.left, top - was.step
            w = was.draw(draw, (wx, wtop), spec.compare_at, pal.muted)
            strike = wtop + was.ascent - round(was.size * 0.36)
            draw.line((wx - 2, strike, wx + w + 2, strike), fill=pal.muted, width=3)
    return card


def _badge(draw: ImageDraw.ImageDraw, spec: CardSpec, xy: tuple[int, int]) -> None:
    style = TextStyle(spec.fonts, 30, bold=True, line_height=1.2)
    width = style.width(spec.badge)
    x, y = xy
    draw.rounded_rectangle((x, y, x + width + 40, y + style.step + 16), radius=(style.step + 16) // 2,
                           fill=spec.palette.accent)  # fmt: skip
    style.draw(draw, (x + 20, y + 8), spec.badge, spec.palette.on_accent)
