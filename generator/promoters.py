"""content/promoters.yml: the people who sell on the shop's behalf, and where their kits are.

Each promoter gets a kit page at `kit/<code>-<16 hex>/`. The hex part is an HMAC of the code
with the file's `kit_secret`, so it is the same in every build (links already sent keep
working) and cannot be worked out from anything public: the codes travel in every shared link.

    kit_secret: env:MICROMALL_KIT_SECRET   # or the value itself, in a private repository
    promoters:
      - code: anna
        name: Anna Li
        commission: 0.1                    # of the order subtotal; optional

The report (`micromall orders report --by promoter`) reads this file for names and
commissions without the secret: `parse_promoters(src, secret=False)`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from .errors import Problem
from .fields import Obj, SourceFile, field_name, kind_of
from .model import Promoter
from .yamlsafe import YamlError, decode, parse_yaml

PROMOTERS_FILE = "content/promoters.yml"
PROMOTERS_FILE_KEYS = ("kit_secret", "promoters")
PROMOTER_KEYS = ("code", "name", "commission")
CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_CODE = 40
MIN_SECRET = 16
HASH_CHARS = 16
SECRET_HINT = (
    "a long random text that keeps the kit pages' addresses unguessable, e.g. kit_secret: env:MICROMALL_KIT_SECRET"  # nosec B105 - a hint, not a password
    ' with that variable set to the output of: python -c "import secrets; print(secrets.token_hex(16))"'
)


@dataclass(frozen=True)
class PromotersFile:
    promoters: tuple[Promoter, ...]
    secret: str  # "" when not resolved (or missing: then there is a problem on record)


def kit_hash(secret: str, code: str) -> str:
    """The unguessable part of a kit's address: stable for one secret, unrelated between codes."""
    digest = hmac.new(secret.encode("utf-8"), b"micromall-kit:" + code.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:HASH_CHARS]


def kit_url(secret: str, code: str) -> str:
    return f"kit/{code}-{kit_hash(secret, code)}/"


def is_code(value: object) -> bool:
    """What a referral code looks like; the shop's JavaScript and the order service agree on it."""
    return isinstance(value, str) and len(value) <= MAX_CODE and CODE.match(value) is not None


def _commission(obj: Obj) -> Decimal | None:
    value = obj.data.get("commission")
    if value is None:
        return None
    hint = "a fraction of the order subtotal from 0 to 1, such as 0.1 for 10%"
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        obj.src.error(obj.at("commission"), f"must be {hint}, got {kind_of(value)}")
        return None
    amount = Decimal(value)
    if not amount.is_finite() or not 0 <= amount <= 1:
        obj.src.error(obj.at("commission"), f"must be {hint}, got {value}")
        return None
    return amount


def _secret(src: SourceFile, root: Obj) -> str:
    value = root.data.get("kit_secret")
    path = root.at("kit_secret")
    if value is None:
        src.error(path, "is required when there are promoters: " + SECRET_HINT)
        return ""
    if not isinstance(value, str):
        src.error(path, f"must be text, got {kind_of(value)}")
        return ""
    value = value.strip()
    if value.startswith("env:"):
        name = value[4:].strip()
        if not os.environ.get(name):
            src.error(path, f"environment variable {name} is not set (it holds the kit pages' secret)")
            return ""
        value = os.environ[name]
    if len(value) < MIN_SECRET:
        src.error(path, f"must be at least {MIN_SECRET} characters, so that kit addresses cannot be guessed")
        return ""
    return value


def parse_promoters(src: SourceFile, secret: bool = True) -> PromotersFile:
    """Every promoter, checked; with `secret`, also the kit secret and each kit's address."""
    root = src.obj(src.doc.data if src.doc.data is not None else {}, (), PROMOTERS_FILE_KEYS)
    if root is None:
        return PromotersFile((), "")
    found: list[tuple[str, str, Decimal | None]] = []
    seen: dict[str, int] = {}
    for path, item in root.items("promoters", required=True):
        obj = src.obj(item, path, PROMOTER_KEYS)
        if obj is None:
            continue
        code = obj.text("code", required=True)
        if code and not is_code(code):
            src.error(obj.at("code"), f"'{code}' is not a valid code: use up to {MAX_CODE} lowercase letters,"
                      " digits and hyphens (it appears in links as ?ref=CODE)")  # fmt: skip
            code = ""
        elif code in seen:
            src.error(obj.at("code"), f"duplicate promoter code '{code}' (first at line {seen[code]})")
            code = ""
        elif code:
            seen[code] = src.line(obj.at("code"))
        name = obj.text("name", required=True)
        commission = _commission(obj)
        if code and name:
            found.append((code, name, commission))
    key = _secret(src, root) if secret and root.data.get("promoters") else ""
    promoters = tuple(Promoter(code, name, commission, kit_url(key, code) if key else "") for code, name, commission
                      in found)  # fmt: skip
    return PromotersFile(promoters, key)


def read_promoters(site_dir: Path) -> tuple[tuple[Promoter, ...], list[Problem]]:
    """The site's promoters without their kits (no secret needed), for the order reports."""
    file = site_dir / PROMOTERS_FILE
    problems: list[Problem] = []
    if not file.is_file():
        return (), problems
    try:
        doc = parse_yaml(decode(file.read_bytes()))
    except YamlError as exc:
        return (), [Problem(PROMOTERS_FILE, exc.line, field_name(exc.path), exc.message, column=exc.column)]
    except OSError as exc:
        return (), [Problem(PROMOTERS_FILE, 0, "", f"cannot be read: {exc.strerror}")]
    found = parse_promoters(SourceFile(PROMOTERS_FILE, doc, problems), secret=False)
    return found.promoters, problems
