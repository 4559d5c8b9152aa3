"""Writing the output folder: only changed files, each through a temporary name and a rename.

Nothing here runs before the whole shop has been checked and rendered in memory, so a failed
build never touches the previous output. A reader of the folder never sees a half-written file,
and files whose bytes did not change are left alone (rewriting them costs more than comparing).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

MANIFEST = ".micromall-manifest.json"
#: Folders whose files the manifest never names, because the manifest is served with the shop
#: and their addresses are secret (the promoters' kits); stale files there are found by a scan.
UNLISTED = ("kit",)

Source = bytes | Path  # rendered bytes, or a file to copy


@dataclass
class WriteStats:
    written: int = 0
    unchanged: int = 0
    removed: int = 0


#: Folders of a site that an output folder must never be, nor be inside.
SOURCE_FOLDERS = ("content", "templates", "static", "themes")


def check_out_dir(site_dir: Path, out_dir: Path) -> None:
    """Refuse an output folder that holds the site or its sources: cleaning it would delete them."""
    site, out = site_dir.resolve(), out_dir.resolve()
    if site == out or site.is_relative_to(out):
        raise UsageError(f"the output folder {out_dir} contains the site itself; choose another --out")
    for name in SOURCE_FOLDERS:
        if out.is_relative_to(site / name):
            raise UsageError(f"the output folder {out_dir} is inside the site's {name}/ folder; choose another --out")


def _same(target: Path, data: bytes) -> bool:
    try:
        if target.stat().st_size != len(data):
            return False
        return target.read_bytes() == data
    except OSError:
        return False


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_outputs(out_dir: Path, files: dict[str, Source], clean: bool = False) -> WriteStats:
    """Bring out_dir in line with `files`; stale files from our last build are removed.

    With `clean`, every file not produced by this build is removed, ours or not, except
    hidden ones (a `.git` folder of a deploy branch, `.well-known`, `.nojekyll`).
    """
    stats = WriteStats()
    out_dir.mkdir(parents=True, exist_ok=True)
    for rel, source in sorted(files.items()):
        data = source.read_bytes() if isinstance(source, Path) else source
        target = out_dir / rel
        if _same(target, data):
            stats.unchanged += 1
            continue
        _write_atomic(target, data)
        stats.written += 1

    manifest = out_dir / MANIFEST
    if clean:
        found = (p.relative_to(out_dir) for p in out_dir.rglob("*") if p.is_file() or p.is_symlink())
        stale = {rel.as_posix() for rel in found if not any(part.startswith(".") for part in rel.parts)}
    else:
        try:
            stale = set(json.loads(manifest.read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            stale = set()
    for folder in UNLISTED:
        if (out_dir / folder).is_dir():
            found = (p.relative_to(out_dir) for p in (out_dir / folder).rglob("*") if p.is_file() or p.is_symlink())
            stale |= {rel.as_posix() for rel in found}
    stale -= set(files) | {MANIFEST}
    for rel in sorted(stale):
        target = out_dir / rel
        if ".." in Path(rel).parts or not target.resolve().is_relative_to(out_dir.resolve()):
            continue  # a tampered manifest must not delete outside the output folder
        if target.is_file() or target.is_symlink():
            target.unlink()
            stats.removed += 1
    if stats.removed:
        _remove_empty_dirs(out_dir)
    listed = sorted(rel for rel in files if rel.split("/", 1)[0] not in UNLISTED)
    _write_atomic(manifest, json.dumps(listed, indent=0).encode())
    return stats


def _remove_empty_dirs(root: Path) -> None:
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty
            folder.rmdir()
