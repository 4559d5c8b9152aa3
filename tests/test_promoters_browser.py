"""Promoters and chat apps in a real browser: a referral link leads to an order that the
per-promoter report counts; ?ref= is kept for 30 days, last touch winning; in a chat app's own
browser the share panel shows the poster first."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from browser import CHROMIUM, shop_page
from click.testing import Result
from conftest import REPO
from playwright.sync_api import Browser, Page
from test_checkout_browser import add_from_product_page, catalog, check_out_for_pickup, serve_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F35) "
    "WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    out = tmp_path_factory.mktemp("promoters") / "public"
    for url in serve_site(REPO, out):
        yield url, out.parent / "preview-orders.sqlite3"


def test_an_order_from_a_referral_link_is_in_the_promoter_report(
    page: Page, demo: tuple[str, Path], cli: Callable[..., Result]
) -> None:
    url, db = demo
    data = catalog(url)
    plain = next(p for p in data["products"] if not p["variants"] and p["stock"] and not p["sold_out"])
    store = next(s for s in data["stores"] if s["pickup"])

    page.goto(url + f"?store={store['id']}")  # scanned a store's counter poster first
    add_from_product_page(page, url + f"products/{plain['id']}/?ref=anna", quantity=3)
    assert page.evaluate("window.micromall.attribution()") == {"ref": "anna", "source_store": store["id"]}

    page.goto(url + "cart/")
    pickup = next(m for m in data["shipping"] if m["pickup"])
    customer = {"name": "Anna's friend", "phone": "+49 30 1234567", "email": "friend@example.com"}
    reference = check_out_for_pickup(page, pickup["id"], store["id"], customer)

    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT ref, source_store, subtotal, total FROM orders WHERE reference = ?", (reference,))
        ref, source_store, subtotal, total = row.fetchone()
    assert (ref, source_store, subtotal) == ("anna", store["id"], 3 * plain["price"])

    result = cli("orders", "report", str(REPO), "--by", "promoter", "--database", str(db))
    assert result.exit_code == 0, result.output
    anna = next(line for line in result.output.splitlines() if line.split()[:1] == ["anna"])
    commission = int((Decimal(subtotal) * Decimal("0.1")).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def cny(minor: int) -> str:
        return f"CN¥{Decimal(minor) / 100:,.2f}"

    assert anna.split() == ["anna", "Anna", "Becker", "1", cny(subtotal), cny(total), "10%", cny(commission)]


def attribution(page: Page) -> dict[str, str | None]:
    found: dict[str, str | None] = page.evaluate("window.micromall.attribution()")
    return found


def test_the_referral_code_is_kept_last_touch_for_30_days(page: Page, mini_shop: str) -> None:
    page.goto(mini_shop)
    assert attribution(page) == {"ref": None, "source_store": None}
    page.goto(mini_shop + "?ref=anna")
    page.goto(mini_shop + "products/")  # no code in this address: the kept one stays
    assert attribution(page)["ref"] == "anna"
    page.goto(mini_shop + "products/green/?ref=bo")
    assert attribution(page)["ref"] == "bo"  # the last link opened wins
    page.goto(mini_shop + "?ref=%3Cscript%3E")
    assert attribution(page)["ref"] == "bo"  # not a code: ignored
    page.goto(mini_shop + "order/?ref=2026-234567")  # an order's reference (which could look like a code)
    assert attribution(page)["ref"] == "bo"
    key = page.evaluate("'micromall:attribution:' + window.micromall.config.base")
    day = 24 * 3600 * 1000
    page.evaluate(f"""() => {{
        const kept = JSON.parse(localStorage.getItem({key!r}));
        kept.ref.at = Date.now() - 29 * {day};
        localStorage.setItem({key!r}, JSON.stringify(kept));
    }}""")
    assert attribution(page)["ref"] == "bo"
    page.evaluate(f"""() => {{
        const kept = JSON.parse(localStorage.getItem({key!r}));
        kept.ref.at = Date.now() - 31 * {day};
        localStorage.setItem({key!r}, JSON.stringify(kept));
    }}""")
    assert attribution(page)["ref"] is None


EVENT = "window.seen = []; document.addEventListener('micromall:share', (e) => window.seen.push(e.detail.inApp));"


def test_in_a_chat_app_the_poster_comes_first(browser: Browser, mini_shop: str) -> None:
    with shop_page(browser, WECHAT_UA) as page:
        page.add_init_script(EVENT)
        page.goto(mini_shop + "products/green/")
        block = page.locator("[data-share]")
        assert block.get_attribute("data-in-app") == "wechat"
        poster = block.locator("[data-share-poster]")
        assert poster.is_visible()
        img = poster.locator("img")
        assert re.search(r"posters/green-story\.jpg\?v=", img.get_attribute("src") or "")
        page.wait_for_function("document.querySelector('[data-share-poster] img').naturalWidth === 1080")
        assert "Long-press the poster to save it" in poster.inner_text()
        assert "open the page in your browser" in poster.inner_text()
        # the poster is the first thing under the heading
        first = page.evaluate(
            "document.querySelector('[data-share] h2').nextElementSibling.hasAttribute('data-share-poster')"
        )
        assert first is True
        assert page.evaluate("window.seen") == ["wechat"]

    with shop_page(browser) as page:
        page.add_init_script(EVENT)
        page.goto(mini_shop + "products/green/")
        assert not page.locator("[data-share-poster]").is_visible()
        # a lazy image in a hidden box is never fetched
        assert page.evaluate("document.querySelector('[data-share-poster] img').naturalWidth") == 0
        assert page.evaluate("window.seen") == [None]


@pytest.mark.parametrize(
    ("ua", "app"),
    [
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Weibo (iPhone15,2__weibo__13.1.0)",
         "weibo"),
        ("Mozilla/5.0 (Linux; Android 13) Mobile Safari/537.36 V1_AND_SQ_8.9.0 QQ/8.9.0.9765 NetType/WIFI", "qq"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Instagram 300.0.0.0", "instagram"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 [FBAN/FBIOS;FBAV/440.0.0]",
         "facebook"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari Line/13.20.0", "line"),
        ("Mozilla/5.0 (Linux; Android 13) Mobile Safari/537.36 musical_ly_2023109040 BytedanceWebview/d8a21c6",
         "tiktok"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile/15E148 Safari/604.1", None),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", None),
    ],
)  # fmt: skip
def test_in_app_browsers_are_recognised(page: Page, mini_shop: str, ua: str, app: str | None) -> None:
    page.goto(mini_shop + "products/green/")  # product.js (product pages and kits) holds the check
    assert page.evaluate("(ua) => window.micromall.inAppBrowser(ua)", ua) == app
