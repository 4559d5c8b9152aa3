"""Pages from templates: the Jinja environment, and one context builder per kind of page.

Templates are strict: an undefined name is a build error that names the template and line,
never an empty string on a live shop page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date
from babel.numbers import format_decimal
from babel.support import NullTranslations
from jinja2.ext import i18n
from markupsafe import Markup, escape

from . import structured
from .errors import Problem
from .i18n import Text, english, load_translations
from .markup import plain_text
from .model import Collection, Image, Product, ShareImage, Site, Variant
from .money import Money, babel_locale, format_money, minor_digits
from .paging import Pagination, paginate
from .promotions import Promotion, best_sale
from .responsive import Picture, PicturePlan
from .reuse import MISSING, Reuse
from .themes import Theme, css_block


@dataclass(frozen=True)
class PageMeta:
    """What every template gets as `page`."""

    kind: str
    title: str
    description: str
    url: str
    canonical: str
    nav: str
    share_image: ShareImage | None = None  # its card for og:image; set in every build
    structured_data: tuple[dict[str, Any], ...] = ()  # schema.org JSON-LD items for this page


@dataclass(frozen=True)
class PageSpec:
    """One page to render: its template, URL, output path and extra context."""

    template: str
    meta: PageMeta
    output: str
    extra: dict[str, Any]


class TemplateProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def output_path(url: str) -> str:
    """'products/x/' -> 'products/x/index.html'; '' -> 'index.html'; '404.html' stays."""
    if url == "" or url.endswith("/"):
        return url + "index.html"
    return url


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in this process (a preview compiles each template once).

    Not on disk: a compiled template is code, and the cache folder sits in the shop's folder,
    which may come with a shop someone else made; reading code from it would let that shop run
    it (docs/security.md)."""

    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.kept.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.kept[bucket.key] = bucket.bytecode_to_string()


_COMPILED: dict[str, _MemoryBytecodeCache] = {}


def _compiled(folder: Path) -> _MemoryBytecodeCache:
    """The compiled templates of the builds that use this cache folder, in this process."""
    return _COMPILED.setdefault(str(folder), _MemoryBytecodeCache())


def make_environment(
    site: Site,
    theme: Theme,
    site_dir: Path,
    static_hashes: dict[str, str],
    translations: NullTranslations | None = None,
    environment_class: type[jinja2.Environment] = jinja2.Environment,
    bytecode_dir: Path | None = None,
    pictures: PicturePlan | None = None,
) -> jinja2.Environment:
    """A Jinja environment whose loader looks in the site's templates/, then the theme chain, and
    whose `_()`/`ngettext()` use the theme's catalogs for the shop's language.
    (`environment_class`: the preview server's records what each page reads; `bytecode_dir`
    keeps compiled templates between builds, checked against each template's source; `pictures`
    holds the responsive renditions of the content images, see responsive.py.)"""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(site_dir / "templates"))]
    loaders += [jinja2.FileSystemLoader(str(t.path / "templates")) for t in theme.chain]
    # "<theme>:name" is the template as that theme sees it: its own, else its parents'.
    prefixed: dict[str, jinja2.BaseLoader] = {
        t.name: jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(p.path / "templates")) for p in t.chain])
        for t in theme.chain
    }
    env = environment_class(
        loader=jinja2.ChoiceLoader([jinja2.PrefixLoader(prefixed, delimiter=":"), *loaders]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=[i18n],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # compiled once per build: no stat of every template at every include
        bytecode_cache=_compiled(bytecode_dir) if bytecode_dir is not None else None,
    )
    # |tojson (the page's config, its JSON-LD) without the spaces after "," and ":": data for
    # machines, a tenth smaller (issue #7)
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":")}
    if translations is None:
        translations = load_translations(theme, site_dir, site.config.language)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    # What newstyle gettext does for `_("...")`, without a context lookup and call per use (a
    # tenth of the rendering time of a product page): translated, autoescaped, formatted.
    translate = translations.gettext

    def gettext(__string: str, **variables: Any) -> str:
        return Markup(translate(__string)) % variables  # nosec B704 - the theme's catalog; `%` escapes the variables

    env.globals["_"] = env.globals["gettext"] = gettext
    base_path = site.config.base_path
    language = site.config.language

    def url(path: str) -> str:
        return base_path + path.lstrip("/")

    def static(path: str) -> str:
        path = path.lstrip("/")
        digest = static_hashes.get(path)
        if digest is None:
            raise jinja2.TemplateRuntimeError(f"static file not found: {path} (looked in the theme and site static/)")
        return f"{base_path}static/{path}?v={digest}"

    def money(value: Money) -> str:
        return format_money(value, language)

    def absolute_url(path: str) -> str:
        return site.config.base_url + path.lstrip("/")

    def date(value: dt.date) -> str:
        return str(format_date(value, "long", locale=babel_locale(language)))

    def number(value: int) -> str:
        return str(format_decimal(value, locale=babel_locale(language)))

    def responsive(image: Image | None) -> ResponsiveImage | None:
        found = pictures.for_image(image) if pictures is not None and image is not None else None
        return ResponsiveImage(found, url) if found is not None else None

    def picture(
        image: Image | None,
        alt: str = "",
        sizes: str = "100vw",
        eager: bool = False,
        widest: int | None = None,
        **attrs: Any,
    ) -> Markup:
        return picture_markup(image, responsive(image), url, alt, sizes, eager, attrs, widest)

    def sale(product: Product, item: Product | Variant | None = None) -> SaleView | None:
        return sale_view(site.promotions, product, item if item is not None else product)

    def approx(value: Money) -> list[str]:
        """The price in site.yml's display_currencies, formatted, for "≈ US$17.60"."""
        rates = site.display_rates
        return [approx_money(m, language) for m in rates.convert(value)] if rates else []

    env.globals.update(
        url=url, static=static, absolute_url=absolute_url, picture=picture, responsive=responsive, sale=sale
    )
    env.filters.update(approx=approx)
    env.filters.update(money=money, date=date, number=number)
    return env


class ResponsiveImage:
    """`responsive(image)` in templates: the srcset strings of an image's renditions, for
    markup that `picture()` does not write (such as the gallery's data attributes)."""

    def __init__(self, picture: Picture, url: Callable[[str], str]) -> None:
        self.width = picture.image.width
        self.height = picture.image.height
        self.src = url(picture.fallback.jpeg)
        self.webp_candidates = [(r.width, f"{url(r.webp)} {r.width}w") for r in picture.renditions]
        self.webp_srcset = ", ".join(c for _, c in self.webp_candidates)
        self.jpeg_srcset = ", ".join(f"{url(r.jpeg)} {r.width}w" for r in picture.renditions)


def picture_markup(
    image: Image | None,
    found: ResponsiveImage | None,
    url: Callable[[str], str],
    alt: str,
    sizes: str,
    eager: bool,
    attrs: dict[str, Any],
    widest: int | None = None,
) -> Markup:
    """A `<picture>`: a WebP `<source>` with the `srcset` of every width and `sizes`, and a JPEG
    `<img>` of one width for browsers without WebP (a `srcset` of JPEGs too would almost double
    the markup of a page of photos for the few such browsers). The `<img>` has the image's own
    width and height (so the page does not shift when it loads), and lazy loading unless
    `eager` (the first image a visitor sees: loaded at once with `fetchpriority="high"`).
    Extra keyword arguments become attributes of the `<img>`: `class_` or `class` → class,
    `data_x=1` → data-x="1", True → a bare attribute; False and None are left out. An image
    without renditions (none planned) is a plain `<img>` of the original file. `widest` (pixels)
    leaves wider renditions out of the srcset (a small card: no screen needs more than 720)."""
    if image is None:
        return Markup("")
    parts = [f'src="{escape(found.src if found else url(image.url))}"']
    parts.append(f'width="{image.width}" height="{image.height}" alt="{escape(alt)}"')
    parts.append('fetchpriority="high"' if eager else 'loading="lazy" decoding="async"')
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        name = name.rstrip("_").replace("_", "-")
        parts.append(str(escape(name)) if value is True else f'{escape(name)}="{escape(value)}"')
    img = f"<img {' '.join(parts)}>"
    if found is None:
        return Markup(img)  # nosec B704 - every part above went through escape()
    source = f'<source type="image/webp" srcset="{escape(_srcset_for(found, widest))}" sizes="{escape(sizes)}">'
    return Markup(f"<picture>{source}{img}</picture>")  # nosec B704 - every part went through escape()


def _srcset_for(found: ResponsiveImage, widest: int | None = None) -> str:
    """The WebP srcset: every width up to `widest` (the narrowest always). A small slot (a
    product card) needs no wider rendition on any screen: candidates it would barely ever
    pick, less markup. (A gallery thumbnail keeps every width: product.js copies its srcset
    into the main picture.)"""
    if widest is None:
        return found.webp_srcset
    kept = [c for n, (width, c) in enumerate(found.webp_candidates) if n == 0 or width <= widest]
    return ", ".join(kept)


@dataclass(frozen=True)
class SaleView:
    """`sale(product, item)` in templates: the best sale window for a product or a variant.

    The page shows it only while the window is open by the device's clock (buyer.js toggles
    the elements marked with `window`), so a sale opens and closes without a rebuild."""

    price: Money  # during the window
    regular: Money
    promotion: Promotion
    window: str  # "<starts>/<ends>", ISO 8601 UTC, for data-window

    @property
    def starts(self) -> dt.date:
        return self.promotion.starts.date()

    @property
    def last_day(self) -> dt.date:
        return self.promotion.last_day


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def sale_view(promotions: tuple[Promotion, ...], product: Product, item: Product | Variant) -> SaleView | None:
    best = best_sale(promotions, product.id, item.price)
    if best is None:
        return None
    promo, price = best
    return SaleView(price, item.price, promo, f"{_iso(promo.starts)}/{_iso(promo.ends)}")


def approx_money(money: Money, language: str) -> str:
    """Like format_money, but never a bare "$": next to another currency's price a dollar sign
    must say whose dollar it is ("US$17.60", as the Chinese locale writes it too)."""
    text = format_money(money, language)
    if "$" in text and not any(c.isalpha() for c in text.split("$")[0][-2:]):
        text = text.replace("$", money.currency[:2] + "$", 1)
    return text


def absolute(site: Site, url: str) -> str:
    return site.config.base_url + url


#: The preview's table of planned pages (reuse.py).
PAGES = "pages"
#: The preview's product pages by product id, kept from one rebuild to the next (Reuse.each).
PRODUCT_PAGES = "product pages"


def planned_product_pages(reuse: Reuse) -> dict[str, PageSpec]:
    """The product pages the preview's last `plan_pages` planned, by product id."""
    planned = reuse.table(PRODUCT_PAGES).recall(PRODUCT_PAGES)
    return {} if planned is MISSING else planned


def plan_pages(
    site: Site,
    share_image: Callable[[str], ShareImage] | None = None,
    text: Text | None = None,
    reuse: Reuse | None = None,
) -> list[PageSpec]:
    """Every HTML page of the shop, in a stable order. `share_image` gives a page's share card
    by its URL; `text` translates the titles and descriptions of the list pages. `reuse` (the
    preview's) gives a product page, or a page of a listing, whose products and card are what
    they were in the build before, the plan it had then."""

    table = reuse.table(PAGES) if reuse is not None else None

    def kept(item: Any, key: object, make: Callable[..., PageSpec], *args: Any) -> PageSpec:
        """The page planned by `make(*args)`, or as the build before planned it for `item` and `key`."""
        if table is None:
            return make(*args)
        named = isinstance(item, str)
        found = table.recall(item, key) if named else table.get(item, key)
        if found is MISSING:
            found = make(*args)
            if named:
                table.keep(item, found, key)
            else:
                table.put(item, found, key)
        return found  # type: ignore[no-any-return]

    def card_of(url: str) -> tuple[str, int, int, str] | None:
        """A page's card as a key: what the page shows of it."""
        image = share_image(url) if share_image is not None else None
        return (image.url, image.width, image.height, image.alt) if image is not None else None

    cfg = site.config
    default_description = cfg.tagline or cfg.title
    _ = text if text is not None else english()
    shop = cfg.title

    def spec(
        template: str, kind: str, url: str, title: str, description: str, nav: str,
        data: tuple[dict[str, Any], ...] = (), card_of: str | None = None, **extra: Any,
    ) -> PageSpec:  # fmt: skip
        """`card_of`: the URL whose share card the page shows, when not its own (a listing's later pages)."""
        image = share_image(card_of or url) if share_image is not None else None
        meta = PageMeta(kind, title, description or default_description, url, absolute(site, url), nav, image, data)
        return PageSpec(template, meta, output_path(url), extra)

    per_page = cfg.products_per_page

    def paged(title: str, number: int) -> str:
        """A later page's title says which page it is (search results, tabs, history)."""
        return title if number == 1 else _("%(title)s, page %(number)s", title=title, number=number)

    everything = _("All products")
    listing_card = card_of("products/")

    def listing_page(pagination: Pagination, shown: Sequence[Product]) -> PageSpec:
        data = structured.item_list(site, shown, pagination.first or 1, pagination.total)
        return spec("products.html", "products", pagination.url, paged(everything, pagination.number),
                    _("Everything from %(shop)s.", shop=shop), "categories", (data,), "products/",
                    products=list(shown), pagination=pagination)  # fmt: skip

    all_products = [
        kept(pagination.url, (tuple(shown), pagination, listing_card), listing_page, pagination, shown)
        for pagination, shown in paginate(site.products, "products/", per_page)
    ]
    pages = [
        spec("index.html", "home", "", cfg.title, cfg.tagline, "home",
             (structured.organization(site), structured.website(site))),
        *all_products,
        spec("collections.html", "collections", "collections/", _("Categories"),
             _("Browse %(shop)s by category.", shop=shop), "categories"),
        spec("stories.html", "stories", "stories/", _("Stories"), _("Stories from %(shop)s.", shop=shop), "stories"),
        spec("stores.html", "stores", "stores/", _("Stores"), _("Visit %(shop)s in person.", shop=shop), "",
             tuple(structured.store(site, s) for s in site.stores)),
        spec("cart.html", "cart", "cart/", _("Cart"), _("Your cart at %(shop)s.", shop=shop), "cart"),
        spec("checkout.html", "checkout", "checkout/", _("Checkout"), _("Place your order at %(shop)s.", shop=shop),
             "cart"),
        spec("order.html", "order", "order/", _("Your order"), _("Your order at %(shop)s.", shop=shop), "cart"),
        spec("search.html", "search", "search/", _("Search"), _("Search %(shop)s.", shop=shop), ""),
        spec("favorites.html", "favorites", "favorites/", _("Favorites"), _("Your favorites at %(shop)s.", shop=shop),
             ""),
        spec("orders.html", "orders", "orders/", _("My orders"), _("Your orders at %(shop)s.", shop=shop), ""),
    ]  # fmt: skip
    pickup = site.pickup_stores
    pickup_print = repr(pickup) if reuse is not None else ""

    def product_page(product: Product) -> PageSpec:
        return spec("product.html", "product", product.url, product.title,
                    product.summary or plain_text(product.description_html), "categories",
                    structured.for_product(site, product), product=product, pickup_stores=pickup)  # fmt: skip

    def planned_for(product: Product) -> PageSpec:
        # (its breadcrumb names its first collection: kept with the collection's object, which a
        # new parse of the collection's file replaces)
        first = product.collections[0] if product.collections else None
        return kept(product, (card_of(product.url), pickup_print, first), product_page, product)

    if reuse is not None:
        pages.extend(reuse.each(PRODUCT_PAGES, site.products, planned_for).values())
    else:
        pages.extend(map(planned_for, site.products))

    def collection_page(coll: Collection, pagination: Pagination, shown: Sequence[Product]) -> PageSpec:
        data = structured.for_collection(site, coll, _("Categories"), shown, pagination.first or 1)
        return spec("collection.html", "collection", pagination.url, paged(coll.title, pagination.number),
                    coll.summary, "categories", data, coll.url,
                    collection=coll, products=list(shown), pagination=pagination)  # fmt: skip

    for coll in site.collections:
        card = card_of(coll.url)
        for pagination, shown in paginate(coll.products, coll.url, per_page):
            key = (coll, tuple(shown), pagination, card)
            pages.append(kept(pagination.url, key, collection_page, coll, pagination, shown))
    for story in site.stories:
        description = story.summary or plain_text("".join(part.html for part in story.body))
        pages.append(spec("story.html", "story", story.url, story.title, description, "stories",
                          structured.for_story(site, story, _("Stories")), story=story))  # fmt: skip
    for doc in site.pages:
        pages.append(spec("doc.html", "doc", doc.url, doc.title, doc.summary or plain_text(doc.body_html), "", doc=doc))
    not_found = spec("404.html", "404", "404.html", _("Page not found"), _("This page does not exist."), "")
    pages.append(not_found)
    return pages


def render_pages(
    env: jinja2.Environment, site: Site, theme: Theme, pages: list[PageSpec], roots: list[Path]
) -> Iterator[tuple[str, bytes]]:
    """Render each page; a template mistake raises TemplateProblem naming the template and line.

    Any exception inside a template is the theme's mistake (a filter given None, a bad format
    string), so it is reported like a template error rather than as a micromall traceback.
    """
    cache: dict[str, jinja2.Template] = {}
    site_context = SiteContext(site)
    theme_context = ThemeContext(theme)
    for page in pages:
        template = cache.get(page.template)
        if template is None:
            template = cache[page.template] = _get_template(env, page.template, roots)
        context = {"site": site_context, "page": page.meta, "theme": theme_context, **page.extra}
        try:
            html = template.render(context)
        except Exception as exc:
            raise TemplateProblem(_template_problem(exc, page.template, roots)) from exc
        yield page.output, html.encode("utf-8")


def _get_template(env: jinja2.Environment, name: str, roots: list[Path]) -> jinja2.Template:
    try:
        return env.get_template(name)
    except (jinja2.TemplateError, RecursionError) as exc:
        raise TemplateProblem(_template_problem(exc, name, roots)) from exc


def _template_problem(exc: BaseException, name: str, roots: list[Path]) -> Problem:
    """Where in the templates the error is: the innermost template frame of the traceback."""
    filename, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    if filename is None:
        tb = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if "templates" in Path(code.co_filename).parts:
                filename, line = code.co_filename, tb.tb_lineno
            tb = tb.tb_next
    shown = _shown_path(filename, roots) if filename else f"templates/{name}"
    if isinstance(exc, jinja2.TemplateNotFound):
        message = f"template not found: {exc.name}"
    elif isinstance(exc, jinja2.UndefinedError):
        message = "undefined: " + re.sub(r"'generator\.\w+\.(\w+) object'", r"'\1'", exc.message or "")
    elif isinstance(exc, jinja2.TemplateError):
        message = exc.message or type(exc).__name__
    elif isinstance(exc, RecursionError):
        message = "templates include or extend each other without end"
    else:
        message = f"{type(exc).__name__}: {exc}"
    return Problem(shown, line or 0, "", f"{message} (rendering {name})")


def _shown_path(filename: str, roots: list[Path]) -> str:
    """The template's path relative to the first of `roots` that holds it."""
    path = Path(filename)
    for base in roots:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return path.name


class SiteContext:
    """`site` in templates: the configuration's fields and the shop's lists side by side."""

    def __init__(self, site: Site) -> None:
        self._site = site
        cfg = site.config
        self.title = cfg.title
        self.tagline = cfg.tagline
        self.base_url = cfg.base_url
        self.language = cfg.language
        self.currency = cfg.currency
        self.currency_digits = minor_digits(cfg.currency)  # for scripts that format minor units
        self.display_rates = site.display_rates
        self.logo = cfg.logo
        self.contact = cfg.contact
        self.shipping = cfg.shipping
        self.checkout = cfg.checkout
        self.collections = site.collections
        self.products = site.products
        self.featured = site.featured
        self.stories = site.stories
        self.pages = site.pages
        self.stores = site.stores
        # banners: the promotions not over when the shop was built (buyer.js hides them once over)
        now = dt.datetime.now(dt.UTC)
        self.promotions = tuple(p for p in site.promotions if p.ends > now)


class ThemeContext:
    """`theme` in templates: which theme renders the page, and its settings' values."""

    def __init__(self, theme: Theme) -> None:
        self.name = theme.name
        self.chain = [t.name for t in theme.chain]
        self.settings = theme.settings
        self.css_variables = css_block(theme)


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:10]
