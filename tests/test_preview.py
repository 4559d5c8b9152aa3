"""`micromall serve` as a live preview: --lan for a phone (address, terminal QR code, the order
service from the phone's origin), and content errors shown over the last good pages."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from browser import CHROMIUM, free_port, shop_page, wait_until_serving
from click.testing import Result
from conftest import REPO
from playwright.sync_api import Browser, expect

from generator import lan
from generator.errors import Problem
from generator.preview_error import PANEL_ID, inject
from generator.terminal_qr import qr_matrix, render, terminal_qr

# -- the network address ----------------------------------------------------------------------


def test_lan_address_is_the_routed_interface_and_never_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    routes = {"10.255.255.255": "127.0.0.1", "192.168.255.255": "192.168.1.23"}
    monkeypatch.setattr(lan, "_routed_address", routes.get)
    monkeypatch.setattr(lan, "_hostname_addresses", lambda: ["10.0.0.9"])
    assert lan.lan_address() == "192.168.1.23"


def test_lan_address_falls_back_to_the_host_name_then_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lan, "_routed_address", lambda probe: None)
    monkeypatch.setattr(lan, "_hostname_addresses", lambda: ["127.0.1.1", "172.20.3.4"])
    assert lan.lan_address() == "172.20.3.4"
    monkeypatch.setattr(lan, "_hostname_addresses", lambda: ["127.0.1.1"])
    assert lan.lan_address() is None


def test_the_address_probe_only_connects_a_udp_socket_to_private_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    import ipaddress

    seen: list[tuple[int, tuple[str, int]]] = []

    class Recording(socket.socket):
        def connect(self, address: object) -> None:
            seen.append((self.type, address))  # type: ignore[arg-type]
            raise OSError("no route in this test")

        def send(self, *args: object) -> int:  # pragma: no cover - the point is that it is never called
            raise AssertionError("the probe must not send")

    monkeypatch.setattr(lan.socket, "socket", Recording)
    monkeypatch.setattr(lan, "_hostname_addresses", lambda: [])
    assert lan.lan_address() is None
    assert seen and all(kind == socket.SOCK_DGRAM for kind, _ in seen)
    assert all(ipaddress.ip_address(host).is_private for _, (host, _) in seen)


# -- the terminal QR code ---------------------------------------------------------------------

HALF = {" ": (False, False), "\u2580": (True, False), "\u2584": (False, True), "\u2588": (True, True)}


def parse_half_blocks(lines: list[str], dark_is_ink: bool) -> list[list[bool]]:
    """Read a printed QR code back into its matrix (True for a dark module)."""
    rows: list[list[bool]] = []
    for line in lines:
        top = [HALF[c][0] == dark_is_ink for c in line]
        bottom = [HALF[c][1] == dark_is_ink for c in line]
        rows += [top, bottom]
    return rows


def test_the_terminal_qr_code_is_the_urls_qr_code_in_every_style() -> None:
    url = "http://192.168.1.23:8000/"
    matrix = qr_matrix(url)
    size = len(matrix)
    assert size == len(matrix[0]) and size >= 21 + 8  # version 1 at least, with the quiet zone
    plain = render(matrix, unicode=True, color=False).splitlines()
    assert len(plain) == (size + 1) // 2 and all(len(line) == size for line in plain)
    # without colours the light modules are ink (a dark terminal); read it back
    assert parse_half_blocks(plain, dark_is_ink=False)[:size] == matrix
    coloured = render(matrix, unicode=True, color=True).splitlines()
    stripped = [line.removeprefix("\x1b[30;107m").removesuffix("\x1b[0m") for line in coloured]
    assert all(line.startswith("\x1b[30;107m") for line in coloured)  # black on white, on any theme
    assert parse_half_blocks(stripped, dark_is_ink=True)[:size] == matrix
    ascii_only = render(matrix, unicode=False, color=False)
    assert ascii_only.isascii()
    assert [[pair == "  " for pair in (line[i : i + 2] for i in range(0, len(line), 2))]
            for line in ascii_only.splitlines()] == matrix  # fmt: skip


def test_the_printed_qr_code_decodes_to_the_url() -> None:
    zxingcpp = pytest.importorskip("zxingcpp", reason="needs zxing-cpp to decode QR codes")
    from PIL import Image

    url = "http://10.1.2.3:8123/"
    rows = parse_half_blocks(render(qr_matrix(url), unicode=True, color=True).replace("\x1b[30;107m", "")
                             .replace("\x1b[0m", "").splitlines(), dark_is_ink=True)  # fmt: skip
    img = Image.new("L", (len(rows[0]), len(rows)), 255)
    img.putdata([0 if dark else 255 for row in rows for dark in row])
    img = img.resize((img.width * 8, img.height * 8), Image.Resampling.NEAREST)
    assert [r.text for r in zxingcpp.read_barcodes(img)] == [url]


def test_the_qr_code_falls_back_to_ascii_when_the_output_cannot_encode_blocks() -> None:
    latin = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    utf8 = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert terminal_qr("http://10.0.0.2:8000/", latin).isascii()
    assert "\u2588" in terminal_qr("http://10.0.0.2:8000/", utf8)
    assert "\x1b[" not in terminal_qr("http://10.0.0.2:8000/", utf8)  # not a terminal: no colours


# -- the command line ---------------------------------------------------------------------------


def test_lan_and_host_together_is_a_usage_error(cli: Callable[..., Result], make_site: Callable[..., Path]) -> None:
    result = cli("serve", str(make_site()), "--lan", "--host", "10.0.0.1")
    assert result.exit_code == 2
    assert "--lan and --host" in result.output


#: Runs the CLI with `--lan`'s listening address turned to loopback: tests never listen beyond
#: 127.0.0.1. That `--lan` asks for every interface is pinned without a server, below.
LOOPBACK_LAN = (
    "import sys; import generator.devserver as d; d.ALL_INTERFACES = '127.0.0.1'; "
    "from generator.cli import main; main(sys.argv[1:], prog_name='micromall')"
)


@contextlib.contextmanager
def serving(site: Path, out: Path, *args: str) -> Iterator[tuple[int, IO[bytes], subprocess.Popen[bytes]]]:
    """`micromall serve` in a subprocess on a free port of 127.0.0.1, stopped by its pid afterwards."""
    port = free_port()
    with (out.parent / "serve.log").open("w+b") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", LOOPBACK_LAN, "serve", str(site), "--port", str(port), "--out", str(out), *args],
            stdout=log, stderr=log,
            env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"},
        )  # fmt: skip
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/", proc, log, within=120)
            yield port, log, proc
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def test_lan_asks_the_server_for_every_interface(
    make_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--lan` listens on 0.0.0.0 and builds for the network address; checked with the server's
    start replaced, so that nothing listens beyond loopback."""
    from generator import devserver

    calls: list[dict[str, object]] = []

    class Server:
        def serve(self, **kwargs: object) -> None:
            calls.append(kwargs)

        def watch(self, *args: object, **kwargs: object) -> None:
            pass

    monkeypatch.setattr(devserver, "_make_server", lambda api, errors: Server())
    monkeypatch.setattr(lan, "lan_address", lambda: "192.0.2.7")
    monkeypatch.setattr("tornado.ioloop.PeriodicCallback.start", lambda self: None)
    monkeypatch.setattr(devserver.signal, "signal", lambda *args: None)  # keep pytest's own SIGTERM
    devserver.serve(make_site(), tmp_path / "public", "127.0.0.1", 8123, lan=True)
    assert devserver.ALL_INTERFACES == "0.0.0.0"
    assert [(c["host"], c["port"]) for c in calls] == [("0.0.0.0", 8123)]
    assert "http://192.0.2.7:8123/" in (tmp_path / "public/index.html").read_text("utf-8")


def wait_for(predicate: Callable[[], bool], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"{what} within {within} s"
        time.sleep(0.05)


def test_serve_lan_prints_the_url_and_its_qr_code_and_the_api_accepts_the_phone(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site()
    yml = site / "site.yml"
    yml.write_text(yml.read_text("utf-8") + "checkout:\n  handler: http\n", "utf-8")
    address = lan.lan_address()
    with serving(site, tmp_path / "public", "--lan") as (port, log, _proc):
        log.seek(0)
        text = log.read().decode("utf-8")
        assert "visible to every device on this network" in text
        if address is None:
            pytest.skip("this machine has no network address to print")
        url = f"http://{address}:{port}/"
        assert f"open {url} or scan" in text
        lines = text.splitlines()
        start = next(i for i, line in enumerate(lines) if "or scan" in line) + 1
        size = len(qr_matrix(url))
        printed = lines[start : start + (size + 1) // 2]
        assert parse_half_blocks(printed, dark_is_ink=False)[:size] == qr_matrix(url)
        # the pages are built for the phone's address, and the order service answers its origin
        home = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert url in home
        preflight = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/orders", method="OPTIONS",
            headers={"Origin": url.rstrip("/"), "Access-Control-Request-Method": "POST"},
        )  # fmt: skip
        with urllib.request.urlopen(preflight, timeout=10) as answer:
            assert answer.headers["Access-Control-Allow-Origin"] == url.rstrip("/")


# -- content errors in the browser ---------------------------------------------------------------


def test_the_panel_escapes_the_problems_and_goes_before_the_body_end() -> None:
    problems = [Problem("content/catalog/<x>.yml", 3, "products[0].price", "not a price: '<b>12'", column=12)]
    page = inject(b"<html><body><p>shop</p></body></html>", problems)
    assert page.startswith(b"<html><body><p>shop</p><div id=") and page.endswith(b"</body></html>")
    assert b"content/catalog/&lt;x&gt;.yml:3:12: products[0].price: not a price: &#x27;&lt;b&gt;12&#x27;" in page
    assert b"<b>12" not in page and b"1 error" in page
    assert inject(b"<p>x</p>", []) == b"<p>x</p>"


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_a_content_error_shows_over_the_last_good_page_until_the_file_is_fixed(
    browser: Browser, make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site()
    tea = site / "content/catalog/tea.yml"
    good = tea.read_text("utf-8")
    shots = Path(os.environ.get("MICROMALL_SCREENSHOTS", tmp_path))
    with serving(site, tmp_path / "public") as (port, log, _proc), shop_page(browser) as page:
        # this test is about the reload: let the live-reload script through (shop_page blocks it)
        page.context.unroute("**/livereload*")
        page.goto(f"http://127.0.0.1:{port}/products/green/")
        expect(page.locator("h1")).to_contain_text("Green tea")
        page.wait_for_function("() => window.LiveReload !== undefined")
        time.sleep(0.5)  # the live-reload socket connects

        tea.write_text(good.replace("price: 128", "price: 12.8.0"), "utf-8")
        panel = page.locator(f"#{PANEL_ID}")
        expect(panel).to_be_visible(timeout=60_000)  # no manual refresh: the failed rebuild reloads
        # the price, and the story that names the product which is now gone from the catalog
        expect(panel.locator("h2")).to_have_text("The last rebuild failed: 3 errors")
        expect(panel.locator("li")).to_have_count(3)
        expect(panel.locator("li").first).to_have_text(
            "content/catalog/tea.yml:8:12: products[0].price: '12.8.0' is not a price;"
            " write a number such as 128 or 19.90"
        )
        expect(page.locator("h1")).to_contain_text("Green tea")  # the last good build underneath
        page.screenshot(path=str(shots / "preview-error-390.png"))
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=str(shots / "preview-error-1280.png"))
        page.set_viewport_size({"width": 390, "height": 844})
        page.get_by_role("button", name="Dismiss").click()
        expect(panel).to_have_count(0)
        page.reload()
        expect(panel).to_be_visible()  # still failing: the panel is back on every page
        assert (tmp_path / "public/products/green/index.html").read_bytes().find(PANEL_ID.encode()) < 0

        tea.write_text(good.replace("title: Green tea", "title: Green tea, spring"), "utf-8")
        expect(page.locator("h1")).to_contain_text("Green tea, spring", timeout=60_000)
        expect(panel).to_have_count(0)
        log.seek(0)
        assert b"Could not open" not in log.read(), "every page and file was served without an error"


# -- a preview that keeps running -----------------------------------------------------------------


def test_a_first_build_that_fails_keeps_serving_and_port_0_prints_the_port_it_chose(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    """`--port 0` picks a free port and says which; a shop that does not build yet is served as
    the error panel on a blank page (and /api/ answers 503 until a build succeeds), and fixing
    the file brings up the shop without a restart."""
    site = make_site()
    yml = site / "site.yml"
    yml.write_text(yml.read_text("utf-8") + "checkout:\n  handler: http\n", "utf-8")
    tea = site / "content/catalog/tea.yml"
    good = tea.read_text("utf-8")
    tea.write_text(good.replace("price: 128", "price: 12.8.0"), "utf-8")
    out = tmp_path / "public"
    with (tmp_path / "serve.log").open("w+b") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "generator", "serve", str(site), "--port", "0", "--out", str(out)],
            stdout=log, stderr=log, env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:

            def printed() -> str:
                log.seek(0)
                return log.read().decode("utf-8", "replace")

            wait_for(lambda: "Serving the shop on" in printed() or proc.poll() is not None, "serve starts")
            assert proc.poll() is None, printed()
            text = printed()
            assert "content/catalog/tea.yml:8:12: products[0].price:" in text
            assert "The first build failed" in text
            url = text.split("Serving the shop on ", 1)[1].split()[0]
            assert url.startswith("http://127.0.0.1:") and not url.endswith(":0/")
            with pytest.raises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(url + "products/green/", timeout=10)
            page = missing.value.read().decode("utf-8")
            assert missing.value.code == 404 and PANEL_ID in page and "Nothing is built yet" in page
            assert "products[0].price" in page and "livereload" in page  # it reloads when fixed
            with pytest.raises(urllib.error.HTTPError) as api:
                urllib.request.urlopen(url + "api/orders", timeout=10)
            assert api.value.code == 503

            tea.write_text(good, "utf-8")
            wait_for(lambda: "Built " in printed(), "the rebuild after the fix")
            page = urllib.request.urlopen(url + "products/green/", timeout=10).read().decode("utf-8")
            assert "Green tea" in page and PANEL_ID not in page
            assert "Orders go to the preview order service" in printed()
            preflight = urllib.request.Request(
                url + "api/orders", method="OPTIONS",
                headers={"Origin": url.rstrip("/"), "Access-Control-Request-Method": "POST"},
            )  # fmt: skip
            with urllib.request.urlopen(preflight, timeout=10) as answer:
                assert answer.status in (200, 204)
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def test_a_rebuild_that_stops_on_a_bug_or_a_usage_error_shows_the_panel_and_the_preview_goes_on(
    make_site: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from generator import devserver
    from generator.errors import UsageError
    from generator.preview_error import ErrorOverlay

    site = make_site()
    preview = devserver.Preview(site, tmp_path / "public", "http://127.0.0.1:8000/", [site])
    errors, api = ErrorOverlay(), devserver.OrderApi(site, tmp_path / "public")
    assert devserver._rebuild(preview, errors, api) is not None and errors.problems == []

    def broken(changed: object = None) -> object:
        raise KeyError("size")

    preview.build = broken  # type: ignore[method-assign,assignment]
    assert devserver._rebuild(preview, errors, api, {site / "site.yml"}) is None
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError: 'size'" in err  # for whoever fixes micromall
    assert [str(p) for p in errors.problems] == [
        "build: micromall stopped on an internal error (KeyError: 'size'); the terminal shows where"
    ]

    def misused(changed: object = None) -> object:
        raise UsageError("no site.yml in the folder")

    preview.build = misused  # type: ignore[method-assign,assignment]
    assert devserver._rebuild(preview, errors, api, {site / "site.yml"}) is None
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error: no site.yml in the folder" in err
    assert [p.message for p in errors.problems] == ["no site.yml in the folder"]
