"""Helpers for the tests that edit a shop and compare a rebuilt output with a full build."""

from __future__ import annotations

from pathlib import Path

from generator.output import MANIFEST


def tree(out: Path) -> dict[str, bytes]:
    """Every built file's bytes by its path in the output, the build's own manifest left out."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != MANIFEST}


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a content file (which must contain it) with `new`."""
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
