"""The buyer's own space in a real browser: favorites, recently viewed and "my orders"."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import CHROMIUM
from conftest import REPO
from playwright.sync_api import Browser, Page
from test_checkout_browser import add_from_product_page, catalog, serve_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    out = tmp_path_factory.mktemp("buyer") / "public"
    for url in serve_site(REPO, out):
        yield url, out


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.route("**/livereload*", lambda route: route.abort())
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == []


def test_favorite_a_product_reload_and_find_it_on_the_favorites_page(page: Page, shop: tuple[str, Path]) -> None:
    url, _ = shop
    products = catalog(url)["products"]
    first, second = products[0], products[1]
    page.goto(url + f"products/{first['id']}/")
    heart = page.locator(".product__head [data-fav]")
    assert heart.get_attribute("aria-pressed") == "false"
    assert first["title"] in (heart.get_attribute("aria-label") or "")
    heart.click()
    assert heart.get_attribute("aria-pressed") == "true"
    page.reload()
    assert page.locator(".product__head [data-fav]").get_attribute("aria-pressed") == "true"

    # a heart on a product card, on another page
    page.goto(url + "products/")
    page.locator(f".product-card [data-fav='{second['id']}']").click()

    page.goto(url + "favorites/")
    cards = page.locator("[data-product-list=favorites] .product-card")
    cards.first.wait_for()
    titles = cards.locator(".product-card__link").all_inner_texts()
    assert titles == [second["title"], first["title"]]  # newest first
    assert page.locator("[data-favorites-empty]").is_hidden()
    # un-favorite from the favorites page; after a reload it is gone
    page.locator(f"[data-product-list=favorites] [data-fav='{second['id']}']").click()
    page.reload()
    cards.first.wait_for()
    assert cards.locator(".product-card__link").all_inner_texts() == [first["title"]]


def test_favorites_page_when_empty(page: Page, shop: tuple[str, Path]) -> None:
    url, _ = shop
    page.goto(url + "favorites/")
    page.locator("[data-favorites-empty]").wait_for()
    assert page.locator("[data-product-list=favorites] li").count() == 0


def test_recently_viewed_on_home_and_cart(page: Page, shop: tuple[str, Path]) -> None:
    url, _ = shop
    products = catalog(url)["products"]
    page.goto(url)
    assert page.locator("[data-recent]").is_hidden(), "nothing viewed yet"
    for p in products[:14]:
        page.goto(url + f"products/{p['id']}/")
    page.goto(url)
    recent = page.locator("[data-recent] .product-card__link")
    recent.first.wait_for()
    expected = [p["title"] for p in reversed(products[:14])][:12]
    assert recent.all_inner_texts() == expected
    page.goto(url + "cart/")
    page.locator("[data-recent] .product-card__link").first.wait_for()
    assert page.locator("[data-recent] .product-card__link").count() == 12


def place_order(page: Page, url: str, product: dict[str, object]) -> str:
    add_from_product_page(page, url + f"products/{product['id']}/")
    page.goto(url + "checkout/")
    form = page.locator("#checkout-form")
    form.locator("[name=name]").fill("Li Wei")
    form.locator("[name=phone]").fill("+86 138 0000 0000")
    form.locator("[name=email]").fill("li@example.com")
    if form.locator("[name=address]").is_visible():
        form.locator("[name=address]").fill("2 Hill Street, Hangzhou")
    form.locator("[type=submit]").click()
    page.wait_for_url(re.compile(r"/order/\?ref="), timeout=15_000)
    page.locator("[data-order-reference]").wait_for()
    return page.locator("[data-order-reference]").inner_text().strip()


def set_status(out: Path, reference: str, status: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "generator", "orders", "set-status", str(REPO), "--database",
         str(out.parent / "preview-orders.sqlite3"), "--catalog", str(out / "catalog.json"), reference, status],
        check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip


def test_my_orders_lists_the_order_with_its_live_status(page: Page, shop: tuple[str, Path], browser: Browser) -> None:
    url, out = shop
    plain = next(p for p in catalog(url)["products"] if not p["variants"] and p["stock"] and not p["sold_out"])
    reference = place_order(page, url, plain)

    page.goto(url + "orders/")
    row = page.locator(f"[data-order-ref='{reference}']")
    status = row.locator("[data-slot=status]")
    status.wait_for()
    assert status.get_attribute("data-status") == "pending_payment"
    assert status.inner_text().strip() == "Waiting for payment"
    set_status(out, reference, "paid")
    page.reload()
    page.locator(f"[data-order-ref='{reference}'] [data-slot=status][data-status=paid]").wait_for()
    assert page.locator(f"[data-order-ref='{reference}'] [data-slot=status]").inner_text().strip() == "Paid"
    row = page.locator(f"[data-order-ref='{reference}']")
    row.locator("[data-slot=ref]").click()
    page.wait_for_url(re.compile(r"/order/\?ref=" + reference))
    page.locator("[data-order-status]").wait_for()
    assert page.locator("[data-order-status]").inner_text().strip() == "Paid"

    # another device: nothing remembered, found by reference and email
    other = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        pg = other.new_page()
        pg.goto(url + "orders/")
        assert pg.locator("[data-orders-empty]").is_visible()
        form = pg.locator("[data-lookup-form]")
        form.locator("[name=reference]").fill(reference)
        form.locator("[name=email]").fill("nobody@example.com")
        form.locator("[type=submit]").click()
        pg.locator("[data-lookup-error]:has-text('No order matches')").wait_for()
        form.locator("[name=email]").fill("LI@example.com")
        form.locator("[type=submit]").click()
        pg.wait_for_url(re.compile(r"/order/\?ref=" + reference))
        pg.locator("[data-order-total]:not(:empty)").wait_for()
        assert pg.locator("[data-order-status]").inner_text().strip() == "Paid"
        pg.goto(url + "orders/")
        pg.locator(f"[data-order-ref='{reference}'] [data-slot=status][data-status=paid]").wait_for()
    finally:
        other.close()
