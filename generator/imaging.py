"""Making the share images: look each one up in the cache, draw the missing ones on all cores.

A drawing is a frozen dataclass with a `render()` that turns its fields into file bytes and
reads nothing but the files its fields name, so it can be pickled to a worker process and its
key (see cache.py) says everything about its result.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .cache import ImageCache, key_of

#: Fewer drawings than this are made in the build's own process: starting workers costs more.
#: Forked workers start in milliseconds; spawned ones import Python and Pillow first (~0.4 s).
MIN_PARALLEL = {"fork": 8, "spawn": 24}


class Drawing(Protocol):
    def render(self) -> tuple[bytes, ...]: ...


@dataclass(frozen=True)
class Job:
    """One drawing and the output paths of the files it makes, in the order it makes them."""

    outputs: tuple[str, ...]
    spec: Drawing
    key: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", key_of(self.spec))


def _render(spec: Drawing) -> tuple[bytes, ...]:
    return spec.render()


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


class ImageMaker:
    """Makes jobs through the cache; counts what it drew and what it found. One pool of worker
    processes is started the first time it is needed and serves every later call."""

    def __init__(self, cache: ImageCache, workers: int | None = None) -> None:
        self.cache = cache
        self.workers = workers if workers is not None else worker_count()
        self.drawn = 0  # files drawn by this maker
        self.cached = 0  # files found in the cache
        self.keys: set[str] = set()
        self._pool: Executor | None = None
        self.progress: Callable[[str, int, int], None] | None = None  # told ("images", drawn, to draw)

    def make(self, jobs: Sequence[Job]) -> dict[str, Path]:
        """The files of `jobs` by output path: cached files in the cache folder (drawn first
        when missing), so that memory holds no image bytes."""
        files: dict[str, Path] = {}
        missing: list[Job] = []
        for job in jobs:
            self.keys.add(job.key)
            found = self.cache.get(job.key, len(job.outputs))
            if found is None:
                missing.append(job)
            else:
                files.update(zip(job.outputs, found, strict=True))
                self.cached += len(job.outputs)
        for n, (job, parts) in enumerate(zip(missing, self._draw([job.spec for job in missing]), strict=True), 1):
            if self.progress is not None:
                self.progress("images", n, len(missing))
            if len(parts) != len(job.outputs):
                raise RuntimeError(f"{type(job.spec).__name__} made {len(parts)} files, expected {len(job.outputs)}")
            files.update(zip(job.outputs, self.cache.put(job.key, parts), strict=True))
            self.drawn += len(job.outputs)
        return files

    def _draw(self, specs: list[Drawing]) -> Iterator[tuple[bytes, ...]]:
        """The drawings' files, in order, as they are drawn."""
        context = _context() if self._pool is None else None
        if self.workers < 2 or (context is not None and len(specs) < MIN_PARALLEL[context.get_start_method()]):
            return (_render(spec) for spec in specs)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        chunk = max(1, min(16, len(specs) // (self.workers * 4)))
        return self._pool.map(_render, specs, chunksize=chunk)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ImageMaker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: The start method for worker processes (fork where safe), also used to render pages.
process_context = _context
