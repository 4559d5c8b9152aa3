"""A real `micromall orders serve` process for the checks that need sockets (S6, S7, B4):
its pid (for RSS), its port, and its log file (for the sentinel scan)."""

from __future__ import annotations

import contextlib
import http.client
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from order_server import ServerProcess, running


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
    """Start the service on a free loopback port (orders.yml from site_dir), its output in `log`;
    stop it by its pid (tests/order_server.py)."""
    with running(ServerProcess(site_dir, catalog, database, threads, log=log)) as server:
        assert server.proc is not None
        yield Live(server.port, server.proc, log)
