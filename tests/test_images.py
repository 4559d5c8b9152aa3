"""Responsive images: every content photo in several widths, WebP with a JPEG fallback."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image

from generator.responsive import WIDTHS, widths_for


class Pictures(HTMLParser):
    """The <img> elements of a page, each with the <source> of its <picture> if it has one."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self._source: dict[str, str | None] | None = None
        self._in_picture = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "picture":
            self._in_picture, self._source = True, None
        elif tag == "source" and self._in_picture:
            self._source = dict(attrs)
        elif tag == "img":
            found = dict(attrs)
            found["_picture"] = "yes" if self._in_picture else None
            found["_webp"] = self._source.get("srcset") if self._source else None
            found["_webp_sizes"] = self._source.get("sizes") if self._source else None
            self.images.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "picture":
            self._in_picture, self._source = False, None


def images_of(page: Path) -> list[dict[str, str | None]]:
    parser = Pictures()
    parser.feed(page.read_text("utf-8"))
    return parser.images


def content_images(page: Path) -> list[dict[str, str | None]]:
    """The images of the shop's photos (not the logo, the payment QR code or script slots)."""
    return [i for i in images_of(page) if "/media/images/" in (i.get("src") or "") and "logo" not in (i["src"] or "")]


def srcset(value: str | None) -> list[tuple[str, int]]:
    assert value
    return [(url, int(w[:-1])) for url, w in (part.strip().split(" ") for part in value.split(","))]


@pytest.mark.parametrize(
    ("source", "expected"),
    [(1600, (360, 720, 1080)), (1080, (360, 720, 1080)), (1000, (360, 720, 1000)), (500, (360, 500)), (200, (200,))],
)
def test_widths_are_never_wider_than_the_source(source: int, expected: tuple[int, ...]) -> None:
    assert widths_for(source) == expected
    assert max(widths_for(source)) <= min(source, max(WIDTHS))


def _file(root: Path, url: str | None) -> Path:
    assert url
    return root / unquote(urlsplit(url).path).lstrip("/")


def test_every_content_image_is_a_picture_with_webp_and_jpeg_in_several_widths(built_demo_theme: Path) -> None:
    built_demo = built_demo_theme  # in each bundled theme
    pages = sorted(built_demo.rglob("*.html"))
    seen = 0
    for page in pages:
        for img in content_images(page):
            seen += 1
            where = f"{page.relative_to(built_demo)}: {img['src']}"
            assert img["_picture"] and img["_webp"] and img["_webp_sizes"], where
            assert img.get("width") and img.get("height"), where  # no layout shift
            ratio = int(img["width"] or 0) / int(img["height"] or 1)
            webps = srcset(img["_webp"])
            assert len(webps) >= 2 and [w for _, w in webps] == sorted(w for _, w in webps), where
            # the fallback: one JPEG of the picture's sizes, for browsers without WebP
            assert re.search(r"\.\d+w\.jpg\?v=\w+$", img["src"] or ""), where
            with Image.open(_file(built_demo, img["src"])) as fallback:
                assert fallback.format == "JPEG" and fallback.width in [w for _, w in webps], where
            for url, width in webps:
                with Image.open(io.BytesIO(_file(built_demo, url).read_bytes())) as made:
                    assert made.format == "WEBP" and made.width == width, url
                    assert abs(made.width / made.height - ratio) < 0.01, url
                jpeg = _file(built_demo, url.replace(".webp?", ".jpg?"))
                with Image.open(jpeg) as made:
                    assert made.format == "JPEG" and made.width == width, jpeg
    assert seen > 50


def test_the_first_image_is_eager_and_the_rest_lazy(built_demo: Path) -> None:
    product = content_images(built_demo / "products/longjing-2026/index.html")
    assert product[0].get("fetchpriority") == "high" and "loading" not in product[0]
    assert all(i.get("loading") == "lazy" and i.get("decoding") == "async" for i in product[1:])
    story = next(p for p in (built_demo / "stories").rglob("index.html") if p.parent.name != "stories")
    assert content_images(story)[0].get("fetchpriority") == "high"
    home = content_images(built_demo / "index.html")
    assert sum(1 for i in home if i.get("fetchpriority") == "high") >= 1
    assert home[-1].get("loading") == "lazy"


def test_the_gallery_thumbnails_hold_every_size_of_their_photo(built_demo: Path) -> None:
    html = (built_demo / "products/longjing-2026/index.html").read_text("utf-8")
    thumbs = re.findall(r'<a class="gallery__thumb".*?</a>', html, re.S)
    assert len(thumbs) == 3
    for thumb in thumbs:  # product.js copies a thumbnail's WebP srcset into the main picture
        assert re.search(r'<source type="image/webp" srcset="[^"]+\.360w\.webp\?v=\w+ 360w, [^"]+ 1000w"', thumb)
    # a variant whose photo has no thumbnail carries its sizes itself
    variants = re.findall(r"<input[^>]*data-image=[^>]*>", html)
    assert variants == [] or all("data-image-webp-srcset" in v for v in variants)


def test_a_changed_photo_remakes_only_its_own_sizes(demo_copy: Path, tmp_path: Path) -> None:
    from generator.build import build

    out, cache = tmp_path / "out", tmp_path / "cache"
    first = build(demo_copy, out, cache_dir=cache)
    page = out / "products/longjing-2026/index.html"
    version = re.compile(r"longjing-2026-(\d)\.720w\.jpg\?v=(\w+)")
    before = dict(version.findall(page.read_text("utf-8")))
    assert build(demo_copy, out, cache_dir=cache).images_drawn == 0
    photo = demo_copy / "content/images/products/longjing-2026-1.jpg"
    with Image.open(photo) as img:
        img.convert("RGB").rotate(180).save(photo, quality=85)
    again = build(demo_copy, out, cache_dir=cache)
    # its three widths in two formats, and the pictures drawn from it (card, posters, shop card)
    assert 6 <= again.images_drawn < first.images_drawn // 4
    after = dict(version.findall(page.read_text("utf-8")))
    assert after["1"] != before["1"] and (after["2"], after["3"]) == (before["2"], before["3"])
