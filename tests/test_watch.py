"""How the preview hears of edits (watch.py): from the kernel on Linux, on a timer elsewhere or
when the kernel refuses, and in both cases the same files, once the editor is done writing."""

from __future__ import annotations

import errno
import select
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from generator import watch
from generator.reuse import IDLE, IDLE_BEFORE, Reuse

needs_inotify = pytest.mark.skipif(sys.platform != "linux", reason="the kernel's file events are Linux's")


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "content" / "catalog").mkdir(parents=True)
    (tmp_path / "site.yml").write_text("title: Tea\n")
    (tmp_path / "content" / "catalog" / "tea.yml").write_text("products: []\n")
    return tmp_path


def watched(site: Path) -> list[Path]:
    return [site / "site.yml", site / "content"]


@pytest.fixture
def open_sources(shop: Path) -> Iterator[Callable[..., watch.Sources]]:
    """Opens the test shop's sources (told of changes by the kernel unless `events=False`);
    each is closed after the test."""
    opened: list[watch.Sources] = []

    def open_sources(events: bool = True) -> watch.Sources:
        opened.append(watch.Sources(watched(shop), events=events))
        return opened[-1]

    yield open_sources
    for sources in opened:
        sources.close()


@pytest.fixture
def sources(open_sources: Callable[..., watch.Sources]) -> watch.Sources:
    return open_sources()


def woken(sources: watch.Sources, within: float = 2.0) -> bool:
    """Whether the kernel says, within `within` seconds, that something may have changed."""
    fd = sources.fileno()
    assert fd is not None
    return bool(select.select([fd], [], [], within)[0])


@needs_inotify
def test_an_edit_wakes_the_preview_and_is_the_one_change(shop: Path, sources: watch.Sources) -> None:
    assert sources.fileno() is not None
    assert not woken(sources, 0.05)  # an idle shop: nothing to read, no look on a timer
    tea = shop / "content" / "catalog" / "tea.yml"
    tea.write_text("products: [{id: green}]\n")
    assert woken(sources)
    assert sources.settled_changes() == {tea}
    assert not woken(sources, 0.05)  # the events were read: the preview waits again
    (shop / "site.yml").write_text("title: Green tea\n")  # a file watched by itself
    assert woken(sources) and sources.settled_changes() == {shop / "site.yml"}


@needs_inotify
def test_a_new_folder_is_watched_and_what_was_written_in_it_is_found(shop: Path, sources: watch.Sources) -> None:
    photos = shop / "content" / "images" / "teas"
    photos.mkdir(parents=True)
    (photos / "green.jpg").write_bytes(b"a photo")
    assert woken(sources)
    assert sources.settled_changes() == {photos / "green.jpg"}
    (photos / "green.jpg").write_bytes(b"another photo")  # heard from the new folder's own watch
    assert woken(sources) and sources.settled_changes() == {photos / "green.jpg"}
    for file in photos.iterdir():
        file.unlink()
    photos.rmdir()
    assert woken(sources) and sources.settled_changes() == {photos / "green.jpg"}
    photos.mkdir()  # the same path again: the kernel dropped its old watch
    (photos / "black.jpg").write_bytes(b"a photo")
    assert woken(sources) and sources.settled_changes() == {photos / "black.jpg"}


@needs_inotify
def test_the_change_is_built_once_the_editor_is_done_writing(shop: Path, sources: watch.Sources) -> None:
    """An editor that truncates the file and writes it a moment later: one change, the whole file."""
    tea = shop / "content" / "catalog" / "tea.yml"
    with tea.open("w") as fh:
        fh.flush()
        assert woken(sources)
        time.sleep(watch.QUIET / 3)
        fh.write("products: [{id: green}]\n")
    started = time.monotonic()
    assert sources.settled_changes() == {tea}
    assert time.monotonic() - started >= watch.QUIET  # it waited for the quiet
    assert tea.read_text() == "products: [{id: green}]\n"
    assert sources.changes() == set()  # nothing was left for a second rebuild


@pytest.mark.parametrize("events", [True, False], ids=["kernel", "timer"])
def test_hidden_files_are_not_edits(shop: Path, open_sources: Callable[..., watch.Sources], events: bool) -> None:
    """Editors keep swap and lock files beside the file; the build never reads dot files."""
    sources = open_sources(events=events)
    (shop / "content" / "catalog" / ".tea.yml.swp").write_bytes(b"swap")
    (shop / ".site.yml.swp").write_bytes(b"swap")
    assert sources.settled_changes() == set()


def test_on_a_timer_the_same_edits_are_found(shop: Path, open_sources: Callable[..., watch.Sources]) -> None:
    sources = open_sources(events=False)
    assert sources.fileno() is None
    tea = shop / "content" / "catalog" / "tea.yml"
    tea.write_text("products: [{id: green}]\n")
    (shop / "content" / "stories").mkdir()
    (shop / "content" / "stories" / "spring.md").write_text("---\ntitle: Spring\n---\n")
    assert sources.settled_changes() == {tea, shop / "content" / "stories" / "spring.md"}
    assert sources.settled_changes() == set()


@needs_inotify
def test_when_the_kernel_refuses_a_watch_the_preview_looks_on_a_timer(
    shop: Path, sources: watch.Sources, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sources.fileno() is not None

    def refuse(path: str, mask: int) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sources.notify, "add_watch", refuse)
    (shop / "content" / "stories").mkdir()  # a folder it cannot watch
    assert woken(sources)
    changes = sources.settled_changes()
    assert sources.fileno() is None  # from now on, on a timer
    assert "Looking for edits on a timer" in capsys.readouterr().err
    story = shop / "content" / "stories" / "spring.md"
    story.write_text("---\ntitle: Spring\n---\n")
    assert changes | sources.settled_changes() == {story}


def test_what_a_build_left_for_later_is_done_one_piece_at_a_time_once_idle() -> None:
    reuse, done = Reuse(), []
    for name in ["manifest", "collector", "tidy"]:
        reuse.deferred[name] = lambda name=name: done.append(name)
    assert not reuse.flush_one(IDLE / 2) and done == []  # an edit may follow at once
    assert reuse.flush_one(IDLE) and done == ["manifest"]  # one at a time: an edit waits for one at most
    assert reuse.flush_one(IDLE) and done == ["manifest", "tidy"]  # the collector waits for a pause
    assert not reuse.flush_one(IDLE_BEFORE["collector"] / 2)
    assert reuse.flush_one(IDLE_BEFORE["collector"]) and done == ["manifest", "tidy", "collector"]
    assert not reuse.flush_one(60.0)
