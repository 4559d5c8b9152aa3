"""The build's progress display: shown on a terminal, silent in CI and in pipes."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from generator.progress import terminal_progress, wants_progress


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_outside_ci() -> None:
    assert wants_progress(FakeTty(), {"TERM": "xterm"})
    assert not wants_progress(FakeTty(), {"TERM": "xterm", "CI": "true"})
    assert not wants_progress(FakeTty(), {"TERM": "dumb"})
    assert not wants_progress(io.StringIO(), {"TERM": "xterm"})


def test_progress_redraws_one_line_at_most_every_interval_and_clears_it() -> None:
    out, now = FakeTty(), [0.0]
    show = terminal_progress(out, clock=lambda: now[0])
    show("pages", 0, 200)
    show("pages", 50, 200)  # too soon: not drawn
    now[0] = 1.0
    show("pages", 100, 200)
    show("pages", 200, 200)  # done: always drawn, and the line is cleared
    assert out.getvalue() == "\r\x1b[Kpages 0/200 (0%)\r\x1b[Kpages 100/200 (50%)\r\x1b[K"


def test_build_summary_counts_pages_and_images_and_no_progress_when_piped(
    make_site: Callable[..., Path], cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROMALL_CACHE", str(tmp_path / "empty-cache"))  # the first build draws
    site = make_site()
    first = cli("build", str(site), "--jobs", "1")
    assert first.exit_code == 0, first.output
    assert "\r" not in first.stderr
    (line,) = first.output.splitlines()
    assert line.startswith("Built ") and " drawn, 0 cached, in " in line
    again = cli("build", str(site), "--jobs", "2")
    assert " images 0 drawn, " in again.output and "(0 written," in again.output
