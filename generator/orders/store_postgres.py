"""PostgreSQL through psycopg 3, for several service processes sharing one database.

Stock and coupon limits are enforced by conditional UPDATEs (`... WHERE available >= qty`),
which PostgreSQL re-checks against the latest row version under Read Committed, so two
processes can never both take the last unit. Serialization failures and deadlocks are
retried a few times inside the request; a database that is down is a 503.
"""

from __future__ import annotations

from typing import Any


class PostgresDialect:
    placeholder = "%s"

    def __init__(self, url: str) -> None:
        self.url = url

    def add_column(self, table: str, column: str, kind: str) -> str:
        """IF NOT EXISTS: two processes starting at once may both have seen the column missing."""
        return f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}"

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=True, connect_timeout=5)

    def begin_write(self, conn: Any) -> None:
        conn.execute("BEGIN")

    def end_write(self, conn: Any) -> None:
        """Nothing to release: PostgreSQL's row locks end with the transaction."""

    def is_busy(self, exc: BaseException) -> bool:
        import psycopg

        return isinstance(exc, psycopg.OperationalError) and not self.is_retryable(exc)

    def is_retryable(self, exc: BaseException) -> bool:
        from psycopg import errors

        return isinstance(exc, (errors.SerializationFailure, errors.DeadlockDetected, errors.LockNotAvailable))

    def is_unique_violation(self, exc: BaseException) -> bool:
        from psycopg import errors

        return isinstance(exc, errors.UniqueViolation)
