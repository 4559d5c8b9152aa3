"""The buyer's own space in a real browser: favorites, recently viewed and "my orders"."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import CHROMIUM, shop_page
from conftest import REPO
from playwright.sync_api import Browser, Page
from test_checkout_browser import add_from_product_page, catalog, serve_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The demo shop under `micromall serve`, its group buy moved far ahead so that it is open
    whenever the tests run. Yields (url, site folder); the build is in site/public."""
    site = tmp_path_factory.mktemp("buyer") / "site"
    shutil.copytree(REPO / "content", site / "content")
    shutil.copy(REPO / "site.yml", site / "site.yml")
    teaware = site / "content/catalog/30-teaware.yml"
    text = teaware.read_text("utf-8")
    assert "ends: 2026-12-20" in text
    teaware.write_text(text.replace("ends: 2026-12-20", "ends: 2099-12-20"), "utf-8")
    for url in serve_site(site, site / "public"):
        yield url, site


def shot(page: Page, name: str, focus: str | None = None) -> None:
    """Screenshots for a person to look at, when MICROMALL_SCREENSHOTS names a folder: the
    screen with `focus` in view, or the whole page."""
    folder = os.environ.get("MICROMALL_SCREENSHOTS")
    if folder:
        if focus:
            page.locator(focus).evaluate("e => e.scrollIntoView({block: 'center'})")
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=focus is None)


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
    shot(page, "favorites")
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


def set_status(site: Path, reference: str, status: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "generator", "orders", "set-status", str(site), "--database",
         str(site / "preview-orders.sqlite3"), "--catalog", str(site / "public/catalog.json"), reference, status],
        check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip


def test_my_orders_lists_the_order_with_its_live_status(page: Page, shop: tuple[str, Path], browser: Browser) -> None:
    url, site = shop
    plain = next(p for p in catalog(url)["products"] if not p["variants"] and p["stock"] and not p["sold_out"])
    reference = place_order(page, url, plain)

    page.goto(url + "orders/")
    row = page.locator(f"[data-order-ref='{reference}']")
    status = row.locator("[data-slot=status]")
    status.wait_for()
    assert status.get_attribute("data-status") == "pending_payment"
    assert status.inner_text().strip() == "Waiting for payment"
    shot(page, "my-orders-pending")
    set_status(site, reference, "paid")
    page.reload()
    page.locator(f"[data-order-ref='{reference}'] [data-slot=status][data-status=paid]").wait_for()
    assert page.locator(f"[data-order-ref='{reference}'] [data-slot=status]").inner_text().strip() == "Paid"
    shot(page, "my-orders")
    row = page.locator(f"[data-order-ref='{reference}']")
    row.locator("[data-slot=ref]").click()
    page.wait_for_url(re.compile(r"/order/\?ref=" + reference))
    page.locator("[data-order-status]").wait_for()
    assert page.locator("[data-order-status]").inner_text().strip() == "Paid"

    # another device: nothing remembered, found by reference and email
    with shop_page(browser) as pg:
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


def test_sale_prices_show_by_the_device_clock(page: Page, shop: tuple[str, Path]) -> None:
    url, _ = shop
    data = catalog(url)
    sale = data["promotions"][0]
    product = next(p for p in data["products"] if p["id"] in sale["products"] and not p["variants"])
    sale_price = product["price"] - round(product["price"] * sale["percent"] / 100)
    shown = f"{sale_price // 100:,}.{sale_price % 100:02d}"
    regular = f"{product['price'] // 100:,}.{product['price'] % 100:02d}"

    page.clock.set_fixed_time("2027-03-01T00:00:00Z")  # after the window
    page.goto(url + f"products/{product['id']}/")
    price = page.locator(".buy-box [data-price-display]")
    assert price.locator("[data-when=on]").is_hidden() and price.locator("[data-when=off]").is_visible()
    assert shown not in price.inner_text()
    assert page.locator(".buy-box .promo-banner").is_hidden()

    page.clock.set_fixed_time(sale["starts"])  # the first moment of the window
    page.goto(url + f"products/{product['id']}/")
    assert price.locator("[data-when=on]").is_visible() and price.locator("[data-when=off]").is_hidden()
    assert shown in price.inner_text() and regular in price.locator("s").inner_text()
    assert page.locator(".buy-box .promo-banner").is_visible()
    page.locator("[data-buy-box] [data-add-to-cart]").click()
    page.goto(url + "cart/")
    line = page.locator(f"[data-cart-line][data-product='{product['id']}']")
    line.wait_for()
    assert shown in line.locator("[data-slot=unit]").inner_text()
    assert regular in line.locator("[data-slot=unit] s").inner_text()
    assert page.locator("[data-notice]").count() == 0, "the sale price is no price change"
    assert shown in page.locator("[data-cart-subtotal]").inner_text()


def test_group_buy_progress_on_the_product_page(page: Page, shop: tuple[str, Path]) -> None:
    url, _ = shop
    product = next(p for p in catalog(url)["products"] if p["group_buy"])
    page.goto(url + f"products/{product['id']}/")
    text = page.locator("[data-group-buy-text]")
    text.wait_for()
    before = int(page.locator("[data-group-buy]").get_attribute("data-joined-count") or "-1")
    assert text.inner_text() == f"{before} of {product['group_buy']['min_orders']} joined"

    reference = place_order(page, url, product)
    assert page.locator("[data-order-status]").inner_text().strip() == "Group buy: waiting for others to join"
    page.goto(url + f"products/{product['id']}/")
    page.locator(f"[data-group-buy][data-joined-count='{before + 1}']").wait_for()
    assert text.inner_text() == f"{before + 1} of {product['group_buy']['min_orders']} joined"
    assert page.locator("[data-group-buy-bar]").get_attribute("value") == str(before + 1)
    shot(page, "group-buy", "[data-group-buy]")
    page.goto(url + "orders/")
    page.locator(f"[data-order-ref='{reference}'] [data-slot=status][data-status=preorder]").wait_for()


def test_a_cart_mixing_a_group_buy_with_other_items_says_so_and_holds_the_checkout(
    page: Page, shop: tuple[str, Path]
) -> None:
    url, _ = shop
    products = catalog(url)["products"]
    pot = next(p for p in products if p["group_buy"])
    other = next(p for p in products if not p["group_buy"] and not p["variants"] and p["stock"] and not p["sold_out"])
    add_from_product_page(page, url + f"products/{pot['id']}/")
    add_from_product_page(page, url + f"products/{other['id']}/")

    page.goto(url + "cart/")
    notice = page.locator("[data-cart-mixed]")
    notice.wait_for()
    assert pot["title"] in notice.inner_text() and "ordered on its own" in notice.inner_text()
    assert not page.locator("[data-checkout-link]").is_visible()
    shot(page, "cart-mixed-group-buy", "[data-cart-mixed]")

    page.goto(url + "checkout/")  # reached anyway (a bookmark): the button is held too
    page.locator("#checkout-form [data-cart-mixed]").wait_for()
    assert page.locator("[data-submit]").is_disabled()

    # the other item goes: the group buy checks out on its own
    page.goto(url + "cart/")
    page.locator(f"[data-cart-line][data-product='{other['id']}'] [data-line-remove]").click()
    page.locator("[data-checkout-link]").wait_for()
    assert not notice.is_visible()
    page.goto(url + "checkout/")
    page.locator("#checkout-form").wait_for()
    assert page.locator("[data-submit]").is_enabled()
    assert not page.locator("#checkout-form [data-cart-mixed]").is_visible()
