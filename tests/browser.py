"""Real Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright.

Never `playwright install`: it downloads a browser build, which fails here and is not needed.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(
    url: str, proc: subprocess.Popen[bytes], log: IO[bytes] | None = None, within: float = 90
) -> None:
    """Poll `url` until it answers; fail with the server's log if it exits or takes over `within` s.

    `micromall serve` builds the demo before it answers, with a cold image cache (the preview's
    address is in every QR code): cards, posters, photo sizes and the promoters' kits. That is a
    few seconds on an idle machine, but can pass 30 s on a busy CI runner."""
    deadline = time.monotonic() + within
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                text = ""
                if log is not None:
                    log.seek(0)
                    text = log.read().decode(errors="replace")[-3000:]
                raise RuntimeError(f"the test server at {url} did not start\n{text}") from None
            time.sleep(0.05)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session; each test opens its own context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


#: The browser tests' screen: a phone's, as most buyers of a micro-store have.
PHONE: ViewportSize = {"width": 390, "height": 844}


@contextlib.contextmanager
def shop_page(browser: Browser, user_agent: str | None = None) -> Iterator[Page]:
    """A page of its own (a new context: no storage shared with other tests) at phone width.

    The preview's live reload is not loaded (it could reload a page between a test's steps; these
    tests are about the shop), and a script error on any page fails the test when it closes."""
    context = browser.new_context(viewport=PHONE, user_agent=user_agent)
    context.route("**/livereload*", lambda route: route.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], errors


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """The page most browser tests use: `shop_page` (a test module may define its own)."""
    with shop_page(browser) as made:
        yield made


@contextlib.contextmanager
def static_server(root: Path) -> Iterator[str]:
    """Serve `root` on a free loopback port for the duration of the block; yields the base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def mini_shop(make_site: Callable[..., Path], tmp_path: Path) -> Iterator[str]:
    """The mini shop (conftest's MINI_SITE) built and served on a free loopback port: its URL."""
    from generator.build import build

    site = make_site()
    out = tmp_path / "serve" / "public"
    out.parent.mkdir()
    with static_server(out.parent) as base:
        build(site, out, base_url=base + "public/")
        yield base + "public/"
