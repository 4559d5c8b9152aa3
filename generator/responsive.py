"""Responsive images: every content photo in a few widths, as WebP with a JPEG fallback.

A phone on a weak connection should not download a 1600-pixel photo to show it 360 pixels
wide. `plan_pictures` decides, without decoding anything, the widths of every content image
(product, variant, collection, story and store photos), their output paths and their cache
keys; imaging.py makes what the cache lacks, on all cores. Templates show them with the
`picture()` global (render.py), which writes a `<picture>` with `srcset` and `sizes`.

Choices, measured with bench/images.py on the demo's photos:

- Each source is decoded once, at reduced scale where the format allows (JPEG `draft()`
  decodes at 1/2, 1/4 or 1/8 scale), and every width is resized from that one decode.
- WebP `method=2`: about 2.5x faster than Pillow's default `method=4` for files about 5 %
  larger (at 720 px: 9 ms and 10.8 KB against 23 ms and 10.3 KB).
- JPEG with `optimize=True` (Huffman tables fitted to the image): 10 % smaller for 0.6 ms.

Output paths: `media/<image path without extension>.<width>w.webp` and `.jpg` (for example
`media/images/tea.720w.webp`), linked with a `?v=` version from the cache key, so a changed
photo is never served stale by a browser or a CDN.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from .cache import ImageCache
from .draw import REDUCING_GAP, RESAMPLE, SourceFile, photo
from .imaging import Job
from .model import Image, Product, Site

#: The widths made of every image (never wider than the source): a phone at 1x, a phone at
#: 2x or a desktop grid column, and a large screen.
WIDTHS = (360, 720, 1080)
#: The JPEG fallback width when a browser ignores srcset (the img's src).
FALLBACK_WIDTH = 720
WEBP_QUALITY = 80
WEBP_METHOD = 2
JPEG_QUALITY = 82


def widths_for(source_width: int, widths: tuple[int, ...] = WIDTHS) -> tuple[int, ...]:
    """The widths to make of an image `source_width` pixels wide: the standard widths smaller
    than it, and the source width itself when it is smaller than the largest standard one
    (so a 1000-pixel photo gives 360, 720 and 1000; a 200-pixel one only 200)."""
    found = [w for w in widths if w < source_width]
    if source_width <= max(widths):
        found.append(source_width)
    else:
        found.append(max(widths))
    return tuple(sorted(set(found)))


@dataclass(frozen=True)
class ResizeSpec:
    """One source image in several widths: for each width a WebP file then a JPEG file."""

    source: SourceFile
    size: tuple[int, int]  # the source's width and height
    widths: tuple[int, ...]
    webp_quality: int = WEBP_QUALITY
    webp_method: int = WEBP_METHOD
    jpeg_quality: int = JPEG_QUALITY

    @property
    def photo_need(self) -> tuple[SourceFile, tuple[int, int]]:
        """The photo and the size of its largest rendition (see imaging.py)."""
        largest = max(self.widths)
        return self.source, (largest, height_for(self.size, largest))

    def render(self) -> tuple[bytes, ...]:
        source = photo(*self.photo_need)
        made: dict[int, tuple[bytes, bytes]] = {}
        previous = source
        for width in sorted(self.widths, reverse=True):
            target = (width, height_for(self.size, width))
            # each width from the one above it while that is at most twice as wide: the
            # smaller resize costs less and looks the same; else from the decoded photo
            base = previous if previous.width <= 2 * width else source
            img = base if base.size == target else base.resize(target, RESAMPLE, reducing_gap=REDUCING_GAP)
            previous = img
            webp = io.BytesIO()
            img.save(webp, "WEBP", quality=self.webp_quality, method=self.webp_method)
            jpeg = io.BytesIO()
            img.save(jpeg, "JPEG", quality=self.jpeg_quality, optimize=True)
            made[width] = (webp.getvalue(), jpeg.getvalue())
        return tuple(data for width in self.widths for data in made[width])


def height_for(size: tuple[int, int], width: int) -> int:
    """The height of the image `size` scaled to `width`, keeping its aspect ratio."""
    return max(1, round(size[1] * width / size[0]))


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    webp: str  # site-relative URLs with ?v=
    jpeg: str


@dataclass(frozen=True)
class Picture:
    """What a template needs to show one content image responsively."""

    image: Image
    renditions: tuple[Rendition, ...]  # narrowest first

    @property
    def fallback(self) -> Rendition:
        """The JPEG for `src`: the narrowest one at least FALLBACK_WIDTH wide, or the widest."""
        return next((r for r in self.renditions if r.width >= FALLBACK_WIDTH), self.renditions[-1])


@dataclass
class PicturePlan:
    pictures: dict[str, Picture]  # by Image.path
    jobs: list[Job]

    def for_image(self, image: Image) -> Picture | None:
        return self.pictures.get(image.path)


def product_photos(product: Product) -> tuple[Image, ...]:
    """A product's photos, then its variants' (a preview keeps them by product: Reuse.each)."""
    return (*product.images, *(v.image for v in product.variants if v.image is not None))


def content_images(site: Site, photos: Iterable[tuple[Image, ...]] | None = None) -> list[Image]:
    """Every image the theme shows as a content photo, each once, in a stable order. `photos`
    are the products' `product_photos` in the shop's order, when the caller kept them."""
    if photos is None:
        photos = map(product_photos, site.products)
    shown = list(chain.from_iterable(photos))
    others = [c.image for c in site.collections] + [s.cover for s in site.stories] + [s.image for s in site.stores]
    shown += [other for other in others if other is not None]
    shown.reverse()  # so that the first image of each path is the one kept (in C: 10,000 products)
    found = dict(zip(map(attrgetter("path"), shown), shown, strict=True))
    return [found[key] for key in sorted(found)]


def plan_pictures(
    site: Site, site_dir: Path, cache: ImageCache, photos: Iterable[tuple[Image, ...]] | None = None
) -> PicturePlan:
    """Plan the renditions of every content image (reads only the hash of each source);
    `photos` as for `content_images`."""
    content = site_dir / "content"
    pictures: dict[str, Picture] = {}
    jobs: list[Job] = []
    stems: set[str] = set()
    for image in content_images(site, photos):
        path = content / image.path
        source = SourceFile(str(path), cache.file_hash(path))
        widths = widths_for(image.width)
        stem = str(PurePosixPath(image.path).with_suffix(""))
        if stem in stems:  # tea.jpg and tea.png side by side: keep the extension in the name
            stem = image.path
        stems.add(stem)
        outputs = tuple(f"media/{stem}.{w}w.{ext}" for w in widths for ext in ("webp", "jpg"))
        job = Job(outputs, ResizeSpec(source, (image.width, image.height), widths))
        jobs.append(job)
        version = f"?v={job.key[:8]}"
        renditions = tuple(
            Rendition(w, height_for((image.width, image.height), w),
                      quote(f"media/{stem}.{w}w.webp") + version, quote(f"media/{stem}.{w}w.jpg") + version)
            for w in widths
        )  # fmt: skip
        pictures[image.path] = Picture(image, renditions)
    return PicturePlan(pictures, jobs)
