"""site.yml: the shop's settings, checked key by key into a SiteConfig."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from .fields import Obj, SourceFile
from .model import Contact, Image, ShippingMethod, SiteConfig
from .money import is_currency

LANGUAGES = ("en", "zh-CN")
SITE_KEYS = (
    "title", "tagline", "base_url", "language", "currency", "theme",
    "logo", "contact", "shipping", "checkout",
)  # fmt: skip
CONTACT_KEYS = ("email", "phone", "wechat", "whatsapp", "address")
SHIPPING_KEYS = ("id", "label", "price", "free_over", "pickup")


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


def parse_config(
    src: SourceFile,
    image: Callable[[Obj, str], Image | None],
    themes: Callable[[str], str | None],
) -> tuple[SiteConfig | None, str]:
    """Check site.yml: the config (None when unusable) and the currency ('' when unusable).

    `image` resolves the logo; `themes` names a problem with a theme, or None.
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
    if language not in LANGUAGES:
        src.error(root.at("language"), f"'{language}' is not supported (use one of: {', '.join(LANGUAGES)})")
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
    theme_problem = themes(theme)
    if theme_problem:
        src.error(root.at("theme"), theme_problem)

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

    checkout = root.mapping("checkout")
    logo = image(root, "logo")
    if not (title and base_url and currency) or check_base_url(base_url):
        return None, currency
    config = SiteConfig(
        title=title,
        tagline=root.text("tagline"),
        base_url=base_url,
        language=language,
        currency=currency,
        theme=theme,
        logo=logo,
        contact=contact,
        shipping=tuple(shipping),
        checkout=dict(checkout),
    )
    return config, currency
