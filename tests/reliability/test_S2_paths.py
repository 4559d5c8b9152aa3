"""S2: path traversal and links in content and themes.

Plan criterion, not loosened where it applies: every traversal, absolute, encoded, backslash or NUL
image path, a symlinked file and directory pointing outside the site, a theme path that leads nowhere,
and a symlink in static/ -> the build fails with a clear error. With sys.addaudithook: 0 opens
outside the site root, the theme folders and what a build must read (Python itself, system fonts),
and 0 writes outside the output dir and the image cache.

Not applicable here: micromall installs no theme archives (a theme is a folder), so there are no
zip/tar members to check; S8's rule forbids extractall in generator/. Hardlinks are not refused: a
hardlinked file *is* inside the site (same inode, path inside), and the audit hook shows no open
outside it.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MINI_SITE, write_site

import generator
from generator.build import build
from generator.cli import main
from generator.themes import bundled_themes_dir

TEA = MINI_SITE["content/catalog/tea.yml"] or ""


def check(site: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", str(site)])
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stderr


BAD_IMAGE_PATHS = {
    "../../etc/passwd": "path must stay inside content/: ../../etc/passwd",
    "/etc/passwd": "path must stay inside content/: /etc/passwd",
    "%2e%2e/%2e%2e/etc/passwd": "is not a usable path",
    "..\\\\..\\\\etc\\\\passwd": "is not a usable path",
    "images/green.jpg\\u0000.png": "is not a usable path",
    "~/secret.jpg": "path must stay inside content/: ~/secret.jpg",
    "images/../../site.yml": "path must stay inside content/",
}


@pytest.mark.parametrize("path", list(BAD_IMAGE_PATHS))
def test_S2_image_paths(path: str, make_site: Callable[..., Path]) -> None:
    """S2: each hostile image path is refused with a clear message naming the field."""
    site = make_site({"content/catalog/tea.yml": TEA.replace("images: [images/green.jpg]", f'images: ["{path}"]')})
    code, err = check(site)
    assert code == 1 and BAD_IMAGE_PATHS[path] in err and "products[0].images[0]" in err, err


def test_S2_symlinked_directory_and_file(make_site: Callable[..., Path], tmp_path: Path) -> None:
    """S2: a symlinked image folder and a symlinked static file leading outside the site are refused."""
    outside = tmp_path / "outside"
    outside.mkdir()
    site = make_site()
    (site / "content/images").rename(outside / "images")
    (site / "content/images").symlink_to(outside / "images", target_is_directory=True)
    code, err = check(site)
    assert code == 1 and "a link leads outside" in err, err

    site2 = write_site(tmp_path / "site2", MINI_SITE)
    (outside / "passwd").write_text("root:x:0:0", "utf-8")
    (site2 / "static").mkdir()
    (site2 / "static/leak.txt").symlink_to(outside / "passwd")
    out = tmp_path / "public"
    result = CliRunner().invoke(main, ["build", str(site2), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "static/leak.txt: a link leads outside its static/ folder" in result.stderr
    assert not (out / "static/leak.txt").exists()


@pytest.mark.parametrize(
    "name", ["../../outside", "/tmp", "default/../../x", "..", "a/b", "%2e%2e/x", "..\\\\x", "x\\u0000y"]
)
def test_S2_theme_paths_that_lead_nowhere(name: str, make_site: Callable[..., Path], tmp_path: Path) -> None:
    """S2: a theme written as a path (a deliberate feature: `theme: ./vendor/my-theme`, the owner's
    choice) that does not lead to a theme folder is a clear error, never a traceback."""
    evil = tmp_path / "outside" / "templates"
    evil.mkdir(parents=True)
    (evil / "base.html").write_text("{{ ''.__class__ }}", "utf-8")
    site = make_site({"site.yml": (MINI_SITE["site.yml"] or "") + f'theme: "{name}"\n'})
    code, err = check(site)
    assert code == 1 and "theme:" in err, err
    assert any(m in err for m in ("unknown theme", "theme folder not found", "not a usable")), err


def test_S2_audit_hook_no_opens_outside(make_site: Callable[..., Path], tmp_path: Path) -> None:
    """S2: a full build opens nothing outside the site, the themes, the output and cache, Python's own
    files and the system fonts; and writes nothing outside the output dir and the image cache."""
    site = make_site()
    hard = tmp_path / "hardlinked-outside.jpg"
    os.link(site / "content/images/black.jpg", hard)  # a hardlink: same file, path inside the site
    out = tmp_path / "public"
    cache = Path(os.environ["MICROMALL_CACHE"])
    readable = [site, bundled_themes_dir(), Path(generator.__file__).parent, out, cache, Path(sys.prefix),
                Path(sys.base_prefix),
                Path(sysconfig.get_paths()["purelib"]), Path("/usr/share/fonts"), Path("/usr/local/share/fonts"),
                Path("/etc/fonts"), Path("/dev/urandom"), Path("/proc/self")]  # fmt: skip
    writable = [out, cache]
    opened: list[tuple[str, str]] = []
    active = [True]

    def hook(event: str, args: tuple[object, ...]) -> None:
        if active[0] and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            writing = bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)) or any(c in str(args[1]) for c in "wax+")
            opened.append((os.fsdecode(args[0]), "w" if writing else "r"))

    sys.addaudithook(hook)  # hooks cannot be removed: it goes quiet when the build ends
    try:
        build(site, out)
    finally:
        active[0] = False

    def inside(path: str, roots: list[Path]) -> bool:
        real = Path(path).resolve() if os.path.isabs(path) else (Path.cwd() / path).resolve()
        return any(real.is_relative_to(r.resolve()) for r in roots)

    writes = [(p, m) for p, m in opened if m == "w"]
    outside_reads = [p for p, _ in opened if not inside(p, readable)]
    outside_writes = [p for p, _ in writes if not inside(p, writable)]
    assert len(opened) > 20 and writes, "the hook saw nothing: it is not wired"
    assert outside_reads == [] and outside_writes == []
    print(f"S2: audit hook saw {len(opened)} opens ({len(writes)} writes): 0 outside the allowed roots")
