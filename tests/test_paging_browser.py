"""The page navigation of a long listing in a real browser, at phone and desktop widths, in each
bundled theme: phones get previous, "Page 2 of 3" and next; wider screens the numbered pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import CHROMIUM, static_server
from conftest import THEMES
from paged_shop import write_paged_shop
from playwright.sync_api import Browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module", params=THEMES)
def paged_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The 120-product shop in one bundled theme, built for the address it is served at."""
    from generator.build import build

    root = tmp_path_factory.mktemp(f"paged-{request.param}")
    site = write_paged_shop(root / "site")
    with (site / "site.yml").open("a", encoding="utf-8") as f:
        f.write(f"theme: {request.param}\n")
    with static_server(root) as base:
        build(site, root / "public", base_url=base + "public/")
        yield base + "public/"


@pytest.mark.parametrize("width", [390, 1280])
def test_page_two_links_its_neighbours_at_every_width(browser: Browser, paged_url: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(paged_url + "products/page/2/")
    nav = page.get_by_role("navigation", name="Pages")
    assert page.locator(".product-grid .product-card").count() == 48
    phone = width < 600
    assert nav.get_by_text("Page 2 of 3").is_visible() == phone
    current = nav.locator("[aria-current=page]")
    assert current.is_visible() != phone and current.inner_text() == "2"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "nothing sticks out sideways"
    nav.get_by_role("link", name="Next").click()
    page.wait_for_url("**/products/page/3/")
    assert page.locator(".product-grid .product-card").count() == 24
    assert page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next").count() == 0
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Previous").click()
    page.wait_for_url("**/products/page/2/")
    if not phone:
        page.get_by_role("link", name="Page 1", exact=True).click()
        page.wait_for_url(lambda url: url.endswith("/products/"))
    context.close()
    assert errors == [], errors
