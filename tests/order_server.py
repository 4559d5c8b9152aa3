"""Run `micromall orders serve` as a real process on a free loopback port, and a load client."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from browser import free_port

REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def order_server(site_dir: Path, catalog: Path, database: str, threads: int = 8) -> Iterator[int]:
    """Start the service; yield its port; stop it (by its pid) when the block ends."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # The service logs a line per order: a file, not a pipe nobody reads, or it would block.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "generator", "orders", "serve", str(site_dir), "--catalog", str(catalog),
             "--database", database, "--port", str(port), "--threads", str(threads)],
            stdout=subprocess.DEVNULL, stderr=log, env=env,
        )  # fmt: skip
        try:
            _wait_until_up(proc, port, log)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _wait_until_up(proc: subprocess.Popen[bytes], port: int, log: Any) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise RuntimeError(f"order service did not start: {log.read().decode()[-2000:]}")
        time.sleep(0.05)


def post_order(port: int, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/api/orders", body=data,
                     headers={"Content-Type": "application/json", "Idempotency-Key": key})  # fmt: skip
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def run_together(count: int, threads: int, send: Any) -> list[Any]:
    """Call send(i) for i in range(count) from `threads` threads released together by a barrier."""
    results: list[Any] = [None] * count
    barrier = threading.Barrier(threads)

    def worker(offset: int) -> None:
        barrier.wait()
        for i in range(offset, count, threads):
            try:
                results[i] = send(i)
            except Exception as exc:  # recorded, asserted on by the test
                results[i] = exc

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    return results
