"""A throw-away PostgreSQL cluster in a temporary folder, for tests, benchmarks and trying the
PostgreSQL store locally. It listens on a private unix socket only (no TCP port)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator


def postgres_bindir() -> str | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return found[-1] if found and os.path.exists(found[-1] + "/initdb") else None


@contextlib.contextmanager
def throwaway_postgres(fsync: bool = False, max_connections: int = 200) -> Iterator[str]:
    """Start a cluster, yield a libpq URL for its `postgres` database, stop and delete it after."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    tmp = tempfile.mkdtemp(prefix="micromall-pg-")
    as_pg: list[str] = []
    if os.geteuid() == 0:  # initdb and pg_ctl refuse to run as root
        as_pg = ["runuser", "-u", "postgres", "--"]
        shutil.chown(tmp, "postgres", "postgres")
    data = f"{tmp}/data"
    options = f"-c listen_addresses='' -k {tmp} -c max_connections={max_connections}"
    if not fsync:
        options += " -c fsync=off"
    try:
        subprocess.run(
            [*as_pg, f"{bindir}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--locale=C.UTF-8", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [*as_pg, f"{bindir}/pg_ctl", "-D", data, "-l", f"{tmp}/log", "-w", "-o", options, "start"],
            check=True, capture_output=True,
        )  # fmt: skip
        yield f"postgresql://postgres@/postgres?host={tmp}"
    finally:
        subprocess.run([*as_pg, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
