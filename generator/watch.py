"""Which of the shop's source files changed: what `micromall serve` rebuilds after an edit.

What counts as a change is decided the same way everywhere: a look compares each watched
file's time and size with the last look. What differs is when to look:

- On Linux the kernel says when (inotify, through inotify_simple). The preview waits on one file
  descriptor instead of looking on a timer, so an edit is built as soon as the editor has
  finished writing it, and an idle preview costs no CPU however many photos the shop has.
- Elsewhere, or when the kernel will not watch more folders, the preview looks every POLL
  seconds (less often when a look takes long; see `Sources.changes`).

Files whose names start with a dot are not looked at: the build never reads them, and editors
keep their swap and lock files there, which would otherwise rebuild the shop as one types.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

#: How often the sources are looked at when the kernel does not say when (seconds), at most.
POLL = 0.05
#: When looking on a timer: after a change is seen, how long the sources must stay unchanged
#: before the rebuild starts (seconds). An editor that truncates a file and then writes it
#: would otherwise have the half-written file built (a product missing, its page deleted).
SETTLE = 0.02
#: When the kernel says when: how long no event may come before the edit counts as written
#: (seconds). Events come as the bytes are written, not two looks apart, so this can be shorter.
QUIET = 0.01
#: What the kernel reports: anything that changes a file's bytes, time or place.
_EVENTS = 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800
# (MODIFY, ATTRIB, CLOSE_WRITE, MOVED_FROM, MOVED_TO, CREATE, DELETE, DELETE_SELF, MOVE_SELF)
_IGNORED = 0x8000  # the kernel dropped a watch: its folder was removed or moved


class Sources:
    """The watched files (folders are watched whole) and what changed among them."""

    def __init__(self, roots: list[Path], events: bool = True) -> None:
        self.roots = roots
        self.next_look = 0.0  # when looking on a timer: not before then (see changes)
        self.notify = _inotify() if events else None
        self.refused = False  # the kernel would not watch a folder: looked at on a timer since
        self.watching: dict[int, str] = {}  # watch descriptor -> folder
        self.seen = self.scan()

    def fileno(self) -> int | None:
        """The descriptor that becomes readable when something may have changed; None when
        the sources are looked at on a timer."""
        return None if self.notify is None or self.refused else self.notify.fileno()

    def scan(self) -> dict[Path, tuple[int, int]]:
        found: dict[Path, tuple[int, int]] = {}
        folders: list[str] = []
        for root in self.roots:
            if root.is_file():
                with contextlib.suppress(OSError):
                    st = root.stat()
                    found[root] = (st.st_mtime_ns, st.st_size)
                folders.append(str(root.parent))  # a file replaced by a rename is seen there
                continue
            for folder, _, names in os.walk(root):
                folders.append(folder)
                for name in names:
                    if name.startswith("."):
                        continue
                    path = Path(folder, name)
                    with contextlib.suppress(OSError):
                        st = path.stat()
                        found[path] = (st.st_mtime_ns, st.st_size)
        if self._watch(folders):  # a new folder: what was written to it before its watch
            return self.scan()
        return found

    def changes(self) -> set[Path]:
        started = time.monotonic()
        now = self.scan()
        # a shop with thousands of photos takes longer to look at: on a timer, look less often,
        # so that watching costs at most a tenth of one core
        self.next_look = time.monotonic() + 9 * (time.monotonic() - started)
        changed = {p for p in now.keys() | self.seen.keys() if now.get(p) != self.seen.get(p)}
        self.seen = now
        return changed

    def settled_changes(self) -> set[Path]:
        """The changed files, once the editor is done writing: no event for QUIET seconds, or
        on a timer, a second look SETTLE seconds later that finds nothing more changing."""
        if self.fileno() is not None:
            while self._events(QUIET):
                pass
            return self.changes()
        changed = self.changes()
        while changed:
            time.sleep(SETTLE)
            more = self.changes()
            if not more:
                break
            changed |= more
        return changed

    def close(self) -> None:
        if self.notify is not None:
            self.notify.close()
            self.notify = None

    def _events(self, wait: float) -> bool:
        """Read what the kernel reported within `wait` seconds; whether it reported anything."""
        assert self.notify is not None
        events = self.notify.read(timeout=round(wait * 1000))
        for event in events:
            if event.mask & _IGNORED:
                self.watching.pop(event.wd, None)
        return bool(events)

    def _watch(self, folders: list[str]) -> bool:
        """Watch the folders not yet watched; whether any watch was added. When the kernel
        refuses (the user's limit of watches), the sources are looked at on a timer from then on."""
        if self.notify is None or self.refused:
            return False
        known = set(self.watching.values())
        added = False
        for folder in dict.fromkeys(folders):
            if folder in known:
                continue
            try:
                self.watching[self.notify.add_watch(folder, _EVENTS)] = folder
                added = True
            except FileNotFoundError:
                continue  # removed since the walk: the next look sees it gone
            except OSError as exc:
                note = f"the system will not watch {folder} ({exc.strerror})"
                click.echo(f"Looking for edits on a timer: {note}.", err=True)
                self.refused = True  # (closed by its owner, who stops waiting on it first)
                return False
        return added


def _inotify() -> Any:
    """The kernel's file events (Linux), or None: then the sources are looked at on a timer."""
    if sys.platform != "linux":
        return None
    try:
        from inotify_simple import INotify
    except ImportError:  # pragma: no cover - a dependency on Linux; kept optional for packagers
        return None
    try:
        return INotify()
    except OSError:  # the user's limit of inotify instances
        return None
