"""The shop the reliability checks sell from, and order bodies for it."""

from __future__ import annotations

from typing import Any

#: The shop every L and F check sells from; stock numbers are set per test.
SITE_YML = """\
    title: Reliability
    base_url: https://shop.example.com/
    currency: CNY
    contact: {email: seller@example.com}
    shipping: [{id: standard, label: Standard, price: 10}]
    """

BUYER = {"name": "Buyer", "phone": "+86 138 0000 0000", "email": "b@example.com", "address": "1 Road"}
SHIPPING = 1000  # minor units


def products_yaml(products: dict[str, tuple[int, int | None]]) -> str:
    """products: id -> (price in whole yuan, stock or None for unlimited)."""
    lines = ["products:"]
    for pid, (price, stock) in products.items():
        stock_part = "" if stock is None else f", stock: {stock}"
        lines.append(f"  - {{id: {pid}, title: {pid.capitalize()}, price: {price}{stock_part}}}")
    return "\n".join(lines) + "\n"


def cart(lines: list[tuple[str, int]], prices: dict[str, int], **extra: Any) -> dict[str, Any]:
    """An order body for (product, qty) lines with the right expected_total (prices in minor units)."""
    total = sum(prices[p] * q for p, q in lines) + SHIPPING
    body: dict[str, Any] = {
        "items": [{"product": p, "variant": None, "quantity": q} for p, q in lines],
        "shipping": "standard",
        "customer": dict(BUYER),
        "expected_total": total,
    }
    body.update(extra)
    return body
