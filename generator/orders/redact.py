"""Keep contact details and secrets out of the service log, whatever a message interpolates.

The service's own log lines name orders by reference, never by customer; this filter is the
second line of defence for text that comes from elsewhere (an SMTP server's refusal quoting the
address, an exception message): email addresses are masked to a short hash, and known secrets
(the admin token, webhook and API secrets) are replaced.
"""

from __future__ import annotations

import hashlib
import logging
import re

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,253}\.[A-Za-z]{2,}")
SECRET_PREFIX = re.compile(r"\b(?:whsec|sk_live|sk_test|rk_live|rk_test)_[A-Za-z0-9]+")


def mask_email(address: str) -> str:
    """'li@example.com' -> 'l***@example.com#1a2b3c4d': the same address always masks the same way."""
    local, _, domain = address.partition("@")
    digest = hashlib.sha256(address.lower().encode("utf-8")).hexdigest()[:8]
    return f"{local[:1]}***@{domain}#{digest}"


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    for secret in secrets:
        if len(secret) >= 8:
            text = text.replace(secret, "[secret]")
    text = SECRET_PREFIX.sub("[secret]", text)
    return EMAIL.sub(lambda m: mask_email(m.group(0)), text)


class RedactingFilter(logging.Filter):
    """A handler filter: formats the record's message once, redacted, and drops its args."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


def install(secrets: tuple[str, ...] = ()) -> None:
    """Add the filter to every handler of the root logger (call after logging.basicConfig)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter(secrets))
