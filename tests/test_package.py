"""The distribution: bundled themes ship in the wheel, and an installed copy builds a shop."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    (found,) = dist.glob("micromall-*.whl")
    return found


def test_wheel_contains_the_bundled_themes(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "generator/themes/default/templates/base.html" in names
    assert "generator/themes/default/theme.yml" in names
    assert "generator/themes/default/static/css/shop.css" in names
    assert "generator/themes/editorial/theme.yml" in names
    assert "generator/themes/editorial/templates/story.html" in names
    assert "generator/themes/editorial/static/css/editorial.css" in names
    assert "generator/themes/default/locale/zh_CN/LC_MESSAGES/messages.po" in names  # read at build time
    assert not any(n.startswith(("content/", "public/", "tests/")) for n in names)


def test_installed_copy_builds_a_shop_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    # The venv sees this interpreter's packages for the dependencies; micromall itself comes
    # only from the wheel, installed into the venv, run from a folder far from the checkout.
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    target = env_dir / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    zipfile.ZipFile(wheel).extractall(target)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    code = "import generator, sys; print(generator.__file__)"
    where = subprocess.run([python, "-I", "-c", code], cwd=work, capture_output=True, text=True, check=True, env=env)
    assert str(target) in where.stdout, where.stdout
    for args in (["new", "shop"], ["build", "shop"]):
        proc = subprocess.run(
            [python, "-I", "-m", "generator", *args], cwd=work, capture_output=True, text=True, env=env, check=False
        )
        assert proc.returncode == 0, proc.stderr
    assert (work / "shop" / "public" / "static" / "css" / "shop.css").is_file()
