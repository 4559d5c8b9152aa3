"""A one-line progress display for long builds, on a terminal only.

In CI logs and when the output is piped there is nothing to redraw, so nothing is shown: the
build's one-line summary says what happened.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TextIO

#: Redraw at most this often (seconds): drawing costs more than the work it reports.
INTERVAL = 0.1


def wants_progress(stream: TextIO, environ: dict[str, str] | None = None) -> bool:
    """A terminal, not CI (most CI services set CI=true), and not a dumb terminal."""
    env = os.environ if environ is None else environ
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and not env.get("CI") and env.get("TERM") != "dumb"


def terminal_progress(stream: TextIO, clock: Callable[[], float] = time.monotonic) -> Callable[[str, int, int], None]:
    """A `progress(what, done, total)` that redraws one line such as `pages 1200/10021 (12%)`
    and clears it when `what` is complete."""
    last = [float("-inf")]

    def show(what: str, done: int, total: int) -> None:
        now = clock()
        finished = done >= total
        if not finished and now - last[0] < INTERVAL:
            return
        last[0] = now
        if finished:
            stream.write("\r\x1b[K")
        else:
            percent = 100 * done // total if total else 100
            stream.write(f"\r\x1b[K{what} {done}/{total} ({percent}%)")
        stream.flush()

    return show
