"""The product page's Share block in a real browser: the buttons appear with JavaScript and
copy the link or the share text; the QR code opens; the system share sheet gets the link."""

from __future__ import annotations

import pytest
from browser import CHROMIUM
from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def open_product(page: Page, url: str, share: bool) -> None:
    """The green tea's page in `page` (the phone page of tests/browser.py), with the clipboard allowed."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    # a stand-in for the system share sheet, or none at all (then the button copies the link)
    page.add_init_script(
        "window.shared = []; navigator.share = function (data) { window.shared.push(data); return Promise.resolve(); };"
        if share else "delete Navigator.prototype.share; delete navigator.share;"
    )  # fmt: skip
    page.goto(url + "products/green/")


def test_copy_share_text_and_link(page: Page, mini_shop: str) -> None:
    open_product(page, mini_shop, share=False)
    block = page.locator("[data-share]")
    block.get_by_role("button", name="Copy share text").click()
    page.locator(".toast.is-shown").filter(has_text="Share text copied").wait_for()
    text = page.evaluate("navigator.clipboard.readText()")
    assert text == block.get_attribute("data-share-text")
    assert text.startswith("Green tea – CN¥128.00 (was CN¥158.00)\n") and text.endswith(f"{mini_shop}products/green/")

    block.get_by_role("button", name="Share", exact=True).click()
    page.locator(".toast.is-shown").filter(has_text="Link copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == f"{mini_shop}products/green/"

    qr = block.locator("img.share__qr-code")
    assert not qr.is_visible()
    block.get_by_text("Show QR code").click()
    assert qr.is_visible()
    page.wait_for_function("document.querySelector('img.share__qr-code').naturalWidth > 0")


def test_share_opens_the_system_share_sheet(page: Page, mini_shop: str) -> None:
    open_product(page, mini_shop, share=True)
    page.locator("[data-share]").get_by_role("button", name="Share", exact=True).click()
    assert page.evaluate("window.shared") == [{"title": "Green tea", "url": f"{mini_shop}products/green/"}]


def test_without_javascript_the_links_are_there_and_the_buttons_are_not(browser: Browser, mini_shop: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(mini_shop + "products/green/")
    block = page.locator("[data-share]")
    assert not block.get_by_role("button", name="Copy share text").is_visible()
    assert block.get_by_role("link", name="square").is_visible()
    assert block.get_by_role("link", name="story").is_visible()
    block.get_by_text("Show QR code").click()
    assert block.locator("img.share__qr-code").is_visible()
    context.close()
