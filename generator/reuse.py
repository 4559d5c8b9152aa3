"""What a preview rebuild takes over from the build before it instead of doing it again.

`micromall serve` rebuilds after every save, and most of a build's work is done once per item:
a product's share pictures and QR code are planned, its page is planned, its fingerprint is
taken. That work depends on the item and on the shop's settings only. The preview keeps the
catalog objects of unchanged files from one load to the next (load.py), so the work done for an
object last time is found again here by the object's identity, as long as the settings it also
depends on (the `context` print) are the same.

Only the preview uses this: it holds the one `Reuse` of its session, and a rebuild in it is a
function of the files and this memory. `micromall build` starts from nothing, or from the state
saved in the cache folder, which it checks file by file (buildstate.py).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from operator import attrgetter
from typing import Any, Final, Protocol, TypeVar

#: What a table answers for work it does not hold.
MISSING: Final[Any] = object()

#: The table of each kept catalog parse's copy for the last load (load.py).
LOAD: Final = "load"

T = TypeVar("T")
V = TypeVar("V")


class _Named(Protocol):
    @property
    def id(self) -> str: ...


N = TypeVar("N", bound=_Named)
Entry = tuple[object, object, Any]  # (the item or None, the key it was done for, the result)


class Table:
    """One kind of work's results, by the identity of the item each was done for (`get`, `put`)
    or by a name (`recall`, `keep`): those of this build, and those of the build before."""

    __slots__ = ("last", "now")

    def __init__(self, last: dict[Hashable, Entry] | None = None) -> None:
        self.last: dict[Hashable, Entry] = last if last is not None else {}
        self.now: dict[Hashable, Entry] = {}

    def get(self, item: object, key: object = None) -> Any:
        """The result kept for `item` with this `key`, or MISSING."""
        slot = id(item)
        entry = self.now.get(slot) or self.last.get(slot)
        if entry is not None and entry[0] is item and entry[1] == key:
            self.now[slot] = entry
            return entry[2]
        return MISSING

    def put(self, item: object, value: Any, key: object = None) -> Any:
        self.now[id(item)] = (item, key, value)  # the entry holds the item: its id stays its own
        return value

    def take(self, items: Iterable[T]) -> tuple[list[Any], list[T]]:
        """`get` (with no key) of many items at once: the results found, and the items without
        one, each in order (one call for the 40,000 drawings of a 10,000-product shop)."""
        now, last = self.now, self.last
        found, rest = [], []
        for item in items:
            slot = id(item)
            entry = now.get(slot) or last.get(slot)
            if entry is not None and entry[0] is item and entry[1] is None:
                now[slot] = entry
                found.append(entry[2])
            else:
                rest.append(item)
        return found, rest

    def recall(self, name: Hashable, key: object = None) -> Any:
        """Like `get`, for work named by a value (a page's URL) rather than an object."""
        entry = self.now.get(name) or self.last.get(name)
        if entry is not None and entry[1] == key:
            self.now[name] = entry
            return entry[2]
        return MISSING

    def keep(self, name: Hashable, value: Any, key: object = None) -> Any:
        self.now[name] = (None, key, value)
        return value


#: How long the preview must have been idle before what a build left for later is done
#: (seconds): soon, since it makes the next edit faster (the drawing worker, the readers' index)
#: or is short (the manifest, the staging folders)...
IDLE = 0.3
#: ...except the collector's pass over the whole shop, most of a second at 10,000 products: it
#: waits until the editing pauses, so that it rarely stands in an edit's way.
IDLE_BEFORE = {"collector": 2.0}


class Reuse:
    """The preview's memory: a `Table` of results for each kind of work, and what its last
    build left in the output folder. Entries not used by a build that succeeded are dropped,
    so memory holds one build's work."""

    def __init__(self) -> None:
        self.context: int | None = None
        self._tables: dict[str, Table] = {}
        self._finished = True
        #: Builds that succeeded: the first one checks everything; the later ones are rebuilds.
        self.builds = 0
        #: The output folder's files as the last build that succeeded left them (output.py).
        self.manifest: dict[str, Any] | None = None
        #: The manifest's entries of the files it copied from the image cache (build.py).
        self.made_names: dict[str, Any] | None = None
        #: Bookkeeping a rebuild leaves for later (`flush`), once the page is on disk, by name:
        #: a later rebuild's replaces an earlier one's (one manifest written, not one per edit).
        self.deferred: dict[str, Callable[[], object]] = {}
        #: Set by a rebuild's load (load.py): the products, by id(), that are not as in the build
        #: before. Every other product is the same object as then, linked to the same ids, with
        #: the same photo, in a shop of the same shape (`shape`): the steps keep what they made
        #: for the products by id (`each`) and make it again for these only. None (a first build,
        #: one after a failed build, another shape, other settings): each item is checked by its key.
        self.changed: dict[int, Any] | None = None
        #: The objects (by id()) that this build replaced with new ones: their entries go.
        self.gone: set[int] = set()
        #: What the last load's shop looked like beyond its products: its links (related, stories),
        #: stores and its photos (their size, time and inode: load.py).
        self.shape: object = None
        self._steady = False  # the build before this one succeeded
        #: The worker process that draws a rebuild's few pictures while it renders the pages
        #: (imaging.DrawingWorker), started by the first rebuild that needs it; see `close`.
        self.drawing: Any = None

    @property
    def steady(self) -> bool:
        """Whether the build before this one (of the preview) succeeded: what it kept is all of one build."""
        return self._steady

    def table(self, name: str) -> Table:
        found = self._tables.get(name)
        if found is None:
            found = self._tables[name] = Table()
        return found

    def start(self) -> None:
        """A new build: what the last one used is what this one may take over."""
        self._steady, self.changed, self.gone = self._finished and self.builds > 0, None, set()
        for table in self._tables.values():
            if self._finished:
                table.last, table.now = table.now, {}
            else:  # the last build stopped half-way: what it did is kept beside what the one before did
                table.last.update(table.now)
                table.now = {}
        self._finished = False

    def settle(self, context: int) -> None:
        """`context` prints everything the kept work may depend on beside its item (the shop's
        settings, its theme, the time's sales): when it is not the last build's, only the load's
        copies (LOAD, which depend on nothing else) are taken over."""
        if context != self.context:
            self.changed = None
            self._tables = {name: table for name, table in self._tables.items() if name == LOAD}
            self.context = context

    def note_load(self, shape: object, changed: dict[int, Any], gone: set[int]) -> None:
        """The load's shape of the shop, the products it did not keep and the objects it
        replaced: `changed` holds for this build when the build before succeeded with a shop of
        the same shape."""
        self.changed = changed if self._steady and shape == self.shape else None
        self.shape = shape
        self.gone |= gone

    def each(
        self, name: str, items: Sequence[N], make: Callable[[N], V], key: Callable[[N], str] = attrgetter("id")
    ) -> dict[str, V]:
        """`make(item)` for each item (products), by `key(item)` (its id), in order. When `changed`
        is known, the dict the last build kept under `name` with the changed items' made again:
        the others' are what they were, and no step walks ten thousand products to find the one
        that changed. The results it replaces are gone (`gone`: a table may hold them)."""
        table = self.table(name)
        last = table.recall(name) if self.changed is not None else MISSING
        if last is not MISSING and self.changed is not None:
            made = last.copy()
            for item in self.changed.values():
                slot = key(item)
                before, made[slot] = made.get(slot), make(item)
                if before is not None and before is not made[slot]:
                    self.gone.add(id(before))
            if len(made) == len(items):  # (the same ids: the shape says so)
                return table.keep(name, made)  # type: ignore[no-any-return]
        return table.keep(name, {key(item): make(item) for item in items})  # type: ignore[no-any-return]

    def finish(self) -> None:
        """The build succeeded: the work it used is what the next one may take over. A build that
        knew what changed (`each`) used every entry it did not replace."""
        if self.changed is not None:
            for name, table in self._tables.items():
                if name != LOAD:
                    carried = {**table.last, **table.now}
                    for slot in self.gone:
                        carried.pop(slot, None)
                    table.now = carried
        self._finished = True
        self.builds += 1

    def close(self) -> None:
        """Stop the drawing worker (the preview ends)."""
        if self.drawing is not None:
            self.drawing.close()
            self.drawing = None

    def flush(self) -> None:
        """Do all that the rebuilds left for later (the preview, as it stops)."""
        while self.deferred:
            self.deferred.pop(next(iter(self.deferred)))()

    def flush_one(self, idle: float) -> bool:
        """Do one thing left for later that has waited long enough: the preview has been `idle`
        seconds (see IDLE_BEFORE). One at a time, so that an edit or a page's request that comes
        meanwhile waits for one of them at most. Whether one was done."""
        for name in self.deferred:
            if idle >= IDLE_BEFORE.get(name, IDLE):
                self.deferred.pop(name)()
                return True
        return False
