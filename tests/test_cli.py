"""The command line: exit codes, `new`, `check`, and the default folders."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from linkcheck import broken_links


def test_new_makes_a_shop_that_builds_without_edits(tmp_path: Path, cli: Callable[..., Result]) -> None:
    target = tmp_path / "shop"
    result = cli("new", str(target), "--title", 'Ann\'s "Good" Goods')
    assert result.exit_code == 0, result.output
    for rel in ["site.yml", "content/stories/hello.md", "content/pages/about.md", "content/images/placeholder.png"]:
        assert (target / rel).is_file()
    built = cli("build", str(target))
    assert built.exit_code == 0, built.output + built.stderr
    assert built.stderr == "", "a fresh starter shop builds without warnings"
    out = target / "public"
    assert "Ann&#39;s &#34;Good&#34; Goods" in (out / "index.html").read_text("utf-8")
    assert len(list((out / "products").iterdir())) == 3  # index.html + 2 products
    assert broken_links(out, "https://example.com/") == []


def test_new_refuses_a_folder_that_is_not_empty(tmp_path: Path, cli: Callable[..., Result]) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    result = cli("new", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert "already exists and is not empty" in result.stderr


def test_check_writes_nothing(make_site: Callable[..., Path], cli: Callable[..., Result]) -> None:
    site = make_site()
    before = sorted(site.rglob("*"))
    result = cli("check", str(site))
    assert result.exit_code == 0
    assert "content is valid" in result.output
    assert sorted(site.rglob("*")) == before


def test_build_defaults_to_the_current_folder_and_public(
    make_site: Callable[..., Path], cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site()
    monkeypatch.chdir(site)
    result = cli("build")
    assert result.exit_code == 0, result.stderr
    assert (site / "public" / "index.html").is_file()
    assert result.output.startswith("Built ")


def test_usage_errors_exit_2(tmp_path: Path, cli: Callable[..., Result]) -> None:
    assert cli("build", str(tmp_path / "missing")).exit_code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("build", str(empty))
    assert result.exit_code == 2
    assert "no site.yml" in result.stderr
    assert cli("build", "--no-such-option").exit_code == 2


def test_content_errors_exit_1_without_traceback(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site = make_site({"content/catalog/tea.yml": "products: [\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "build", str(site)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1].endswith("error") or proc.stderr.splitlines()[-1].endswith("errors")
    assert not (site / "public").exists()


def test_the_command_ends_after_the_build_with_everything_written_and_reported(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    """The installed command leaves without Python's teardown (a second at 10,000 products):
    the summary still reaches a pipe, the exit status is 0, and every file and the build state
    are in place, so the next build renders nothing."""
    site = make_site()
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "MICROMALL_CACHE": str(tmp_path / "c"),
    }
    argv = [sys.executable, "-m", "generator", "build", str(site), "--out", str(tmp_path / "out")]
    first = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Built ") and first.stdout.endswith("\n")
    assert (tmp_path / "out/index.html").is_file()
    again = subprocess.run([*argv, "--profile"], capture_output=True, text=True, env=env, check=False)
    assert again.returncode == 0 and "(0 written," in again.stdout and "write:" in again.stderr


def test_profile_prints_each_phase(make_site: Callable[..., Path], cli: Callable[..., Result]) -> None:
    result = cli("build", str(make_site()), "--profile")
    assert result.exit_code == 0
    phases = [line.split(":")[0] for line in result.stderr.splitlines()]
    assert phases == ["load", "plan", "render", "images", "assets", "write"]
