"""A buyer's first minutes in the demo shop, in a real browser at phone and desktop widths,
in each bundled theme."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import CHROMIUM, static_server
from conftest import THEMES, demo_in_theme
from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module", params=THEMES)
def shop_theme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def shop_url(shop_theme: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from generator.build import build

    root = tmp_path_factory.mktemp(f"browser-{shop_theme}")
    site = demo_in_theme(shop_theme, root / "site")
    out = root / "public"
    with static_server(root) as base:
        # Build for the address we serve it on, as `micromall serve` does.
        build(site, out, base_url=base + "public/")
        yield base + "public/"


#: The main navigation a phone shows, per theme: default's bottom tab bar, editorial's masthead.
PHONE_NAV = {"default": "nav.bottom-nav", "editorial": "header nav.masthead__nav"}


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield page
    context.close()
    assert errors == [], errors


def test_phone_home_shows_products_and_navigation(phone: Page, shop_url: str, shop_theme: str) -> None:
    page = phone
    page.goto(shop_url)
    tabs = page.locator(PHONE_NAV[shop_theme])
    assert tabs.is_visible()
    expected = {
        "default": ["Home", "Categories", "Cart", "Stories"],
        "editorial": ["STORIES", "SHOP", "VISIT", "SEARCH", "CART"],  # set in capitals by the CSS
    }
    assert [t.strip() for t in tabs.locator("a").all_inner_texts()] == expected[shop_theme]
    first_card = page.locator(".product-card").first
    assert first_card.is_visible()
    # no horizontal scrolling on a phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_from_home_to_a_product_and_choose_a_variant(phone: Page, shop_url: str) -> None:
    page = phone
    page.goto(shop_url + "products/")
    # a product with a variant picker whose variants have different prices
    links = page.locator(".product-card a").evaluate_all("els => els.map(e => e.href)")
    for href in links:
        page.goto(href)
        inputs = page.locator("[data-variant-picker] input:not([disabled])")
        if inputs.count() >= 2:
            break
    else:
        pytest.fail("the demo has no product with two variants in stock")
    price = page.locator("[data-price-display]")
    labels = page.locator("[data-variant-picker] label")
    before = price.inner_text()
    prices = [re.sub(r"\s+", " ", t) for t in labels.all_inner_texts()]
    target = next(
        (i for i in range(inputs.count()) if inputs.nth(i).get_attribute("value") != _checked(page)),
        None,
    )
    assert target is not None
    value = inputs.nth(target).get_attribute("value")
    page.locator(f"label[for='variant-{value}']").click()
    button = page.locator("[data-add-to-cart]")
    assert button.get_attribute("data-variant") == value
    label_text = page.locator(f"label[for='variant-{value}'] .variant__price").inner_text()
    assert label_text.split()[0] in price.inner_text()
    assert prices and before


def _checked(page: Page) -> str:
    return str(page.locator("[data-variant-picker] input:checked").get_attribute("value"))


def test_desktop_hides_the_tab_bar_and_shows_the_top_nav(browser: Browser, shop_url: str) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(shop_url)
    assert not page.locator("nav.bottom-nav").is_visible()
    assert page.locator(".top-nav").is_visible()
    context.close()


def test_browsing_works_without_javascript(browser: Browser, shop_url: str, shop_theme: str) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(shop_url + "collections/")
    page.locator(PHONE_NAV[shop_theme] + " a", has_text=re.compile("stories", re.I)).click()
    assert page.url.endswith("/stories/")
    page.locator("main a[href*='/stories/']").first.click()
    assert page.locator("main h1").inner_text()
    context.close()


def test_images_have_alt_text_and_sizes(phone: Page, shop_url: str) -> None:
    page = phone
    for path in ["", "products/", "stories/", "stores/"]:
        page.goto(shop_url + path)
        missing = page.evaluate(
            "[...document.images].filter(i => !i.hasAttribute('alt') || !i.getAttribute('width')).map(i => i.src)"
        )
        assert missing == [], (path, missing)
        # lazy images below the fold load only when scrolled to: load them all, then look
        page.evaluate("[...document.images].forEach(i => { i.loading = 'eager'; })")
        page.wait_for_load_state("load")
        broken = page.evaluate(
            "Promise.all([...document.images].map(i => i.decode().then(() => null, () => i.src)))"
            ".then(r => r.filter(Boolean))"
        )
        assert broken == [], (path, broken)


def test_chinese_text_renders(browser: Browser, tmp_path: Path) -> None:
    from conftest import MINI_SITE, write_site

    from generator.build import build

    site_yml = MINI_SITE["site.yml"]
    assert site_yml is not None
    site = write_site(tmp_path / "zh", {**MINI_SITE, "site.yml": site_yml.replace("Mini Tea", "西湖小茶铺")})
    out = tmp_path / "zh-out"
    with static_server(out.parent) as base:
        build(site, out, base_url=base + "zh-out/")
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(base + "zh-out/")
        assert "西湖小茶铺" in page.locator("header").inner_text()
        context.close()


def test_search_finds_products_instantly(phone: Page, shop_url: str) -> None:
    page = phone
    page.goto(shop_url)
    page.locator(".header-search").click()
    page.wait_for_url("**/search/")
    page.locator("input[name=q]").fill("longjing")
    hits = page.locator(".search-hit__title")
    hits.first.wait_for()
    assert "Longjing" in hits.first.inner_text()
    assert "result" in page.locator("[data-search-status]").inner_text()
    page.locator("input[name=q]").fill("zzzz nothing")
    assert hits.count() == 0 and "Nothing found" in page.locator("[data-search-status]").inner_text()
    page.goto(shop_url + "search/?q=teapot")
    hits.first.wait_for()
    assert "Teapot" in hits.first.inner_text()


def test_search_in_chinese_needs_no_spaces(browser: Browser, tmp_path: Path) -> None:
    from conftest import MINI_SITE, write_site

    from generator.build import build

    catalog = (MINI_SITE["content/catalog/tea.yml"] or "").replace("title: Green tea", "title: 西湖龙井绿茶")
    site = write_site(tmp_path / "zh", {**MINI_SITE, "content/catalog/tea.yml": catalog})
    out = tmp_path / "zh-out"
    with static_server(out.parent) as base:
        build(site, out, base_url=base + "zh-out/")
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(base + "zh-out/search/?q=龙井")
        page.locator(".search-hit__title").first.wait_for()
        assert page.locator(".search-hit__title").first.inner_text() == "西湖龙井绿茶"
        context.close()


def test_a_link_can_choose_the_variant(phone: Page, shop_url: str) -> None:
    page = phone
    page.goto(shop_url + "products/longjing-2026/?variant=250g")
    assert page.locator("#variant-250g").is_checked()
    assert page.locator("[data-add-to-cart]").get_attribute("data-variant") == "250g"
    assert "398.00" in page.locator("[data-price-display]").inner_text()


def test_add_to_cart_then_see_it_in_the_cart(phone: Page, shop_url: str) -> None:
    page = phone
    page.goto(shop_url + "products/longjing-2026/")
    page.locator("label[for='variant-100g']").click()
    page.locator("[data-buy-box] [data-quantity]").fill("2")
    page.locator("[data-buy-box] [data-add-to-cart]").click()
    # the count is shown where the theme shows the cart link on a phone
    page.wait_for_function(
        "[...document.querySelectorAll('[data-cart-count]')].some(e => e.offsetParent && e.textContent === '2')",
        timeout=10_000,
    )
    page.goto(shop_url + "cart/")
    line = page.locator("[data-cart-lines] [data-cart-line]")
    line.first.wait_for()
    assert line.count() == 1
    assert "West Lake Longjing" in line.inner_text() and "100 g" in line.inner_text()
    assert "336.00" in page.locator("[data-cart-subtotal]").inner_text()
