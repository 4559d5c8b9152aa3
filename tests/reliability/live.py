"""A real `micromall orders serve` process for the checks that need sockets (S6, S7, B4):
its pid (for RSS), its port, and its log file (for the sentinel scan)."""

from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from browser import free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Live:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                timeout: float = 10) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            res = conn.getresponse()
            return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
        finally:
            conn.close()


@contextlib.contextmanager
def live_server(site_dir: Path, catalog: Path, database: str, log: Path, threads: int = 4) -> Iterator[Live]:
    """Start the service on a free loopback port (orders.yml from site_dir); stop it by its pid."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "generator", "orders", "serve", str(site_dir), "--catalog", str(catalog),
             "--database", database, "--port", str(port), "--threads", str(threads)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    live = Live(port, proc, log)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if live.request("GET", "/api/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"order service did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield live
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
