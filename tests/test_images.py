"""Responsive images: every content photo in several widths, WebP with a JPEG fallback."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image

from generator import draw
from generator.cache import ImageCache
from generator.cards import CardSpec
from generator.draw import Fonts, SourceFile
from generator.fonts import fallback_families
from generator.imaging import ImageMaker, Job, batches
from generator.posters import PosterSpec
from generator.qr import QrSpec
from generator.responsive import WIDTHS, ResizeSpec, widths_for


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


# ---- decoding once ------------------------------------------------------------------------


def _jobs_of_one_photo(tmp_path: Path, size: tuple[int, int]) -> tuple[list[Job], SourceFile]:
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", size, (120, 80, 40)).save(photo, quality=90)
    source = SourceFile(str(photo), "sha-of-photo")
    fonts = Fonts(tuple(fallback_families()))
    card = CardSpec(fonts=fonts, title="Tea", price="¥10.00", photo=source)
    square = PosterSpec(layout="square", fonts=fonts, title="Tea", url="https://example.com/", cta="Scan", photo=source)
    story = PosterSpec(layout="story", fonts=fonts, title="Tea", url="https://example.com/", cta="Scan", photo=source)
    sizes = ResizeSpec(source, size, widths_for(size[0]))
    jobs = [Job(("card.jpg",), card), Job(("square.jpg",), square), Job(("story.jpg",), story)]
    jobs.append(Job(tuple(f"p.{w}.{ext}" for w in sizes.widths for ext in ("webp", "jpg")), sizes))
    return jobs, source


def test_the_drawings_of_one_photo_decode_it_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A product's card, posters and photo sizes decode its photo once, at the size the
    largest of them needs (here the 1080 px rendition of a 2400 px photo, in draft mode)."""
    jobs, _ = _jobs_of_one_photo(tmp_path, (2400, 1800))
    decoded: list[tuple[int, int]] = []
    real = draw._decode

    def counting(path: str, size: tuple[int, int], *args: object) -> tuple[Image.Image, bool]:
        img, full = real(path, size)
        decoded.append(img.size)
        return img, full

    monkeypatch.setattr(draw, "_decode", counting)
    draw._PHOTOS.clear()
    with ImageMaker(ImageCache(tmp_path / "cache"), workers=1) as maker:
        files = maker.make(jobs)
    assert decoded == [(1200, 900)]  # 1/2 scale: the largest that still covers 1080 x 900
    assert len(files) == 3 + 6 and maker.drawn == 9
    with Image.open(files["p.1080.jpg"]) as made:
        assert made.size == (1080, 810)
    with Image.open(files["story.jpg"]) as made:
        assert made.size == (1080, 1920)


def test_batches_keep_the_drawings_of_a_photo_together(tmp_path: Path) -> None:
    jobs, source = _jobs_of_one_photo(tmp_path, (800, 600))
    others = [Job((f"qr/{n}.svg", f"qr/{n}.png"), QrSpec(f"https://example.com/{n}")) for n in range(6)]
    work = batches(others[:3] + jobs + others[3:], 2)
    together = [b for b in work if any(j.group == source.path for j in b)]
    assert len(together) == 1 and len(together[0]) == 4
    assert sorted(j.outputs[0] for b in work for j in b) == sorted(j.outputs[0] for j in others + jobs)


def test_a_photo_turned_by_its_exif_orientation_is_decoded_upright(tmp_path: Path) -> None:
    """Draft mode reduces the stored image, which a turned photo stores on its side: the size
    asked for is turned too, so the upright photo still covers it."""
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: shown turned 90 degrees clockwise
    Image.new("RGB", (1600, 800), (10, 120, 60)).save(path, exif=exif, quality=90)
    draw._PHOTOS.clear()
    img = draw.photo(SourceFile(str(path), "turned"), (790, 390))
    assert img.size == (800, 1600)  # upright, and not reduced to 400 px wide
    smaller = draw.photo(SourceFile(str(path), "turned-again"), (150, 300))
    assert smaller.size == (200, 400)  # 1/4 scale covers it


def test_many_jobs_are_looked_up_in_one_listing_of_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From LIST_FROM jobs the maker lists the cache once; what it finds is what a lookup of each
    file finds: cached drawings are copied, a drawing with a file missing is drawn again."""
    from generator import imaging

    monkeypatch.setattr(imaging, "LIST_FROM", 2)
    cache = ImageCache(tmp_path / "cache")
    jobs = [Job((f"qr/{n}.svg", f"qr/{n}.png"), QrSpec(f"https://example.com/{n}/")) for n in range(3)]
    with ImageMaker(cache, workers=1) as maker:
        first = maker.make(jobs)
    assert maker.drawn == 6 and sorted(first) == sorted(o for j in jobs for o in j.outputs)
    (cache.images / f"{jobs[1].key}.1").unlink()  # one file of one drawing gone
    listed: list[Path] = []
    real_listdir = imaging.os.listdir
    monkeypatch.setattr(imaging.os, "listdir", lambda path: listed.append(Path(path)) or real_listdir(path))
    with ImageMaker(cache, workers=1) as maker:
        again = maker.make(jobs)
    assert listed == [cache.images]
    assert (maker.cached, maker.drawn) == (4, 2) and again == first
