"""Order-service fixtures: a built mini shop, a store on SQLite or on a throw-away PostgreSQL."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def postgres_bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return found[-1] if found and os.path.exists(found[-1] + "/initdb") else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL cluster in a temp folder on a private socket; yields a libpq DSN base.

    MICROMALL_TEST_POSTGRES may point at an existing server instead.
    """
    external = os.environ.get("MICROMALL_TEST_POSTGRES")
    if external:
        yield external
        return
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    tmp = tempfile.mkdtemp(prefix="micromall-pg-")
    as_pg: list[str] = []
    if os.geteuid() == 0:  # initdb and pg_ctl refuse to run as root
        as_pg = ["runuser", "-u", "postgres", "--"]
        shutil.chown(tmp, "postgres", "postgres")
    data = f"{tmp}/data"
    run = {"check": True, "capture_output": True}
    subprocess.run([*as_pg, f"{bindir}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                    "--locale=C.UTF-8", "--no-sync"], **run)  # type: ignore[call-overload]  # fmt: skip
    subprocess.run([*as_pg, f"{bindir}/pg_ctl", "-D", data, "-l", f"{tmp}/log", "-w", "-o",
                    f"-c listen_addresses='' -k {tmp} -c fsync=off -c max_connections=200", "start"],
                   **run)  # type: ignore[call-overload]  # fmt: skip
    try:
        yield f"postgresql://postgres@/postgres?host={tmp}"
    finally:
        subprocess.run([*as_pg, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield postgres_server.replace("/postgres?", f"/{name}?")
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each order test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "orders.sqlite3")
    return str(request.getfixturevalue("postgres_url"))
