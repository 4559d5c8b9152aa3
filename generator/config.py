"""site.yml: the shop's settings, checked key by key into a SiteConfig."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from .errors import did_you_mean
from .fields import Obj, SourceFile, kind_of
from .i18n import is_language
from .markup import render_markdown
from .model import Checkout, Contact, Image, ShippingMethod, SiteConfig
from .money import is_currency
from .paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from .rates import check_display_currencies
from .themes import Theme, ThemeError, check_setting

LANGUAGES = ("en", "zh-CN")  # with complete catalogs in the default theme; any tag Babel knows works
SITE_KEYS = (
    "title", "tagline", "base_url", "language", "currency", "theme", "theme_settings",
    "logo", "contact", "shipping", "checkout", "display_currencies", "products_per_page",
)  # fmt: skip
CONTACT_KEYS = ("email", "phone", "wechat", "whatsapp", "address")
SHIPPING_KEYS = ("id", "label", "price", "free_over", "pickup")
CHECKOUT_KEYS = ("handler", "endpoint", "channels", "payment_instructions", "payment_qr")
HANDLERS = ("message", "http")
CHANNELS = ("email", "whatsapp", "wechat")


def check_base_url(value: object) -> str | None:
    example = "an absolute http(s) URL such as https://example.com/"
    if not isinstance(value, str):
        return f"must be {example}"
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"must be {example}, got '{value}'"
    if parts.query or parts.fragment:
        return f"must not have a query or fragment, got '{value}'"
    return None


def _checkout(src: SourceFile, root: Obj, contact: Contact, image: Callable[[Obj, str], Image | None]) -> Checkout:
    if not root.has("checkout"):
        return Checkout(channels=_default_channels(contact))
    obj = src.obj(root.data["checkout"], root.at("checkout"), CHECKOUT_KEYS)
    if obj is None:
        return Checkout(channels=_default_channels(contact))
    handler = obj.text("handler", default="message")
    if handler not in HANDLERS:
        src.error(
            obj.at("handler"), f"unknown handler '{handler}'{did_you_mean(handler, HANDLERS)} (use message or http)"
        )
        handler = "message"
    endpoint = obj.text("endpoint", default="/api/orders")
    if not (endpoint.startswith("/") or endpoint.startswith(("https://", "http://"))):
        src.error(
            obj.at("endpoint"), f"must be a path such as /api/orders or an absolute http(s) URL, got '{endpoint}'"
        )
    channels = obj.texts("channels") if obj.has("channels") else list(_default_channels(contact))
    for i, channel in enumerate(channels):
        if channel not in CHANNELS:
            src.error(obj.at("channels") + (i,), f"unknown channel '{channel}' (use email, whatsapp or wechat)")
        elif not getattr(contact, channel):
            src.error(obj.at("channels") + (i,), f"needs contact.{channel} in site.yml")
    instructions = obj.text("payment_instructions")
    return Checkout(
        handler=handler,
        endpoint=endpoint,
        channels=tuple(c for c in channels if c in CHANNELS),
        payment_instructions=instructions,
        payment_instructions_html=render_markdown(instructions),
        payment_qr=image(obj, "payment_qr"),
    )


def _theme_settings(src: SourceFile, root: Obj, theme: Theme) -> dict[str, object]:
    """`theme_settings:`, each checked against the setting the theme (or a parent) declares."""
    if not root.has("theme_settings"):
        return {}
    raw = root.data["theme_settings"]
    path = root.at("theme_settings")
    if not isinstance(raw, dict):
        src.error(path, f"must be a mapping of setting names to values, got {kind_of(raw)}")
        return {}
    declared = theme.declared
    values: dict[str, object] = {}
    for key, value in raw.items():
        key = str(key)
        setting = declared.get(key)
        if setting is None:
            known = ", ".join(sorted(declared)) or "none"
            src.key_error(path + (key,), f"unknown setting of theme '{theme.name}'{did_you_mean(key, declared)} "
                                     f"(its settings: {known})")  # fmt: skip
            continue
        problem = check_setting(setting, value)
        if problem:
            src.error(path + (key,), problem)
            continue
        values[key] = value.strip() if isinstance(value, str) else value
    return values


def _products_per_page(src: SourceFile, root: Obj) -> int:
    """`products_per_page:` how many cards each page of a product listing shows (paging.py)."""
    size = root.integer("products_per_page", minimum=1, default=DEFAULT_PAGE_SIZE)
    if size is not None and size > MAX_PAGE_SIZE:
        src.error(root.at("products_per_page"), f"must be {MAX_PAGE_SIZE} or less, got {size} "
                                                 "(a longer page is slow to load on a phone)")  # fmt: skip
        return DEFAULT_PAGE_SIZE
    return size if size is not None else DEFAULT_PAGE_SIZE


def _default_channels(contact: Contact) -> tuple[str, ...]:
    return tuple(c for c in CHANNELS if getattr(contact, c))


def parse_config(
    src: SourceFile,
    image: Callable[[Obj, str], Image | None],
    themes: Callable[[str], Theme],
) -> tuple[SiteConfig | None, str]:
    """Check site.yml: the config (None when unusable) and the currency ('' when unusable).

    `image` resolves the logo; `themes` loads a theme by name (raising ThemeError).
    The currency comes back on its own so that prices can be checked even when another
    setting is wrong.
    """
    root = src.obj(src.doc.data, (), SITE_KEYS)
    if root is None:
        return None, ""
    title = root.text("title", required=True)
    base_url = root.text("base_url", required=True)
    root.check("base_url", check_base_url)
    if base_url and not base_url.endswith("/"):
        base_url += "/"

    language = root.text("language", default="en")
    if not is_language(language):
        dashed = language.replace("_", "-")
        hint = f"did you mean '{dashed}'?" if dashed != language and is_language(dashed) else "use one such as "
        if not hint.startswith("did"):
            hint += ", ".join((*LANGUAGES, "de-DE", "pt-PT"))
        src.error(root.at("language"), f"'{language}' is not a language tag micromall knows ({hint})")
        language = "en"

    currency = root.text("currency", required=True)
    if currency and not is_currency(currency):
        hint = f" (did you mean '{currency.upper()}'?)" if is_currency(currency.upper()) else ""
        src.error(
            root.at("currency"),
            f"unknown currency '{currency}'{hint}: use an ISO 4217 code such as CNY, USD or EUR",
        )
        currency = ""

    theme = root.text("theme", default="default")
    theme_settings: dict[str, object] = {}
    try:
        theme_settings = _theme_settings(src, root, themes(theme))
    except ThemeError as exc:
        src.error(root.at("theme"), str(exc))

    contact_obj = src.obj(root.data["contact"], root.at("contact"), CONTACT_KEYS) if root.has("contact") else None
    contact = Contact(**{k: contact_obj.text(k) for k in CONTACT_KEYS}) if contact_obj else Contact()

    shipping: list[ShippingMethod] = []
    seen: dict[str, int] = {}
    for path, item in root.items("shipping"):
        method = src.obj(item, path, SHIPPING_KEYS)
        if method is None:
            continue
        method_id = method.unique_slug("id", seen, "shipping method")
        label = method.text("label", required=True)
        price = method.price("price", currency, required=True)
        free_over = method.price("free_over", currency)
        if free_over is not None and free_over.currency and free_over.minor == 0:
            src.error(method.at("free_over"), "must be greater than 0 (leave it out to never ship free)")
            free_over = None
        if method_id and label and price is not None:
            shipping.append(ShippingMethod(method_id, label, price, free_over, method.boolean("pickup", False)))

    checkout = _checkout(src, root, contact, image)
    per_page = _products_per_page(src, root)
    logo = image(root, "logo")
    if not (title and base_url and currency) or check_base_url(base_url):
        return None, currency
    if checkout.handler == "http" and not root.has("shipping"):
        src.error(root.at("checkout"), "taking orders over http needs at least one shipping method (shipping:)")
    config = SiteConfig(
        title=title,
        tagline=root.text("tagline"),
        base_url=base_url,
        language=language,
        currency=currency,
        theme=theme,
        theme_settings=theme_settings,
        logo=logo,
        contact=contact,
        shipping=tuple(shipping),
        checkout=checkout,
        display_currencies=check_display_currencies(root, currency),
        products_per_page=per_page,
    )
    return config, currency
