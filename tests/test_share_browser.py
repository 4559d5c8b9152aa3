"""The product page's Share block in a real browser: the buttons appear with JavaScript and
copy the link or the share text; the QR code opens; the system share sheet gets the link."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser import CHROMIUM, static_server
from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture
def shop(make_site: Callable[..., Path], tmp_path: Path) -> Iterator[str]:
    from generator.build import build

    site = make_site()
    out = tmp_path / "serve" / "public"
    out.parent.mkdir()
    with static_server(out.parent) as base:
        build(site, out, base_url=base + "public/")
        yield base + "public/"


def open_product(browser: Browser, url: str, share: bool) -> Page:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    # a stand-in for the system share sheet, or none at all (then the button copies the link)
    page.add_init_script(
        "window.shared = []; navigator.share = function (data) { window.shared.push(data); return Promise.resolve(); };"
        if share else "delete Navigator.prototype.share; delete navigator.share;"
    )  # fmt: skip
    page.goto(url + "products/green/")
    return page


def test_copy_share_text_and_link(browser: Browser, shop: str) -> None:
    page = open_product(browser, shop, share=False)
    block = page.locator("[data-share]")
    block.get_by_role("button", name="Copy share text").click()
    page.locator(".toast.is-shown").filter(has_text="Share text copied").wait_for()
    text = page.evaluate("navigator.clipboard.readText()")
    assert text == block.get_attribute("data-share-text")
    assert text.startswith("Green tea – CN¥128.00 (was CN¥158.00)\n") and text.endswith(f"{shop}products/green/")

    block.get_by_role("button", name="Share", exact=True).click()
    page.locator(".toast.is-shown").filter(has_text="Link copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == f"{shop}products/green/"

    qr = block.locator("img.share__qr-code")
    assert not qr.is_visible()
    block.get_by_text("Show QR code").click()
    assert qr.is_visible()
    page.wait_for_function("document.querySelector('img.share__qr-code').naturalWidth > 0")
    page.context.close()


def test_share_opens_the_system_share_sheet(browser: Browser, shop: str) -> None:
    page = open_product(browser, shop, share=True)
    page.locator("[data-share]").get_by_role("button", name="Share", exact=True).click()
    assert page.evaluate("window.shared") == [{"title": "Green tea", "url": f"{shop}products/green/"}]
    page.context.close()


def test_without_javascript_the_links_are_there_and_the_buttons_are_not(browser: Browser, shop: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(shop + "products/green/")
    block = page.locator("[data-share]")
    assert not block.get_by_role("button", name="Copy share text").is_visible()
    assert block.get_by_role("link", name="square").is_visible()
    assert block.get_by_role("link", name="story").is_visible()
    block.get_by_text("Show QR code").click()
    assert block.locator("img.share__qr-code").is_visible()
    context.close()
