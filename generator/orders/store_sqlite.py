"""SQLite, the default: one file, WAL, and synchronous=FULL so an acknowledged order survives
a power cut. Writers start with BEGIN IMMEDIATE, so a transaction never has to upgrade its
lock (the SQLITE_BUSY trap); a writer that waits past the busy timeout becomes a 503."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

BUSY_TIMEOUT_S = 5.0


class SqliteDialect:
    placeholder = "?"

    def __init__(self, path: str) -> None:
        self.path = path
        # The threads of one process queue here for the write lock: a released Lock wakes the
        # next thread at once, where SQLite's busy handler has each waiter sleep and poll (up
        # to 100 ms a time), which made 50 queued orders take a second longer behind a lock.
        self._writer = threading.Lock()

    def add_column(self, table: str, column: str, kind: str) -> str:
        """SQLite has no ADD COLUMN IF NOT EXISTS; the caller checks first, inside BEGIN IMMEDIATE."""
        return f"ALTER TABLE {table} ADD COLUMN {column} {kind}"

    def connect(self) -> Any:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def begin_write(self, conn: Any) -> None:
        """Take this process's writer turn, then SQLite's write lock, within one busy timeout."""
        started = time.monotonic()
        if not self._writer.acquire(timeout=BUSY_TIMEOUT_S):
            raise sqlite3.OperationalError("database is locked (waited for this process's writer)")
        try:
            left = max(1, int((BUSY_TIMEOUT_S - (time.monotonic() - started)) * 1000))
            conn.execute(f"PRAGMA busy_timeout={left}")
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._writer.release()
            raise

    def end_write(self, conn: Any) -> None:
        """After COMMIT or ROLLBACK: the next thread's turn."""
        self._writer.release()

    def is_busy(self, exc: BaseException) -> bool:
        text = str(exc).lower()
        return isinstance(exc, sqlite3.OperationalError) and any(
            word in text for word in ("locked", "busy", "disk is full", "disk i/o", "unable to open")
        )

    def is_retryable(self, exc: BaseException) -> bool:
        return False  # SQLite serialises writers; there is nothing to retry inside a request

    def is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)
