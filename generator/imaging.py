"""Making the share images: look each one up in the cache, draw the missing ones on all cores.

A drawing is a frozen dataclass with a `render()` that turns its fields into file bytes and
reads nothing but the files its fields name, so it can be pickled to a worker process and its
key (see cache.py) says everything about its result.

How the work is split, measured with bench/images.py:

- The drawings that show the same photo (a product's card, its two posters and its photo
  sizes) are made one after the other by the same process, which decodes the photo once, at
  the largest size any of them needs (`photo_need`), and derives every output from it.
- A worker writes what it drew to the cache itself and sends back only file paths: the
  build's process neither unpickles nor writes megabytes of JPEG, which would keep the
  second core waiting on the first.
- Workers are forked (see `_context`): they start in milliseconds and inherit the imported
  modules, so two cores come close to twice as fast as one.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import multiprocessing
import multiprocessing.connection
import operator
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import compress
from pathlib import Path
from typing import Any, Protocol

from .cache import ImageCache
from .draw import SourceFile, prime
from .imagekeys import key_of
from .reuse import MISSING, Reuse, Table

#: Fewer drawings than this are made in the build's own process: starting workers costs more.
#: Forked workers start in milliseconds; spawned ones import Python and Pillow first (~0.4 s).
MIN_PARALLEL = {"fork": 8, "spawn": 24}
#: Drawings of one photo are sent to a worker in parts of at least this many (see `batches`).
GROUP_PART = 8


class Drawing(Protocol):
    def render(self) -> tuple[bytes, ...]: ...


Need = tuple[SourceFile, tuple[int, int]]


def photo_need(spec: Drawing) -> Need | None:
    """The photo a drawing decodes and the size it needs, when it says so (`photo_need`)."""
    need = getattr(spec, "photo_need", None)
    return need if isinstance(need, tuple) else None


class Later:
    """A drawing known by its key only, from a plan an earlier build kept (sharememo.py): `plan`
    plans it, when it has to be drawn after all (its files are gone from the cache)."""

    __slots__ = ("plan",)

    def __init__(self, plan: Callable[[], Drawing]) -> None:
        self.plan = plan


@dataclass(frozen=True)
class Job:
    """One drawing and the output paths of the files it makes, in the order it makes them."""

    outputs: tuple[str, ...]
    spec: Drawing | Later
    key: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", key_of(self.drawing))

    @property
    def drawing(self) -> Drawing:
        """The drawing, planned now if it was kept by its key only (drawn under that key)."""
        spec = self.spec
        if isinstance(spec, Later):
            spec = spec.plan()
            object.__setattr__(self, "spec", spec)
        return spec

    @property
    def group(self) -> str:
        """The photo the drawing shows ("" for none): drawings of one photo are made together."""
        need = photo_need(self.drawing)
        return "" if need is None else need[0].path


def _make(folder: Path, batch: Sequence[tuple[str, Drawing]]) -> list[tuple[str, ...]]:
    """Draw a batch of (key, drawing) into the cache; their files. Each photo is decoded once,
    at the largest size that the batch's drawings of it need."""
    cache = ImageCache(folder)
    largest: dict[SourceFile, tuple[int, int]] = {}
    for _, spec in batch:
        need = photo_need(spec)
        if need is not None:
            was = largest.get(need[0], (0, 0))
            largest[need[0]] = (max(was[0], need[1][0]), max(was[1], need[1][1]))
    made = []
    for key, spec in batch:
        need = photo_need(spec)
        if need is not None and need[0] in largest:
            prime(need[0], largest.pop(need[0]))
        made.append(tuple(map(str, cache.put(key, spec.render()))))
    return made


def batches(jobs: Sequence[Job], size: int) -> list[list[Job]]:
    """`jobs` in batches of about `size`, sorted so that the drawings of one photo are next to
    each other and in one batch."""
    by_group: dict[str, list[Job]] = {}
    for job in jobs:
        by_group.setdefault(job.group, []).append(job)
    out: list[list[Job]] = []
    for group, members in sorted(by_group.items()):
        if group and out and len(out[-1]) + len(members) <= size:
            out[-1] += members  # small groups packed together
            continue
        # a large group (a photo that many products share) is split too, so that every core
        # gets work, but in parts of at least GROUP_PART drawings, each decoding it once
        step = max(size, min(len(members), GROUP_PART)) if group else size
        out += [members[start : start + step] for start in range(0, len(members), step)]
    return out


def _context() -> multiprocessing.context.BaseContext:
    """fork where it is safe: on Linux, in a process that runs no other thread. It starts a
    worker in milliseconds and, unlike spawn, does not import the caller's main module again
    (which breaks a script without an `if __name__ == "__main__":` guard). With threads
    running (a test browser, a server) a forked child could deadlock on a lock held by one of
    them, so spawn is used then; macOS does not support fork well, so it always spawns."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def worker_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def cached_files(cache: ImageCache, key: str, count: int, present: set[str] | None = None) -> tuple[str, ...] | None:
    """`cache.get` as names, from `present` (the names in the cache's images folder, listed
    once) or with a stat of each name as a string rather than Path joins and is_file: a warm
    build of 10,000 products looks up 50,000 files."""
    base = f"{cache.images}{os.sep}{key}."
    names = [base + str(n) for n in range(count)]
    if present is not None:
        if not all(f"{key}.{n}" in present for n in range(count)):
            return None
        return tuple(names)
    for name in names:
        try:
            if not stat.S_ISREG(os.stat(name).st_mode):
                return None
        except OSError:
            return None
    return tuple(names)


#: From this many jobs in one call, the maker lists the cache's images folder once instead of
#: looking each file up (a listing of 50,000 names takes about as long as 5,000 lookups).
LIST_FROM = 2000


def prune(cache: ImageCache, used: set[str], tag: str) -> int:
    """`cache.prune`, unless the keys this tag used are those its record (builds/<tag>.json)
    already names: its last build pruned then, and every build that changed a record since
    pruned too. The record's time is renewed, which keeps it among the last KEEP_BUILDS.
    (A warm build of 10,000 products would otherwise rewrite a record of 50,000 keys and list
    every image of the cache.)"""
    record = cache.folder / "builds" / f"{tag}.json"
    try:
        same = set(json.loads(record.read_bytes())) == used
    except (OSError, ValueError, TypeError):
        same = False
    if not same:
        return cache.prune(used, tag)
    os.utime(record)
    return 0


#: The preview's table of the files each job was made into (reuse.py).
MADE = "made"


@dataclass
class _Named:
    """A list of jobs made under a name (ImageMaker.make), as the preview keeps it."""

    jobs: Sequence[Job]  # the jobs, alive while kept (their ids stay theirs)
    files: dict[str, str] | None  # their files by output (None: to be made)
    new: list[Job]  # the jobs the list kept before did not have


class ImageMaker:
    """Makes jobs through the cache; counts what it drew and what it found. One pool of worker
    processes is started the first time it is needed and serves every later call."""

    def __init__(self, cache: ImageCache, workers: int | None = None) -> None:
        self.cache = cache
        self.workers = workers if workers is not None else worker_count()
        self.drawn = 0  # files drawn by this maker
        self.cached = 0  # files found in the cache
        self._made: list[Sequence[Job]] = []  # every list of jobs made, for `keys`
        self._pool: Executor | None = None
        self._drawn_elsewhere: set[str] = set()  # keys drawn by `begin`'s pool
        #: The names in the cache's images folder, listed once for this maker's calls (what it
        #: draws is added): a warm build makes its QR codes, then its pictures.
        self._present: set[str] | None = None
        #: The outputs of named lists whose jobs are not those of the list kept under the name
        #: (new ones, and those gone), when every named list had one kept; else None.
        self.renewed: set[str] | None = set()
        self.progress: Callable[[str, int, int], None] | None = None  # told ("images", drawn, to draw)
        #: The preview's (reuse.py): a job made by the build before has the files it had then.
        self.reuse: Reuse | None = None

    @property
    def keys(self) -> set[str]:
        """The cache keys of every job made: what a build's prune keeps (a preview's rebuild,
        which does not prune, never asks)."""
        return {job.key for jobs in self._made for job in jobs}

    def make(self, jobs: Sequence[Job], name: str | None = None) -> dict[str, str]:
        """The files of `jobs` by output path: the names of cached files in the cache folder
        (drawn first when missing), so that memory holds no image bytes. (Names as strings, not
        Path objects: a warm build of 10,000 products gives 50,000, each copied by name.)

        `name` names this list of jobs in the preview's memory (reuse.py): the list the build
        before made under that name is kept with its files, and only the jobs that are not in
        it (by identity: a product that did not change has the very jobs it had) are looked
        up. At 10,000 products that is 4 or 5 jobs instead of 40,000."""
        table = self.reuse.table(MADE) if self.reuse is not None else None
        if table is None or name is None:
            self._made.append(jobs)
            self.renewed = None
            return self._make(jobs, table)
        return self._make_named(jobs, name, self._named(jobs, name))

    def begin(self, jobs: Sequence[Job], name: str, worker: DrawingWorker) -> Callable[[], dict[str, str]]:
        """`make(jobs, name)` in two halves: the drawings it needs start now in `worker` (the
        preview's, which draws while this process renders the pages); the call returned waits
        for them and gives the files. What the worker did not draw is drawn here, as `make` would."""
        named = self._named(jobs, name)
        if named.files is None:  # (a whole list is the maker's own pool's work)
            return lambda: self._make_named(jobs, name, named)
        todo = {job.key: job for job in named.new}
        missing = [
            (key, job.drawing) for key, job in todo.items() if not cached_files(self.cache, key, len(job.outputs))
        ]
        drawing = worker.submit(self.cache.folder, missing) if missing else None

        def finish() -> dict[str, str]:
            if drawing is not None and drawing():
                self._drawn_elsewhere.update(key for key, _ in missing)
                for key, _ in missing:
                    self._listed(todo[key])
            return self._make_named(jobs, name, named)

        return finish

    def _named(self, jobs: Sequence[Job], name: str) -> _Named:
        """`jobs` against the list kept under `name`, by the jobs' identities: position by
        position when the lists are as long (in C: 40,000 jobs in 2 ms; a set of their ids
        would take ten times that), else by sets of ids."""
        last = self.reuse.table(MADE).recall(name) if self.reuse is not None else MISSING
        if last is MISSING:
            self.renewed = None
            return _Named(jobs, None, list(jobs))
        before: Sequence[Job] = last.jobs
        if len(before) == len(jobs):
            differ = list(compress(range(len(jobs)), map(operator.is_not, jobs, before)))
            gone, new = [before[at] for at in differ], [jobs[at] for at in differ]
        else:
            now, then = set(map(id, jobs)), set(map(id, before))
            gone, new = [j for j in before if id(j) not in now], [j for j in jobs if id(j) not in then]
        files = last.files.copy()
        for job in gone:
            for output in job.outputs:
                files.pop(output, None)
        if self.renewed is not None:
            self.renewed.update(output for job in (*gone, *new) for output in job.outputs)
        return _Named(jobs, files, new)

    def _make_named(self, jobs: Sequence[Job], name: str, named: _Named) -> dict[str, str]:
        assert self.reuse is not None
        self._made.append(jobs)
        if named.files is None:
            named.files = self._make(jobs, None)
        else:
            self.cached += len(named.files)
            named.files.update(self._make(named.new, None))
        self.reuse.table(MADE).keep(name, named)
        return named.files

    def _listed(self, job: Job) -> None:
        """Note a job's files, now drawn into the cache, in the listing of its folder."""
        if self._present is not None:
            self._present.update(f"{job.key}.{n}" for n in range(len(job.outputs)))

    def _make(self, jobs: Sequence[Job], table: Table | None) -> dict[str, str]:
        files: dict[str, str] = {}
        missing: dict[str, Job] = {}  # by key: two jobs with the same inputs are drawn once
        look: Sequence[Job] = jobs
        if table is not None:  # the jobs made by the build before: their (output, file) pairs
            kept, look = table.take(jobs)
            files.update(itertools.chain.from_iterable(kept))
            self.cached += len(files)
        present = self._present
        if present is None and len(look) >= LIST_FROM:
            try:
                present = self._present = set(os.listdir(self.cache.images))
            except OSError:  # no images folder yet: every lookup would miss
                present = self._present = set()
        elsewhere = self._drawn_elsewhere
        found = 0
        for job in look:
            key, outputs = job.key, job.outputs
            cached = cached_files(self.cache, key, len(outputs), present)
            if cached is None:
                missing.setdefault(key, job)
                continue
            files.update(zip(outputs, cached, strict=True))
            if key in elsewhere:  # drawn by `begin`'s pool, for this maker
                self.drawn += len(outputs)
            else:
                found += len(outputs)
            if table is not None:
                table.put(job, tuple(zip(outputs, cached, strict=True)))
        self.cached += found
        drawn: dict[str, tuple[str, ...]] = {}
        for batch, made in self._draw(list(missing.values())):
            for job, parts in zip(batch, made, strict=True):
                if len(parts) != len(job.outputs):
                    name = type(job.drawing).__name__
                    raise RuntimeError(f"{name} made {len(parts)} files, expected {len(job.outputs)}")
                drawn[job.key] = parts
                self._listed(job)
            if self.progress is not None:
                self.progress("images", len(drawn), len(missing))
        if drawn:
            for job in look:
                if job.key in drawn:
                    files.update(zip(job.outputs, drawn[job.key], strict=True))
                    self.drawn += len(job.outputs)
                    if table is not None:
                        table.put(job, tuple(zip(job.outputs, drawn[job.key], strict=True)))
        return files

    def _draw(self, jobs: list[Job]) -> Iterator[tuple[list[Job], list[tuple[str, ...]]]]:
        """Each batch of `jobs` and its files in the cache, as they are drawn."""
        context = _context() if self._pool is None else None
        work = batches(jobs, max(1, min(16, len(jobs) // (self.workers * 8))))
        if self.workers < 2 or (context is not None and len(jobs) < MIN_PARALLEL[context.get_start_method()]):
            for batch in work:
                yield batch, _make(self.cache.folder, [(job.key, job.drawing) for job in batch])
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=gc.enable)
        tasks = [[(job.key, job.drawing) for job in batch] for batch in work]
        yield from zip(work, self._pool.map(_make, [self.cache.folder] * len(tasks), tasks), strict=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ImageMaker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DrawingWorker:
    """One worker process that draws the few pictures of a preview's rebuilds while the preview
    renders its pages. Started once (a fork of the preview's process, where that is safe) and
    spoken to through a pipe: no thread runs in the preview for it, so that its own forks (the
    page workers of a full rebuild) stay safe."""

    def __init__(self) -> None:
        context: Any = _context()  # (fork or spawn: both have Process; the base type does not say so)
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_draw_for, args=(child,), name="micromall-draw", daemon=True)
        self._process.start()
        child.close()
        self._waiting = False  # an answer not read yet (its build stopped before it asked)

    def submit(self, folder: Path, batch: Sequence[tuple[str, Drawing]]) -> Callable[[], bool]:
        """Start drawing `batch` into the cache in `folder`; the call returned waits, and says
        whether the worker drew it all."""
        try:
            if self._waiting:
                self._conn.recv()
            self._conn.send((folder, list(batch)))
        except (OSError, EOFError):  # the worker is gone: the maker draws instead
            return lambda: False
        self._waiting = True

        def done() -> bool:
            try:
                answer = self._conn.recv()
            except (OSError, EOFError):
                return False
            finally:
                self._waiting = False
            return answer is True

        return done

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()


def _draw_for(conn: multiprocessing.connection.Connection) -> None:
    """The drawing worker's loop: draw each batch it is sent, answer True (or False when a
    drawing failed: the preview draws it again itself and reports the error), until told None."""
    gc.enable()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            _make(*task)
            answer = True
        except Exception:  # (drawn again by the preview, whose traceback says what went wrong)
            answer = False
        try:
            conn.send(answer)
        except OSError:
            return


#: The start method for worker processes (fork where safe), also used to render pages.
process_context = _context
