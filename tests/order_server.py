"""Run `micromall orders serve` as a real process on a free loopback port (the client is in loadkit)."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from browser import free_port
from loadkit import post_order, run_together

__all__ = ["ServerProcess", "order_server", "post_order", "run_together"]

REPO = Path(__file__).resolve().parent.parent


class ServerProcess:
    """One service process, stopped by its pid; `kill()` is SIGKILL, `start()` again reuses the port.

    The service logs a line per order: to a file, not a pipe nobody reads, or it would block. Its
    output goes to `log` if given (kept), else to a temporary file that `close()` removes.
    """

    def __init__(
        self, site_dir: Path, catalog: Path, database: str, threads: int = 8, config: Path | None = None,
        prefix: Sequence[str] = (), port: int | None = None, log: Path | None = None,
    ) -> None:  # fmt: skip
        self.port = port or free_port()
        self.args = [*prefix, sys.executable, "-m", "generator", "orders", "serve", str(site_dir),
                     "--catalog", str(catalog), "--database", database, "--port", str(self.port),
                     "--threads", str(threads)]  # fmt: skip
        if config is not None:
            self.args += ["--config", str(config)]
        self.own_log = log is None
        self.log_path = log or Path(tempfile.mkstemp(prefix="micromall-orders-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> int:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with self.log_path.open("ab") as log:
            # its own process group: a wrapper (strace) and the service it runs are stopped together
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True)  # fmt: skip
        self._wait_until_up()
        return self.port

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self._signal_group(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._signal_group(signal.SIGKILL)  # a traced service may outlive its wrapper
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)  # the outbox worker may finish a delivery first (up to 10 s)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.proc.wait(timeout=10)
        time.sleep(0.2)
        self._signal_group(signal.SIGKILL)  # whatever of the group is left (the service under strace)

    def _signal_group(self, sig: int) -> None:
        """Signal the process group this object started (its pid is the group id), if it is still there."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        self.stop()
        if self.own_log:
            self.log_path.unlink(missing_ok=True)

    def _wait_until_up(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/health")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                conn.close()
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"order service did not start: {self.log()[-2000:]}")
            time.sleep(0.05)


@contextlib.contextmanager
def order_server(site_dir: Path, catalog: Path, database: str, threads: int = 8) -> Iterator[int]:
    """Start the service; yield its port; stop it (by its pid) when the block ends."""
    server = ServerProcess(site_dir, catalog, database, threads)
    try:
        yield server.start()
    finally:
        server.close()


@contextlib.contextmanager
def running(server: ServerProcess) -> Iterator[ServerProcess]:
    """Start `server` and make sure it is stopped (by its pid) and its temporary log removed afterwards."""
    try:
        server.start()
        yield server
    finally:
        server.close()
