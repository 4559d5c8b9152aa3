"""Minified scripts and style sheets are kept by the hash of their source, so a build that
changed no theme file minifies nothing (calmjs.parse is most of a second for the default theme)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import minify as minify_module
from generator.minify import FOLDER, Minifier, minify

SCRIPT = b"function add(first, second) {\n  var total = first + second;\n  return total;\n}\n"


def test_a_kept_result_is_reused_across_builds_and_pruned_when_its_source_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Minifier(tmp_path)
    made = first("shop.js", SCRIPT)
    assert made == minify("shop.js", SCRIPT) and len(made) < len(SCRIPT)
    assert [f.suffix for f in (tmp_path / FOLDER).iterdir()] == [".js"]

    # a new process (the in-process copy is gone): read back from the cache folder, not minified
    monkeypatch.setattr(minify_module, "_KEPT", {})
    calls: list[str] = []
    monkeypatch.setattr(minify_module, "_minify", lambda path, data: calls.append(path) or b"again")
    assert Minifier(tmp_path)("shop.js", SCRIPT) == made and calls == []

    # the source changed: minified once, and the old file goes when the build prunes
    changed = Minifier(tmp_path)
    assert changed("shop.js", SCRIPT + b"add(1, 2);\n") == b"again" and calls == ["shop.js"]
    changed.prune()
    assert len(list((tmp_path / FOLDER).iterdir())) == 1


def test_files_already_minified_or_not_scripts_are_published_as_they_are(tmp_path: Path) -> None:
    keep = Minifier(tmp_path)
    assert keep("vendor.min.js", SCRIPT) == SCRIPT
    assert keep("logo.svg", b"<svg/>") == b"<svg/>"
    assert not (tmp_path / FOLDER).exists()


def test_an_unreadable_kept_file_means_minifying_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = Minifier(tmp_path)("shop.css", b"a {  color : red ; }\n")
    monkeypatch.setattr(minify_module, "_KEPT", {})
    for file in (tmp_path / FOLDER).iterdir():
        file.unlink()
        file.mkdir()  # not a file any more: reading it fails
    assert Minifier(tmp_path)("shop.css", b"a {  color : red ; }\n") == made
