"""The whole order path in a real browser: the demo shop and its order service, one command."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import CHROMIUM, free_port, wait_until_serving
from conftest import REPO
from playwright.sync_api import Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def serve_site(site: Path, out: Path) -> Iterator[str]:
    """`micromall serve` in a subprocess (static shop + /api), stopped by its pid afterwards."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "generator", "serve", str(site), "--port", str(port), "--out", str(out)],
            stdout=log, stderr=log, env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/"
        try:
            # `serve` builds the whole shop (share pictures, photo sizes) before it listens
            wait_until_serving(url, proc, log, within=120)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    out = tmp_path_factory.mktemp("checkout") / "public"
    for url in serve_site(REPO, out):
        yield url, out.parent / "preview-orders.sqlite3"


def catalog(out_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(out_url + "catalog.json") as response:
        data: dict[str, Any] = json.load(response)
    return data


def add_from_product_page(page: Page, url: str, variant: str | None = None, quantity: int = 1) -> None:
    page.goto(url)
    if variant:
        page.locator(f"label[for='variant-{variant}']").click()
    if quantity != 1:
        page.locator("[data-buy-box] [data-quantity]").fill(str(quantity))
    page.locator("[data-buy-box] [data-add-to-cart]").click()


def check_out_for_pickup(page: Page, pickup: str, store: str, customer: dict[str, str]) -> str:
    """From the cart page: store pickup at `store`, then the checkout form filled in with
    `customer` (field name -> value) and sent; the reference on the order page it leads to."""
    page.locator(f"input[name=shipping][value='{pickup}']").check()
    if page.locator("select[name=store]").is_visible():
        page.locator("select[name=store]").select_option(store)
    page.locator("[data-checkout-link]").click()
    page.wait_for_url(re.compile(r"/checkout/"))
    form = page.locator("#checkout-form")
    for field, value in customer.items():
        form.locator(f"[name={field}]").fill(value)
    if form.locator("select[name=store]").is_visible():
        form.locator("select[name=store]").select_option(store)
    form.locator("[type=submit]").click()
    page.wait_for_url(re.compile(r"/order/\?ref="), timeout=15_000)
    return page.locator("[data-order-reference]").inner_text().strip()


def test_order_two_products_for_store_pickup(page: Page, demo: tuple[str, Path]) -> None:
    url, db = demo
    data = catalog(url)
    products = {p["id"]: p for p in data["products"]}
    tin = products["longjing-2026"]
    variant = next(v for v in tin["variants"] if v["id"] != tin["variants"][0]["id"] and v["stock"])
    plain = next(p for p in data["products"] if not p["variants"] and p["stock"] and not p["sold_out"])

    add_from_product_page(page, url + f"products/{tin['id']}/", variant=variant["id"])
    add_from_product_page(page, url + f"products/{plain['id']}/")
    assert page.locator("[data-cart-count]").first.inner_text().strip() == "2"

    page.goto(url + "cart/")
    line = page.locator(f"[data-cart-line][data-product='{plain['id']}']")
    line.locator('[data-step="1"]').click()  # quantity 2
    assert line.locator("[data-line-quantity]").input_value() == "2"
    pickup = next(m for m in data["shipping"] if m["pickup"])
    store = next(s for s in data["stores"] if s["pickup"])
    expected = variant["price"] + 2 * plain["price"]
    customer = {"name": "Li Wei", "phone": "+86 138 0000 0000", "email": "li@example.com"}
    reference = check_out_for_pickup(page, pickup["id"], store["id"], customer)
    assert re.fullmatch(r"MM-[A-Z0-9]{6}", reference)
    assert re.fullmatch(r"\d{4}", page.locator("[data-pickup-code]").inner_text().strip())
    assert store["name"] in page.locator("main").inner_text()

    with sqlite3.connect(db) as conn:
        total, shipping, store_id = conn.execute(
            "SELECT total, shipping_id, store_id FROM orders WHERE reference = ?", (reference,)
        ).fetchone()
        items = conn.execute(
            "SELECT sku_key, quantity, unit_price FROM order_items WHERE reference = ? ORDER BY line", (reference,)
        ).fetchall()
        stock = dict(conn.execute("SELECT key, available FROM stock").fetchall())
    assert total == expected and shipping == pickup["id"] and store_id == store["id"]
    assert sorted(items) == sorted([(f"{tin['id']}/{variant['id']}", 1, variant["price"]),
                                    (plain["id"], 2, plain["price"])])  # fmt: skip
    assert stock[f"{tin['id']}/{variant['id']}"] == variant["stock"] - 1
    assert stock[plain["id"]] == plain["stock"] - 2
    page.goto(url + "cart/")
    page.locator("[data-cart-empty]").wait_for()
    assert page.locator("[data-cart-line]").count() == 0


@pytest.fixture(scope="module")
def message_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import shutil

    root = tmp_path_factory.mktemp("message")
    site = root / "site"
    site.mkdir()
    shutil.copytree(REPO / "content", site / "content")
    text = (REPO / "site.yml").read_text("utf-8")
    (site / "site.yml").write_text(text.replace("handler: http", "handler: message"), "utf-8")
    yield from serve_site(site, root / "public")


def test_message_handler_composes_the_order(page: Page, message_shop: str) -> None:
    url = message_shop
    data = catalog(url)
    plain = [p for p in data["products"] if not p["variants"] and p["stock"] and not p["sold_out"]][:2]
    add_from_product_page(page, url + f"products/{plain[0]['id']}/", quantity=3)
    add_from_product_page(page, url + f"products/{plain[1]['id']}/")
    page.goto(url + "cart/")
    standard = data["shipping"][0]
    page.locator(f"input[name=shipping][value='{standard['id']}']").check()
    page.locator("[data-checkout-link]").click()
    form = page.locator("#checkout-form")
    form.locator("[name=name]").fill("Ann")
    form.locator("[name=phone]").fill("+44 20 7946 0000")
    form.locator("[name=email]").fill("ann@example.com")
    form.locator("[name=address]").fill("1 High Street, London")
    form.locator("[type=submit]").click()
    message = page.locator("[data-order-message]").input_value()
    assert f"3 × {plain[0]['title']}" in message or f"3 x {plain[0]['title']}" in message, message
    assert plain[1]["title"] in message
    subtotal = 3 * plain[0]["price"] + plain[1]["price"]
    free = standard["free_over"] is not None and subtotal >= standard["free_over"]
    total = subtotal + (0 if free else standard["price"])
    shown = f"{total // 100:,}.{total % 100:02d}"
    assert shown in message, (shown, message)
    assert "1 High Street, London" in message
    mail = page.locator("[data-send=email]").get_attribute("href") or ""
    assert mail.startswith("mailto:hello@example.com?") and "subject=" in mail


def test_the_cart_tells_the_buyer_about_a_changed_price_and_a_removed_product(
    page: Page, demo: tuple[str, Path]
) -> None:
    url, _ = demo
    data = catalog(url)
    plain = next(p for p in data["products"] if not p["variants"] and p["stock"] and not p["sold_out"])
    add_from_product_page(page, url + f"products/{plain['id']}/")
    # What the buyer saw when adding: another price, and a product that is gone since.
    page.evaluate(
        """([price]) => {
            const key = Object.keys(localStorage).find(k => k.startsWith("micromall:cart:"));
            const cart = JSON.parse(localStorage.getItem(key));
            cart.items[0].price = price;
            cart.items.push({product: "discontinued-tea", variant: null, quantity: 1, price: 100, title: "Old Tea"});
            localStorage.setItem(key, JSON.stringify(cart));
        }""",
        [plain["price"] - 100],
    )
    page.goto(url + "cart/")
    page.locator("[data-notice]").first.wait_for()  # the cart compares with catalog.json once it has loaded
    notices = " ".join(page.locator("[data-notice]").all_inner_texts())
    assert plain["title"] in notices and "Old Tea" in notices
    assert page.locator("[data-cart-line]").count() == 1, "the removed product left the cart"
    page.reload()
    page.locator("[data-cart-line]").first.wait_for()
    assert page.locator("[data-notice]").count() == 0, "each change is told once"
