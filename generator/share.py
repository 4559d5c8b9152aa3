"""What the shop gives people to share: a card for every page, posters and QR codes.

`plan_share` decides every picture (its inputs, its output path, its cache key) and the share
text of every product, without drawing anything; imaging.py draws what the cache lacks.

Output paths:

    share/products/<id>.jpg, share/collections/<id>.jpg, share/stories/<slug>.jpg,
    share/shop/home.jpg, share/shop/stores.jpg           cards, 1200x630
    posters/<product-id>-square.jpg, posters/<product-id>-story.jpg
    posters/stores/<store-id>.jpg, posters/shop.jpg      posters, 1080x1080 and 1080x1920
    qr/<product-id>.svg, qr/<product-id>.png              the product page's QR code
    kit/<code>-<hash>/posters/<product-id>-square.jpg, …-story.jpg, kit/<code>-<hash>/qr/<product-id>.svg, .png
                                                          a promoter's posters and codes, with ?ref=CODE

A promoter's pictures live under the kit's unlisted folder, so nothing public leads to them.
A product's posters for every promoter are one job with its own posters: everything but the
code is drawn once, and cached together (a price change redraws them all; a new promoter too).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from operator import attrgetter
from pathlib import Path
from urllib.parse import urlencode

from babel.dates import format_interval, format_skeleton

from . import cards, posters
from .cache import ImageCache
from .depends import stable_hash
from .draw import DEFAULT_ACCENT, DEFAULT_BACKGROUND, Fonts, Palette, SourceFile, parse_colour
from .errors import Problem, Severity
from .fonts import (
    FontChain,
    FontFamily,
    FontSettingError,
    Resolved,
    describe_missing,
    fallback_families,
    theme_family,
)
from .i18n import Text, english
from .imagekeys import key_of
from .imaging import Drawing, Job, Later
from .markup import plain_text
from .model import Image, KitItem, Product, ProductShare, PromoterKit, ShareImage, Site, content_print
from .money import Money, babel_locale, format_money
from .promotions import Promotion, best_sale
from .qr import QrSpec
from .reuse import MISSING, Reuse
from .sharememo import Entry, ShareMemo
from .themes import Theme

LAYOUTS: tuple[posters.Layout, ...] = ("square", "story")
#: The preview's table of each product's planned pictures and share (reuse.py).
SHARE = "share"
#: The preview's plans of the products, by product id, kept from one rebuild to the next (Reuse.each).
PLANS = "share plans"


class QrSvg:
    """A QR code's SVG markup, read from its drawing in the image cache when a template prints
    it (`{{ product.share.qr_svg }}`): most pages never do (the default theme links the file), so
    a build need not read 10,000 files for it. The drawing is made before any page renders."""

    __slots__ = ("file",)

    def __init__(self, file: str) -> None:
        self.file = file  # (a name, not a Path: a build makes 10,000)

    def __html__(self) -> str:
        return Path(self.file).read_bytes().decode("ascii")  # SVG our qr.py drew: markup to print as it is

    def __str__(self) -> str:
        return self.__html__()

    def __bool__(self) -> bool:
        return True


def words(text: Text) -> dict[str, str]:
    """The fixed words drawn on the pictures, in the shop's language (from the theme catalogs)."""
    _ = text
    return {
        "scan_to_buy": _("Scan to buy"),
        "scan_to_visit": _("Scan to visit the shop"),
        "sale": _("Sale"),
        "stores": _("Our stores"),
    }


@dataclass
class SharePlan:
    """Every share picture of the shop, planned: what templates link to and what to draw."""

    page_images: dict[str, ShareImage]  # page URL -> its card; pages without one use `default`
    default: ShareImage
    qr_jobs: list[Job]  # needed before the pages are rendered (the pages show the code inline)
    image_jobs: list[Job]  # cards and posters
    warnings: list[Problem]
    kits: list[PromoterKit] = field(default_factory=list)  # one per promoter, for the kit pages
    memo: ShareMemo | None = None  # the plans to keep for the next build (saved once it succeeds)

    def image_for(self, page_url: str) -> ShareImage:
        return self.page_images.get(page_url, self.default)


@dataclass(frozen=True)
class _ProductPlan:
    """A product's pictures and share, as planned: what the preview's next rebuild takes over
    when the product and its photo did not change (reuse.py)."""

    url: str  # the product page's
    owner: tuple[str, str]  # (file, what): where a warning about its pictures points
    jobs: tuple[Job, ...]  # its card and posters
    card: ShareImage
    kit_posters: tuple[tuple[tuple[str, str, str], ShareImage], ...]  # (code, product id, layout) -> poster
    qr: Job
    share: ProductShare
    missing: tuple[str, ...]  # characters no font draws, for the warning about the product


class _Planner:
    def __init__(
        self, site: Site, theme: Theme, static: Mapping[str, Path], site_dir: Path, cache: ImageCache, text: Text
    ):
        self.site = site
        self.cfg = site.config
        self._ = text
        self.words = words(text)
        self.content = site_dir / "content"
        self.cache = cache
        self.warnings: list[Problem] = []
        self.palette = self._palette(theme, site_dir)
        self.chain = FontChain(tuple(self._theme_fonts(theme, static, site_dir)) + tuple(fallback_families()))
        self._sources: dict[str, SourceFile] = {}
        self.logo = self.source(self.cfg.logo)
        self._missing: dict[tuple[str, str], list[str]] = {}
        self._plain_chars: set[str] = set()
        self._fonts: dict[tuple[tuple[str, int], ...], Fonts] = {}
        self._resolved: dict[str, Resolved] = {}

    # ---- inputs ----------------------------------------------------------------------------

    def _theme_yml(self, theme: Theme, site_dir: Path) -> str:
        file = theme.path / "theme.yml"
        try:
            return file.resolve().relative_to(site_dir.resolve()).as_posix()
        except ValueError:
            return f"themes/{theme.name}/theme.yml (bundled)"

    def _palette(self, theme: Theme, site_dir: Path) -> Palette:
        settings = theme.settings
        colours = []
        for key, default in (("accent", DEFAULT_ACCENT), ("background", DEFAULT_BACKGROUND)):
            value = settings.get(key)
            colour = parse_colour(value) if value is not None else default
            if colour is None:
                where = self._theme_yml(theme.settings_source(key), site_dir)
                message = f"'{value}' is not a colour such as #2f6b4f; the share pictures use the default"
                self.warnings.append(Problem(where, 0, f"settings.{key}", message, Severity.WARNING))
                colour = default
            colours.append(colour)
        return Palette(colours[0], colours[1])

    def _theme_fonts(self, theme: Theme, static: Mapping[str, Path], site_dir: Path) -> list[FontFamily]:
        entries = theme.settings.get("fonts", [])
        if entries is None:
            return []
        entries = entries if isinstance(entries, list) else [entries]
        found = []
        for n, entry in enumerate(entries):
            try:
                found.append(theme_family(entry, static))
            except FontSettingError as exc:
                where = self._theme_yml(theme.settings_source("fonts"), site_dir)
                self.warnings.append(Problem(where, 0, f"settings.fonts[{n}]", f"{exc}; the share pictures use "
                                             "the next font", Severity.WARNING))  # fmt: skip
        return found

    def source(self, image: Image | None) -> SourceFile | None:
        """The photo of a picture; one object per photo, hashed once (a product's card and
        posters show the same one, and cache.key_of writes a shared object's JSON once)."""
        if image is None:
            return None
        found = self._sources.get(image.path)
        if found is None:
            path = self.content / image.path
            found = self._sources[image.path] = SourceFile(str(path), self.cache.file_hash(path))
        return found

    def texts(self, owner: tuple[str, str], **texts: str) -> tuple[Fonts, dict[str, str]]:
        """The texts of one picture ready to draw, and the fonts that draw them. Characters that
        no font has are left out and remembered for a warning about `owner` (file, what)."""
        fallback: dict[str, int] = {}
        out = {}
        for name, text in texts.items():
            resolved = self.resolve(text)
            out[name] = resolved.text
            fallback.update(resolved.fallback)
            if resolved.missing:
                seen = self._missing.setdefault(owner, [])
                seen += [ch for ch in resolved.missing if ch not in seen]
        used = tuple(sorted(fallback.items()))
        fonts = self._fonts.get(used)
        if fonts is None:  # one object per set of fonts used: see `source`
            fonts = self._fonts[used] = Fonts(self.chain.families, used)
        return fonts, out

    def resolve(self, text: str) -> Resolved:
        """The font chain's resolution, with a shortcut for the usual text: one whose
        characters were all drawn by the first font before, which comes out unchanged."""
        known = self._resolved.get(text)  # a product's title and summary are on three pictures
        if known is not None:
            return known
        if self._plain_chars.issuperset(text):
            resolved = Resolved(text, {}, "")
        else:
            resolved = self.chain.resolve(text)
            if resolved.text == text and not resolved.fallback and not resolved.missing:
                self._plain_chars.update(text)
        if len(self._resolved) < 100_000:
            self._resolved[text] = resolved
        return resolved

    def missing_for(self, owner: tuple[str, str]) -> list[str]:
        return self._missing.get(owner, [])

    def note_missing(self, owner: tuple[str, str], chars: tuple[str, ...]) -> None:
        """Characters of `owner`'s pictures that no font draws, found by an earlier build."""
        if chars:
            seen = self._missing.setdefault(owner, [])
            seen += [ch for ch in chars if ch not in seen]

    def font_warnings(self) -> list[Problem]:
        return [
            Problem(path, 0, "", f"{what}: no font can draw {describe_missing(''.join(chars))}; the share "
                    "pictures leave it out (name a font that has it in the theme's settings.fonts)", Severity.WARNING)
            for (path, what), chars in self._missing.items()
        ]  # fmt: skip

    # ---- words ---------------------------------------------------------------------------

    def money(self, value: Money) -> str:
        return format_money(value, self.cfg.language)

    def price_text(self, product: Product) -> tuple[str, str]:
        """The price as drawn ('From CN¥88.00' when variants differ) and the struck price."""
        price = self.money(product.price)
        if product.price_varies:
            price = self._("From %(price)s", price=price)
        was = self.money(product.compare_at_price) if product.compare_at_price is not None else ""
        return price, was

    def sale_window_text(self, product: Product) -> tuple[str, str, str] | None:
        """For a product in a sale window of content/promotions.yml that is not over: the sale
        price as drawn, the regular price to strike, and the window's dates ("Sale Dec 1 – 7").
        A picture cannot change with the clock, so it says when the price holds."""
        now = dt.datetime.now(dt.UTC)
        best = best_sale(tuple(x for x in self.site.promotions if x.ends > now), product.id, product.price)
        if best is None:
            return None
        promo, sale = best
        price = self.money(sale)
        if product.price_varies:
            price = self._("From %(price)s", price=price)
        return price, self.money(product.price), self._("Sale %(dates)s", dates=self.window_dates(promo))

    def window_dates(self, promo: Promotion) -> str:
        """The window's first and last day, as the shop's language writes a range: "Dec 1 – 7",
        "12月1日至7日"; a one-day window is that day."""
        first, last = promo.starts.date(), promo.last_day
        locale = babel_locale(self.cfg.language)
        if first == last:
            return str(format_skeleton("MMMd", first, locale=locale))
        return str(format_interval(first, last, "MMMd", locale=locale))

    def share_text(self, product: Product, url: str) -> str:
        """The text a buyer copies to a chat: like the posters, a sale window's price and dates."""
        window = self.sale_window_text(product)
        price, was = window[:2] if window else self.price_text(product)
        if was:
            price = self._("%(price)s (was %(was)s)", price=price, was=was)
        lines = [self._("%(title)s – %(price)s", title=product.title, price=price)]
        if window:
            lines.append(window[2])
        summary = product.summary or plain_text(product.description_html)
        if summary:
            lines.append(summary)
        lines.append(url)
        return "\n".join(lines)


def _later(plan: Callable[[], tuple[tuple[Drawing, ...], str, str]]) -> tuple[Later, ...]:
    """A product's drawings kept by their keys: planned (all at once) when one is drawn."""
    planned: list[tuple[Drawing, ...]] = []

    def drawing(n: int) -> Drawing:
        if not planned:
            planned.append(plan()[0])
        return planned[0][n]

    return tuple(Later(partial(drawing, n)) for n in range(1 + len(LAYOUTS)))


def _image(url: str, key: str, size: tuple[int, int], alt: str) -> ShareImage:
    return ShareImage(f"{url}?v={key[:10]}", size[0], size[1], alt)


def plan_share(
    site: Site,
    theme: Theme,
    static: Mapping[str, Path],
    site_dir: Path,
    cache: ImageCache,
    text: Text | None = None,
    drawn_base_url: str | None = None,
    reuse: Reuse | None = None,
    kept: tuple[Path, object] | None = None,
) -> SharePlan:
    """Plan every card, poster and QR code of the shop; `text` gives the words in its language.

    `drawn_base_url` is the address that QR codes and posters lead to, when it is not the
    site's: the preview (`micromall serve`) serves the pages at its own address but draws the
    published one (site.yml's base_url), so that its pictures are the very ones a build
    publishes, found in the cache whatever port the preview listens on, and a poster printed
    from the preview never leads to a local address. `reuse` (the preview's) gives each product
    that did not change the plan of the build before. `kept` is the folder of the plans kept
    between builds (sharememo.py) and a print of what the build knows the plans to depend on
    besides what the planner reads here (the code, the words' translations, the sale windows)."""
    p = _Planner(site, theme, static, site_dir, cache, text if text is not None else english())
    cfg = site.config
    link_base = drawn_base_url if drawn_base_url is not None else cfg.base_url  # what pictures lead to
    w = p.words
    shop_title = cfg.title
    page_images: dict[str, ShareImage] = {}
    qr_jobs: list[Job] = []
    image_jobs: list[Job] = []
    promoters = [pr for pr in site.promoters if pr.kit_url]  # a kit needs its secret (else: a load error)
    kit_posters: dict[tuple[str, str, str], ShareImage] = {}  # (code, product id, layout) -> poster
    memo = None
    if kept is not None:
        shown = (kept[1], repr(cfg), link_base, repr(p.chain.families), repr(p.palette), repr(p.logo),
                 sorted(w.items()), repr(promoters))  # fmt: skip
        memo = ShareMemo(kept[0], stable_hash(shown))

    def card_spec(owner: tuple[str, str], photo: Image | None, **texts: str) -> cards.CardSpec:
        shown_shop = "" if texts.get("title") == shop_title else shop_title
        fonts, drawn = p.texts(owner, shop=shown_shop, **texts)
        return cards.CardSpec(fonts=fonts, photo=p.source(photo), logo=p.logo, palette=p.palette, **drawn)

    def card(
        output: str, owner: tuple[str, str], alt: str, photo: Image | None, **texts: str
    ) -> tuple[Job, ShareImage]:
        job = Job((output,), card_spec(owner, photo, **texts))
        return job, _image(output, job.key, (cards.WIDTH, cards.HEIGHT), alt)

    def page_card(output: str, page_url: str, owner: tuple[str, str], alt: str, photo: Image | None,
                  **texts: str) -> None:  # fmt: skip
        job, page_images[page_url] = card(output, owner, alt, photo, **texts)
        image_jobs.append(job)

    def poster_spec(owner: tuple[str, str], layout: posters.Layout, url: str, cta: str, photo: Image | None,
                    also_for: tuple[str, ...], texts: Mapping[str, str]) -> posters.PosterSpec:  # fmt: skip
        """A poster; `also_for` are more URLs: the same poster with another code."""
        fonts, drawn = p.texts(owner, cta=cta, shop=shop_title, **texts)
        return posters.PosterSpec(layout=layout, fonts=fonts, url=url, photo=p.source(photo), logo=p.logo,
                                  palette=p.palette, also_for=also_for, **drawn)  # fmt: skip

    def poster(output: str, owner: tuple[str, str], layout: posters.Layout, url: str, cta: str,
               photo: Image | None, **texts: str) -> Job:  # fmt: skip
        return Job((output,), poster_spec(owner, layout, url, cta, photo, (), texts))

    # the shop: home page card and poster, stores page card, one poster per store
    shop_owner = ("site.yml", f"the shop's title or tagline '{shop_title}'")
    home_photo = next((i for i in _shop_photos(site) if i is not None), None)
    page_card("share/shop/home.jpg", "", shop_owner, f"{shop_title}: {cfg.tagline}" if cfg.tagline else shop_title,
         home_photo, title=shop_title, subtitle=cfg.tagline)  # fmt: skip
    image_jobs.append(poster("posters/shop.jpg", shop_owner, "story", link_base, w["scan_to_visit"], home_photo,
           title=shop_title, summary=cfg.tagline))  # fmt: skip
    store_photo = next((s.image for s in site.stores if s.image is not None), None)
    page_card("share/shop/stores.jpg", "stores/", ("content/stores.yml", "the stores"), f"{w['stores']} – {shop_title}",
         store_photo, title=w["stores"], subtitle=" · ".join(s.name for s in site.stores))  # fmt: skip
    for store in site.stores:
        url = link_base + "?" + urlencode({"store": store.id})
        lines = "\n".join([store.address, *store.hours])
        where = ("content/stores.yml", f"store '{store.id}'")
        image_jobs.append(poster(f"posters/stores/{store.id}.jpg", where, "story", url, w["scan_to_visit"],
                                 store.image, title=store.name, summary=lines))  # fmt: skip

    def product_specs(product: Product, owner: tuple[str, str]) -> tuple[tuple[Drawing, ...], str, str]:
        """A product's card and posters (in LAYOUTS' order), their alt text and its share text."""
        price, was = p.price_text(product)
        window = p.sale_window_text(product)
        poster_price = {"price": price, "compare_at": was}
        if window is not None:  # the posters show the window's price and dates (the card, today's price)
            poster_price = {"price": window[0], "compare_at": window[1], "sale_note": window[2]}
        code_url = link_base + product.url  # the link its pictures lead to
        badge = w["sale"] if product.on_sale else ""
        card = card_spec(owner, product.image, title=product.title, subtitle=product.summary, price=price,
                         compare_at=was, badge=badge)  # fmt: skip
        # each promoter's posters of this product: the same pictures with the code's ?ref=
        ref_urls = tuple(f"{code_url}?{urlencode({'ref': pr.code})}" for pr in promoters)
        texts = {"title": product.title, "summary": product.summary, **poster_price}
        made = tuple(poster_spec(owner, layout, code_url, w["scan_to_buy"], product.image, ref_urls, texts)
                     for layout in LAYOUTS)  # fmt: skip
        alt = f"{product.title}, {price} – {shop_title}"
        return (card, *made), alt, p.share_text(product, cfg.base_url + product.url)

    def plan_product(product: Product, owner: tuple[str, str], kept: Entry | None = None) -> _ProductPlan:
        """The plan of a product's pictures and share; with `kept` (sharememo.py), made from
        what an earlier build planned: its drawings are planned only if one is drawn."""
        code_url = link_base + product.url
        specs: tuple[Drawing | Later, ...]
        keys: tuple[str, ...]
        if kept is None:
            specs, alt, text = product_specs(product, owner)
            keys = (*map(key_of, specs), key_of(QrSpec(code_url)))
            missing = "".join(p.missing_for(owner))
        else:
            keys, (alt, text, missing) = kept[:4], kept[4:]
            specs = _later(partial(product_specs, product, owner))
        card_output = f"share/products/{product.id}.jpg"
        card_job = Job((card_output,), specs[0], keys[0])
        card_image = _image(card_output, card_job.key, (cards.WIDTH, cards.HEIGHT), alt)
        jobs, made, kit = [card_job], {}, []
        for n, layout in enumerate(LAYOUTS, 1):
            key = keys[n]
            outputs = (f"posters/{product.id}-{layout}.jpg",
                       *(f"{pr.kit_url}posters/{product.id}-{layout}.jpg" for pr in promoters))  # fmt: skip
            jobs.append(Job(outputs, specs[n], key))
            made[layout] = _image(outputs[0], key, posters.SIZES[layout], alt)
            for pr, output in zip(promoters, outputs[1:], strict=True):
                kit.append(((pr.code, product.id, layout), _image(output, key, posters.SIZES[layout], alt)))
        qr_svg, qr_png = f"qr/{product.id}.svg", f"qr/{product.id}.png"
        qr = Job((qr_svg, qr_png), QrSpec(code_url), keys[-1])
        drawn_svg = QrSvg(f"{images}{qr.key}.0")  # where the maker puts the job's first file
        share = ProductShare(url=cfg.base_url + product.url, text=text, card=card_image,
                             poster_square=made["square"], poster_story=made["story"],
                             qr_svg_url=qr_svg, qr_png_url=qr_png, qr_svg=drawn_svg)  # fmt: skip
        if kept is None and memo is not None:
            memo.put(memo_key(product), (*keys, alt, text, missing))  # type: ignore[arg-type]
        return _ProductPlan(product.url, owner, tuple(jobs), card_image, tuple(kit), qr, share, tuple(missing))

    images = f"{cache.images}{os.sep}"
    photo_prints: dict[SourceFile | None, int] = {}

    def memo_key(product: Product) -> str:
        # (its photo by its bytes: a photo replaced under the same name is planned and drawn again)
        photo = p.source(product.image)
        printed = photo_prints.get(photo)
        if printed is None:
            printed = photo_prints[photo] = stable_hash(photo)
        return f"{content_print(product):016x}{printed:016x}"

    table = reuse.table(SHARE) if reuse is not None else None

    def planned_for(product: Product) -> _ProductPlan:
        # by the bytes of its photo and the logo: a photo replaced under the same name is drawn again
        drawn = (p.source(product.image), p.logo) if table is not None else None
        planned = table.get(product, drawn) if table is not None else MISSING
        if planned is MISSING:
            owner = (product.source, f"product '{product.id}'")
            planned = plan_product(product, owner, memo.get(memo_key(product)) if memo is not None else None)
            if table is not None:
                table.put(product, planned, drawn)
        if not product._share or product._share[0] is not planned.share:  # (a kept product has it already)
            product._share[:] = [planned.share]
        return planned  # type: ignore[no-any-return]

    if reuse is not None:
        plans = list(reuse.each(PLANS, site.products, planned_for).values())
    else:
        plans = [planned_for(product) for product in site.products]
    # (in C: the kept plans of ten thousand products are joined in milliseconds)
    image_jobs.extend(chain.from_iterable(map(attrgetter("jobs"), plans)))
    page_images.update(zip(map(attrgetter("url"), plans), map(attrgetter("card"), plans), strict=True))
    qr_jobs.extend(map(attrgetter("qr"), plans))
    if promoters:
        kit_posters.update(chain.from_iterable(map(attrgetter("kit_posters"), plans)))
    for planned in filter(attrgetter("missing"), plans):  # (noted again for a plan made before)
        p.note_missing(planned.owner, planned.missing)

    for coll in site.collections:
        photo = coll.image
        page_card(f"share/collections/{coll.id}.jpg", coll.url, (coll.source, f"collection '{coll.id}'"),
             f"{coll.title} – {shop_title}", photo, title=coll.title, subtitle=coll.summary)  # fmt: skip
    for story in site.stories:
        photo = story.cover or next((pr.image for pr in story.products if pr.image is not None), None)
        page_card(f"share/stories/{story.slug}.jpg", story.url, (story.source, f"story '{story.slug}'"),
             f"{story.title} – {shop_title}", photo, title=story.title, subtitle=story.summary)  # fmt: skip

    kits = []
    for promoter in promoters:
        items = []
        for product in site.products:
            ref = "?" + urlencode({"ref": promoter.code})
            url = f"{cfg.base_url}{product.url}{ref}"
            qr_svg, qr_png = f"{promoter.kit_url}qr/{product.id}.svg", f"{promoter.kit_url}qr/{product.id}.png"
            image_jobs.append(Job((qr_svg, qr_png), QrSpec(f"{link_base}{product.url}{ref}")))
            items.append(KitItem(product=product, url=url, text=p.share_text(product, url),
                                 poster_square=kit_posters[(promoter.code, product.id, "square")],
                                 poster_story=kit_posters[(promoter.code, product.id, "story")],
                                 qr_png_url=qr_png, qr_svg_url=qr_svg))  # fmt: skip
        kits.append(PromoterKit(promoter, tuple(items)))

    plan = SharePlan(page_images, page_images[""], qr_jobs, image_jobs, p.warnings + p.font_warnings(), kits, memo)
    return plan


def _shop_photos(site: Site) -> Iterator[Image | None]:
    """Pictures for the shop's own card and poster, best first (looked at until one is found)."""
    yield from (p.image for p in site.featured)
    yield from (c.image for c in site.collections)
    yield from (p.image for p in site.products)
    yield from (s.image for s in site.stores)
