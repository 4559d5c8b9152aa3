"""F5: notifications survive an outage of the seller's mail server and webhook, and a restart."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from browser import free_port
from loadkit import AckLog, Outcome, check_invariants, percentile, post, run_together, statuses
from order_server import ServerProcess, running
from reliability_shop import cart

pytestmark = [pytest.mark.serial, pytest.mark.timeout(300)]

PRICES = {"tea": 10000}
STOCK = 10_000


class WebhookSink:
    """The seller's webhook: while down, a request hangs (up to 30 s, or until recovery) and then
    fails with 500; once up, it records each delivery it answers 2xx, by the outbox id it carries."""

    def __init__(self) -> None:
        self.mode = "down"
        self.received: Counter[str] = Counter()
        self.released = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if sink.mode != "ok":  # down when the request came: it hangs, then fails
                    sink.released.wait(30)
                    return self.reply(500)
                event = json.loads(raw)
                sink.received[f"{event['id']} {event['event']} {event['order']['reference']}"] += 1
                self.reply(204)

            def reply(self, status: int) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the notifier gave up waiting

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def recover(self) -> None:
        self.mode = "ok"
        self.released.set()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    sink = WebhookSink()
    yield sink
    sink.close()


def test_F5_notifier_outage(make_shop: Callable[..., tuple[Path, Path]], tmp_path: Path,
                            webhook_sink: WebhookSink) -> None:  # fmt: skip
    """F5. The SMTP sink (aiosmtpd) is down and the seller's webhook hangs (30 s) during 200 orders;
    the order service restarts once while both are still down. Order p99 <= 500 ms (notification
    is not in the request path); 0 orders lost; within 60 s of the sinks recovering every order
    has exactly 1 email and 1 webhook delivery, none duplicated across the restart."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    site, catalog = make_shop({"tea": (100, STOCK)})
    smtp_port = free_port()
    config = tmp_path / "orders.yml"
    config.write_text(
        "notify:\n"
        f"  - {{type: email, host: 127.0.0.1, port: {smtp_port}, sender: shop@example.com, to: seller@example.com}}\n"
        f"  - {{type: webhook, url: '{webhook_sink.url}', secret: whsec_f5_test}}\n"
    )
    mails: Counter[str] = Counter()

    class Keep(Message):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            mails[f"{message['Message-ID']} {message['Subject']}"] += 1

    db = str(tmp_path / "f5.sqlite3")
    acks = AckLog(tmp_path / "acks.jsonl")
    body = cart([("tea", 1)], PRICES)
    server = ServerProcess(site, catalog, db, config=config)
    with running(server):
        # 8 buyers at a time, as many as the service has threads: the latency is the service's, not a queue's
        results: list[Outcome] = run_together(200, 8, lambda i: post(server.port, body, f"f5-{i}"))
        for o in results:
            acks.record(o)
        time.sleep(3)  # the outbox worker meets the outage
        server.stop()  # the restart, while the sinks are still down
        server.start()
        time.sleep(2)
        controller = Controller(Keep(), hostname="127.0.0.1", port=smtp_port)
        controller.start()
        webhook_sink.recover()
        recovered_at = time.monotonic()
        references = {o.reference for o in results if o.status == 201}
        try:
            while time.monotonic() - recovered_at < 60:
                mailed = {key.split()[-1] for key in mails}
                hooked = {key.split()[-1] for key in webhook_sink.received}
                if references <= mailed and references <= hooked:
                    break
                time.sleep(0.25)
            caught_up = time.monotonic() - recovered_at
            time.sleep(3)  # anything sent twice would arrive now
        finally:
            controller.stop()
    acks.close()
    assert statuses(results) == {201: 200}
    p99 = percentile((o.latency for o in results), 99)
    assert p99 <= 0.5, f"order p99 {p99 * 1000:.0f} ms while the notifiers were down"
    check_invariants(db, {"tea": STOCK}, acks.acked())
    assert caught_up < 60, f"not all notified within 60 s: {len(mails)} mails, {len(webhook_sink.received)} hooks"
    assert Counter(k.split()[-1] for k in mails) == dict.fromkeys(references, 1), "exactly one email per order"
    assert Counter(k.split()[-1] for k in webhook_sink.received) == dict.fromkeys(references, 1), (
        "one webhook per order"
    )
    assert set(mails.values()) == {1} and set(webhook_sink.received.values()) == {1}
    print(
        f"F5: 200 orders, p99 {p99 * 1000:.0f} ms with both notifiers down; after a restart and the sinks' "
        f"recovery every order had exactly 1 email and 1 webhook within {caught_up:.1f} s"
    )
