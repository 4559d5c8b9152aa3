"""What happens to an accepted order: the checkout handler plug-ins.

A handler tells the buyer how to pay (`payment`) and reacts to the payment provider's events
(`webhook`). `manual` records the order and shows the seller's payment instructions; others load
from a `module:Class` path or the `micromall.checkout` entry-point group.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, Protocol

from .catalog import Catalog


class CheckoutHandler(Protocol):
    """A handler whose class sets `needs_reference = True` (stripe) is asked for `payment` only
    once the order is stored, with the stored document (reference, created_at); raising
    PaymentUnavailable there cancels the order (its stock goes back) and the buyer may retry."""

    name: str

    def payment(self, order: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
        """The `payment` part of the order document: instructions and/or a redirect URL."""
        ...

    def webhook(self, headers: dict[str, str], body: bytes, service: Any) -> tuple[int, dict[str, Any]]:
        """Handle a provider's event; return (HTTP status, JSON body)."""
        ...


class ManualHandler:
    """Record the order; the buyer pays as the seller's instructions say, the seller marks it paid."""

    name = "manual"

    def payment(self, order: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
        return {"handler": self.name, "instructions": catalog.payment_instructions, "redirect_url": None}

    def webhook(self, headers: dict[str, str], body: bytes, service: Any) -> tuple[int, dict[str, Any]]:
        return 404, {"error": {"code": "not_found", "message": "the manual handler takes no payment events"}}


class HandlerError(Exception):
    pass


class PaymentUnavailable(Exception):
    """The payment provider cannot be reached or refused to set up the payment."""


def load_handler(spec: str, options: dict[str, Any] | None = None) -> CheckoutHandler:
    """'manual', an entry point name, or 'package.module:ClassName'."""
    if spec == "manual":
        return ManualHandler()
    if spec == "stripe":
        from .stripe import StripeHandler

        try:
            return StripeHandler(**(options or {}))
        except TypeError as exc:
            raise HandlerError(f"checkout handler 'stripe': {exc}") from None
    factory: Any = None
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise HandlerError(f"checkout handler '{spec}' cannot be loaded: {exc}") from None
    else:
        for ep in entry_points(group="micromall.checkout"):
            if ep.name == spec:
                factory = ep.load()
                break
    if factory is None:
        raise HandlerError(f"unknown checkout handler '{spec}' (use manual, module:Class or an installed plug-in)")
    handler: CheckoutHandler = factory(**(options or {}))
    return handler
