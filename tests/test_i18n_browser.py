"""The zh-CN demo in a real browser: the scripts speak Chinese and price like the pages."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from browser import CHROMIUM, static_server
from conftest import REPO
from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def zh_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from generator.build import build

    root = tmp_path_factory.mktemp("zh-browser")
    site = root / "site"
    site.mkdir()
    shutil.copytree(REPO / "content", site / "content")
    site_yml = (REPO / "site.yml").read_text("utf-8").replace("\nlanguage: en\n", "\nlanguage: zh-CN\n")
    (site / "site.yml").write_text(site_yml, "utf-8")
    with static_server(root) as base:
        build(site, root / "public", base_url=base + "public/")
        yield base + "public/"


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], errors


def test_adding_to_the_cart_and_the_cart_speak_chinese_and_price_alike(phone: Page, zh_shop: str) -> None:
    page = phone
    page.goto(zh_shop + "products/biluochun/")
    price = page.locator(".product__price .price__current").inner_text()
    assert price == "¥118.00"
    page.get_by_role("button", name="加入购物车").click()
    assert page.locator(".toast").inner_text().startswith("Dongting Biluochun × 1 已加入购物车。")
    page.locator("[data-stepper] [data-step='1']").click()
    page.get_by_role("button", name="加入购物车").click(timeout=5000)

    page.goto(zh_shop + "cart/")
    line = page.locator("[data-cart-line]")
    line.wait_for()
    assert line.locator("[data-slot=unit]").inner_text() == f"单价 {price}"  # the page's price, the script's words
    assert line.locator("[data-slot=total]").inner_text() == "¥354.00"  # 3 × 118, written by the script
    assert page.locator("[data-cart-total]").inner_text() == "¥354.00"
    assert page.locator("[data-cart-items]").inner_text() == "（共 3 件）"
    line.locator("[data-line-quantity]").fill("2")
    line.locator("[data-line-quantity]").dispatch_event("change")
    assert page.locator("[data-cart-status]").inner_text() == "Dongting Biluochun：数量 2。"
    assert page.locator("[data-cart-subtotal]").inner_text() == "¥236.00"
    # the server-side and the script's "free" agree: over 199, standard delivery costs nothing
    standard = page.locator("input[name=shipping][value=standard] >> xpath=..")
    assert standard.locator(".choice__price").inner_text() == "免运费"


def test_search_counts_in_chinese(phone: Page, zh_shop: str) -> None:
    page = phone
    page.goto(zh_shop + "search/?q=oolong")
    status = page.locator("[data-search-status]")
    page.wait_for_function("document.querySelector('[data-search-status]').textContent !== ''")
    assert re.fullmatch(r"找到 \d+ 个与“oolong”相关的结果。", status.inner_text())
    page.fill("input[name=q]", "zzzz")
    assert status.inner_text() == "没有找到与“zzzz”相关的结果。"


def test_chinese_pages_use_cjk_fonts_strict_breaks_and_no_italics(phone: Page, zh_shop: str) -> None:
    page = phone
    page.goto(zh_shop + "stories/spring-harvest-2026/")
    em = page.locator(".prose em").first
    style = em.evaluate("(e) => { const s = getComputedStyle(e); return [s.fontStyle, s.textEmphasisStyle]; }")
    assert style == ["normal", "dot"]
    body = page.evaluate("(() => { const s = getComputedStyle(document.body); return [s.lineBreak, s.fontFamily]; })()")
    assert body[0] == "strict"
    assert body[1].index('"Noto Sans CJK SC"') < body[1].index("system-ui")  # CJK glyphs first
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing overflows
