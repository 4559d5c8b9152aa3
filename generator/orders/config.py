"""The order service's own settings: a YAML file beside the site (never in the built output)
plus environment variables for secrets. Nothing here is ever written into the shop's pages."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import Problem, did_you_mean
from ..fields import Obj, SourceFile, field_name
from ..i18n import is_language
from ..money import parse_price
from ..yamlsafe import YamlError, decode, parse_yaml
from .limits import RateLimit, parse_networks
from .pricing import Coupon
from .store import BUYER_NOTIFIER

CONFIG_KEYS = (
    "catalog", "database", "allowed_origins", "admin_token", "handler", "reference_prefix",
    "coupons", "notify", "trusted_proxies", "handler_options", "rate_limit", "admin_max_failures", "buyer_email",
)  # fmt: skip
RATE_LIMIT_KEYS = ("per_second", "burst", "exempt")
COUPON_KEYS = (
    "code", "percent_off", "amount_off", "min_spend", "expires", "max_uses", "once_per_customer", "promotion",
)  # fmt: skip
NOTIFY_KEYS = (
    "type", "url", "secret", "host", "port", "username", "password", "sender", "to", "starttls", "timeout", "language",
)  # fmt: skip
NOTIFY_TYPES = ("log", "webhook", "email")
#: `buyer_email:` is an SMTP account like an email notifier's, but mails each buyer (no `to`).
BUYER_EMAIL_KEYS = ("host", "port", "username", "password", "sender", "starttls", "timeout", "language")


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class NotifierConfig:
    type: str
    options: dict[str, Any]
    name: str


@dataclass(frozen=True)
class ServiceConfig:
    catalog: Path
    database: str  # a SQLite file path, or a postgresql:// URL
    allowed_origins: tuple[str, ...] = ()
    admin_token: str = ""
    handler: str = "manual"
    handler_options: dict[str, Any] = field(default_factory=dict)
    reference_prefix: str = "MM"
    coupons: dict[str, Coupon] = field(default_factory=dict)
    notify: tuple[NotifierConfig, ...] = (NotifierConfig("log", {}, "log"),)
    trusted_proxies: tuple[str, ...] = ()
    max_body: int = 64 * 1024
    max_json_depth: int = 32
    rate_limit: RateLimit = field(default_factory=RateLimit)
    admin_max_failures: int = 10  # wrong admin tokens per minute per client before 429
    buyer_email: NotifierConfig | None = None  # tells buyers how their group buy ended; None: nobody

    @property
    def is_postgres(self) -> bool:
        return self.database.startswith(("postgresql://", "postgres://"))

    def secrets(self) -> list[str]:
        """Every secret value, so that tests can prove none of them reaches the built site."""
        found = [self.admin_token] if self.admin_token else []
        found += [str(v) for k, v in self.handler_options.items() if "secret" in k or "key" in k]
        for n in self.notify:
            found += [str(n.options[k]) for k in ("secret", "password") if n.options.get(k)]
        if self.buyer_email is not None and self.buyer_email.options.get("password"):
            found.append(str(self.buyer_email.options["password"]))
        return found


def _resolve_env(value: object, src: SourceFile, path: tuple[str | int, ...]) -> object:
    """'env:NAME' reads the secret from the environment, so the file itself can be shared."""
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:]
        if name not in os.environ:
            src.error(path, f"environment variable {name} is not set")
            return ""
        return os.environ[name]
    return value


def load_service_config(file: Path | None, site_dir: Path, overrides: dict[str, Any] | None = None) -> ServiceConfig:
    """Read the service config (all optional); relative paths are relative to the site folder."""
    problems: list[Problem] = []
    data: dict[str, Any] = {}
    src = None
    if file is not None:
        rel = file.name
        try:
            doc = parse_yaml(decode(file.read_bytes()))
        except FileNotFoundError:
            raise ConfigError([Problem(rel, 0, "", "file not found")]) from None
        except YamlError as exc:
            raise ConfigError([Problem(rel, exc.line, field_name(exc.path), exc.message, column=exc.column)]) from None
        src = SourceFile(rel, doc, problems)
        root = src.obj(doc.data if doc.data is not None else {}, (), CONFIG_KEYS)
        if root is not None:
            data = {k: _resolve_env(v, src, (k,)) for k, v in root.data.items()}
            root.data = data
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})

    catalog = Path(str(data.get("catalog", "public/catalog.json")))
    database = str(data.get("database", "orders.sqlite3"))
    if not database.startswith(("postgresql://", "postgres://")):
        database = str(site_dir / database) if not Path(database).is_absolute() else database
    coupons: dict[str, Coupon] = {}
    notifiers: list[NotifierConfig] = []
    buyer_email = None
    if src is not None and root is not None:
        coupons = _coupons(src, root)
        notifiers = _notifiers(src, root)
        buyer_email = _buyer_email(src, root)
    origins = data.get("allowed_origins") or []
    proxies = tuple(str(p) for p in data.get("trusted_proxies") or ())
    rate_limit = RateLimit()
    admin_max_failures = 10
    if src is not None and root is not None:
        proxies = _networks(src, ("trusted_proxies",), proxies)
        rate_limit = _rate_limit(src, root)
        admin_max_failures = root.integer("admin_max_failures", minimum=1) or 10
    prefix = _prefix(src, data.get("reference_prefix", "MM"))
    if problems:
        raise ConfigError(problems)
    return ServiceConfig(
        catalog=catalog if catalog.is_absolute() else site_dir / catalog,
        database=database,
        allowed_origins=tuple(str(o).rstrip("/") for o in origins),
        admin_token=str(data.get("admin_token") or os.environ.get("MICROMALL_ADMIN_TOKEN", "")),
        handler=str(data.get("handler", "manual")),
        handler_options=_handler_options(src, data.get("handler_options")),
        reference_prefix=prefix,
        coupons=coupons,
        notify=tuple(notifiers) if notifiers or (src and "notify" in data) else (NotifierConfig("log", {}, "log"),),
        trusted_proxies=proxies,
        rate_limit=rate_limit,
        admin_max_failures=admin_max_failures,
        buyer_email=buyer_email,
    )


def _networks(src: SourceFile, path: tuple[str | int, ...], values: tuple[str, ...]) -> tuple[str, ...]:
    """Addresses or CIDR networks; a typo here would silently trust or exempt nobody."""
    good = []
    for i, value in enumerate(values):
        try:
            parse_networks([value])
        except ValueError:
            src.error((*path, i), f"'{value}' is not an IP address or network such as 10.0.0.0/8")
            continue
        good.append(value)
    return tuple(good)


def _rate_limit(src: SourceFile, root: Obj) -> RateLimit:
    """rate_limit: {per_second: 5, burst: 100, exempt: [127.0.0.1]}; per_second 0 turns it off."""
    default = RateLimit()
    if root.data.get("rate_limit") is None:
        return default
    obj = src.obj(root.data["rate_limit"], ("rate_limit",), RATE_LIMIT_KEYS)
    if obj is None:
        return default
    per_second = obj.data.get("per_second", default.per_second)
    if isinstance(per_second, bool) or not isinstance(per_second, int | float) or per_second < 0:
        src.error(obj.at("per_second"), "must be a number of requests per second (0 turns the limit off)")
        per_second = default.per_second
    burst = obj.integer("burst", minimum=1)
    exempt = obj.data.get("exempt", list(default.exempt))
    if not isinstance(exempt, list):
        src.error(obj.at("exempt"), "must be a list of IP addresses or networks")
        exempt = list(default.exempt)
    return RateLimit(
        per_second=float(per_second),
        burst=burst if burst is not None else default.burst,
        exempt=_networks(src, ("rate_limit", "exempt"), tuple(str(e) for e in exempt)),
    )


def _prefix(src: SourceFile | None, value: object) -> str:
    """Order references are PREFIX-XXXXXX: a short, URL-safe prefix."""
    text = str(value)
    if not re.fullmatch(r"[A-Z0-9]{1,10}", text):
        if src is not None:
            src.error(("reference_prefix",), f"must be 1 to 10 capital letters or digits, got '{text}'")
        return "MM"
    return text


def _handler_options(src: SourceFile | None, value: object) -> dict[str, Any]:
    """Options for the checkout handler (e.g. stripe's keys); 'env:NAME' values read the environment."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        if src is not None:
            src.error(("handler_options",), "must be a mapping of option names to values")
        return {}
    if src is None:
        return dict(value)
    return {str(k): _resolve_env(v, src, ("handler_options", str(k))) for k, v in value.items()}


def _coupons(src: SourceFile, root: Obj) -> dict[str, Coupon]:
    out: dict[str, Coupon] = {}
    promotions: dict[str, Coupon] = {}
    for path, item in root.items("coupons"):
        obj = src.obj(item, path, COUPON_KEYS)
        if obj is None:
            continue
        code = obj.text("code", required=True).upper()
        percent = obj.integer("percent_off", minimum=1)
        if percent is not None and percent > 100:
            src.error(obj.at("percent_off"), "must be from 1 to 100")
        amount = obj.data.get("amount_off")
        if (percent is None) == (amount is None):
            src.error(path, "give exactly one of percent_off or amount_off")
        coupon = Coupon(
            code=code,
            percent_off=percent,
            amount_off=_amount(obj, "amount_off"),
            min_spend=_amount(obj, "min_spend") or Decimal(0),
            expires=obj.date("expires"),
            max_uses=obj.integer("max_uses", minimum=1),
            once_per_customer=obj.boolean("once_per_customer", False),
            promotion=obj.text("promotion") or None,
        )
        if code in out:
            src.error(obj.at("code"), f"duplicate coupon code '{code}'")
        if coupon.promotion is not None:
            first = promotions.setdefault(coupon.promotion, coupon)
            if (first.max_uses, first.once_per_customer) != (coupon.max_uses, coupon.once_per_customer):
                src.error(path, f"the codes of promotion '{coupon.promotion}' must have the same max_uses and"
                                " once_per_customer (they share one count)")  # fmt: skip
        out[code] = coupon
    return out


def _amount(obj: Obj, key: str) -> Decimal | None:
    """Coupon amounts are written like prices (19.90), in the shop's currency."""
    value = obj.data.get(key)
    if value is None:
        return None
    try:
        parse_price(value, "")  # checks it is a plain, non-negative number
    except ValueError as exc:
        obj.src.error(obj.at(key), str(exc))
        return None
    return Decimal(str(value))


def _notifiers(src: SourceFile, root: Obj) -> list[NotifierConfig]:
    out = []
    for i, (path, item) in enumerate(root.items("notify")):
        obj = src.obj(item, path, NOTIFY_KEYS)
        if obj is None:
            continue
        kind = obj.text("type", required=True)
        if kind not in NOTIFY_TYPES:
            src.error(obj.at("type"), f"unknown notifier '{kind}'{did_you_mean(kind, NOTIFY_TYPES)}")
            continue
        options = {k: _resolve_env(v, src, (*path, k)) for k, v in obj.data.items() if k != "type"}
        if kind == "webhook":
            url = str(options.get("url", ""))
            if urlsplit(url).scheme not in ("http", "https"):
                src.error(obj.at("url"), "must be an http(s) URL")
            if not options.get("secret"):
                src.error(obj.at("secret"), "is required: the receiver checks the signature with it")
        if kind == "email":
            for key in ("host", "sender", "to"):
                if not options.get(key):
                    src.error(obj.at(key), "is required")
            if "language" in options and not is_language(str(options["language"])):
                src.error(obj.at("language"), f"'{options['language']}' is not a language tag such as en or zh-CN")
        out.append(NotifierConfig(kind, options, f"{kind}-{i}"))
    return out


def _buyer_email(src: SourceFile, root: Obj) -> NotifierConfig | None:
    """buyer_email: {host, sender, ...}: the SMTP account that tells buyers how their group buy
    ended. Without it buyers follow their order on the "My orders" page only."""
    if root.data.get("buyer_email") is None:
        return None
    obj = src.obj(root.data["buyer_email"], ("buyer_email",), BUYER_EMAIL_KEYS)
    if obj is None:
        return None
    options = {k: _resolve_env(v, src, ("buyer_email", k)) for k, v in obj.data.items()}
    for key in ("host", "sender"):
        if not options.get(key):
            src.error(obj.at(key), "is required")
    if "language" in options and not is_language(str(options["language"])):
        src.error(obj.at("language"), f"'{options['language']}' is not a language tag such as en or zh-CN")
    return NotifierConfig("email", options, BUYER_NOTIFIER)
