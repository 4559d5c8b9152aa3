"""Writing the output folder: only changed files, each through a temporary name and a rename.

Nothing here runs before the whole shop has been checked and rendered in memory, so a failed
build never touches the previous output. A reader of the folder never sees a half-written file,
and files whose bytes did not change are left alone (rewriting them costs more than comparing).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

MANIFEST = ".micromall-manifest.json"
#: Folders whose files the manifest never names, because the manifest is served with the shop
#: and their addresses are secret (the promoters' kits); stale files there are found by a scan.
UNLISTED = ("kit",)
STAGING = ".micromall-staging"  # changed files wait here until the whole build has succeeded
#: Where a preview's rebuild keeps the large files it replaced until it is idle (Staging.commit).
TRASH = ".micromall-replaced"
#: From this size, replacing a file frees its blocks for long enough to be worth a trash link.
TRASH_FROM = 1 << 20

Source = bytes | Path | str  # rendered bytes, or a file to copy (a Path, or its name: the image cache's files)


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


Stamp = list[object]  # a copied file's source path, size and time, and the copy's size and time


def _stamp(source: Path | str, target: Path | str) -> Stamp | None:
    try:
        src, dst = os.stat(source), os.stat(target)
    except OSError:
        return None
    return [str(source), src.st_size, src.st_mtime_ns, dst.st_size, dst.st_mtime_ns]


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


def read_manifest(out_dir: Path) -> dict[str, Stamp | None]:
    """What the last build wrote: output paths, with a stamp for files copied from a source."""
    try:
        loaded = json.loads((out_dir / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if isinstance(loaded, list):  # written by an older micromall
        return {str(rel): None for rel in loaded}
    return loaded if isinstance(loaded, dict) else {}


def _copy_unchanged(source: Path | str, target: str, stamp: Stamp, fixed: bool) -> bool:
    """Whether the copy at `target` is as the last build made it from `source`. A `fixed`
    source (a file of the image cache, named by the hash of what it is made from, never
    rewritten with other bytes) needs only the copy's own size and time checked."""
    if not fixed:
        return _stamp(source, target) == stamp
    if type(stamp) is not list or len(stamp) != 5 or stamp[0] != str(source):  # (the manifest is JSON)
        return False
    try:
        dst = os.stat(target)
    except OSError:
        return False
    return [dst.st_size, dst.st_mtime_ns] == stamp[3:]


def stage_file(
    out_dir: Path, rel: str, source: Source, stamp: Stamp | None = None, fixed: bool = False, differs: bool = False
) -> tuple[bool, Stamp | None]:
    """Compare one output file with what is on disk; when it differs, write it into the staging
    folder for `Staging.commit`. Returns (staged, stamp). A file copied from `source` whose
    stamp (from the last manifest) still matches both files is unchanged without reading it.
    Safe to call from worker processes: each call touches only its own file. (`differs`: the
    caller knows the bytes differ from the output's, which is then not read.)"""
    if isinstance(source, bytes):
        data = source
    else:
        if stamp is not None and _copy_unchanged(source, f"{out_dir}{os.sep}{rel}", stamp, fixed):
            return False, stamp
        data = Path(source).read_bytes()
    target = out_dir / rel
    if not differs and _same(target, data):
        return False, None if isinstance(source, bytes) else _stamp(source, target)
    staged = out_dir / STAGING / rel
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(data)
    os.chmod(staged, 0o644)
    return True, None


class Staging:
    """The output folder's next state, written beside the current one and swapped in at the end.

    `add` compares each file with the output and writes a changed one into a hidden staging
    folder inside the output folder (so memory holds one file at a time, and an unchanged file
    costs a compare); `commit` renames the staged files into place, removes stale files and
    writes the manifest; `abort` (on any error) deletes the staging folder, so a failed build
    leaves the visible output exactly as it was.
    """

    def __init__(
        self, out_dir: Path, fixed: Path | None = None, manifest: dict[str, Stamp | None] | None = None
    ) -> None:
        self.out_dir = out_dir
        #: A folder whose files never change their bytes (the image cache's: see _copy_unchanged).
        self.fixed = f"{fixed}{os.sep}" if fixed is not None else None
        self.created = not out_dir.exists()
        #: What the last build wrote: its manifest, or `manifest` from a preview's memory
        self.previous = manifest if manifest is not None else read_manifest(out_dir)
        self._read = manifest is None  # `previous` is the manifest on disk
        self.names: dict[str, Stamp | None] = {}
        self.staged: dict[str, None] = {}  # rel -> None, in staging order
        self.unchanged = 0
        if manifest is None:  # left by a build that was killed (a preview's rebuilds leave theirs to `tidy`)
            shutil.rmtree(out_dir / STAGING, ignore_errors=True)
            shutil.rmtree(out_dir / TRASH, ignore_errors=True)
        self.trash: list[Path] = []  # replaced files kept by commit(trash=True), for `tidy`

    def add(self, rel: str, source: Source, differs: bool = False) -> None:
        fixed = self.fixed is not None and not isinstance(source, bytes) and str(source).startswith(self.fixed)
        self.record(rel, *stage_file(self.out_dir, rel, source, self.previous.get(rel), fixed, differs))

    def add_made(self, made: Iterable[tuple[str, str]]) -> None:
        """`add` for each (rel, name of a file in the `fixed` folder): a copy whose stamp says it
        is of that file, at the size and time the stamp has, is taken as it is in one short
        loop (a warm build of 10,000 products has 50,000); any other goes through `add`."""
        fixed, previous, names = self.fixed, self.previous, self.names
        out = f"{self.out_dir}{os.sep}"
        for rel, name in made:
            stamp = previous.get(rel)
            if stamp is not None and fixed and name.startswith(fixed) and _copy_unchanged(name, out + rel, stamp, True):
                names[rel] = stamp
                self.unchanged += 1
            else:
                self.add(rel, name)

    def record(self, rel: str, staged: bool, stamp: Stamp | None) -> None:
        """Note a file staged, possibly by a worker process, with `stage_file`."""
        self.names[rel] = stamp
        if staged:
            self.staged[rel] = None
        else:
            self.unchanged += 1

    def path_of(self, rel: str) -> Path:
        """Where `rel` of this build is now: staged when it changed, else as it is in the output."""
        return self.out_dir / STAGING / rel if rel in self.staged else self.out_dir / rel

    def abort(self) -> None:
        shutil.rmtree(self.out_dir / STAGING, ignore_errors=True)
        if self.created:
            with contextlib.suppress(OSError):
                self.out_dir.rmdir()
        self.staged.clear()

    def commit(
        self, sources: dict[str, Source] | None = None, clean: bool = False, manifest: bool = True, trash: bool = False
    ) -> WriteStats:
        """Move the staged files into place. `sources` (copied files by rel) lets the manifest
        stamp freshly copied files, so that the next build skips them with two stats. Without
        `manifest`, the manifest is written by a later `write_manifest` (a preview's rebuild).

        With `trash` (a preview's rebuild), a large file that is replaced is first linked into a
        hidden folder, so that the rename does not wait for its blocks to be freed (a 7 MB data
        file: 8 ms, against 0.3 ms), and the staging folder's empty folders stay (removing them
        took 10 ms): `tidy` removes both once the preview is idle."""
        stats = WriteStats(written=len(self.staged), unchanged=self.unchanged)
        staging = self.out_dir / STAGING
        try:
            # (a preview's rebuild moves its large files last: the small ones, its page among
            # them, do not wait behind the writing out of megabytes that a rename starts)
            for rel in sorted(self.staged, key=lambda rel: _large(staging / rel)) if trash else self.staged:
                target = self.out_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if trash:
                    self._keep_replaced(target)
                os.replace(staging / rel, target)
                source = (sources or {}).get(rel)
                if source is not None and not isinstance(source, bytes):
                    self.names[rel] = _stamp(source, target)
        except BaseException:
            self.abort()
            raise
        if not trash:
            self._remove_staging()
        self.staged.clear()
        stats.removed = _remove_stale(self.out_dir, self.previous, self.names, clean)
        if manifest:
            self.write_manifest()
        return stats

    def _keep_replaced(self, target: Path) -> None:
        try:
            if os.stat(target).st_size < TRASH_FROM:
                return
            kept = self.out_dir / TRASH / f"{next(_TRASHED)}-{target.name}"
            kept.parent.mkdir(exist_ok=True)
            os.link(target, kept)
        except OSError:  # no such file, or no hard links here: replaced as any file is
            return
        self.trash.append(kept)

    def _remove_staging(self) -> None:
        # only empty folders are left: remove them without opening anything (rmtree opens each
        # folder by a relative name, which an audit of the build's file access cannot place)
        staging = self.out_dir / STAGING
        _remove_empty_dirs(staging)
        with contextlib.suppress(OSError):
            staging.rmdir()

    def tidy(self) -> None:
        """Remove what `commit(trash=True)` left: the replaced files, the staging folder's folders."""
        shutil.rmtree(self.out_dir / TRASH, ignore_errors=True)
        self.trash.clear()
        self._remove_staging()

    def write_manifest(self) -> None:
        """Record this build's files in the output folder, for the next build's `previous`."""
        listed = {rel: stamp for rel, stamp in self.names.items() if rel.split("/", 1)[0] not in UNLISTED}
        if self._read and listed == self.previous and (self.out_dir / MANIFEST).is_file():
            return  # the manifest read at the start says just this (one from memory may not be on disk yet)
        # (without indent, json's C encoder writes it: 80 ms at 10,000 products, not 220)
        data = json.dumps(dict(sorted(listed.items())), ensure_ascii=False).encode()
        if not _same(self.out_dir / MANIFEST, data):
            _write_atomic(self.out_dir / MANIFEST, data)


def _large(file: Path) -> bool:
    try:
        return os.stat(file).st_size >= TRASH_FROM
    except OSError:
        return False


_TRASHED = itertools.count()  # (names in the trash folder, unique in this process)


def write_outputs(out_dir: Path, files: dict[str, Source], clean: bool = False) -> WriteStats:
    """Bring out_dir in line with `files`; stale files from our last build are removed.

    With `clean`, every file not produced by this build is removed, ours or not, except
    hidden ones (a `.git` folder of a deploy branch, `.well-known`, `.nojekyll`).
    """
    staging = Staging(out_dir)
    try:
        for rel, source in sorted(files.items()):
            staging.add(rel, source)
    except BaseException:
        staging.abort()
        raise
    return staging.commit(files, clean)


def _remove_stale(out_dir: Path, previous: dict[str, Stamp | None], names: dict[str, Stamp | None], clean: bool) -> int:
    if clean:
        found = (p.relative_to(out_dir) for p in out_dir.rglob("*") if p.is_file() or p.is_symlink())
        stale = {rel.as_posix() for rel in found if not any(part.startswith(".") for part in rel.parts)}
    else:
        stale = previous.keys() - names.keys()  # (60,000 names at 10,000 products: in C, no copies)
    for folder in UNLISTED:
        stale.update(_files_under(out_dir, folder))
    stale.difference_update(names)
    stale.discard(MANIFEST)
    removed = 0
    for rel in sorted(stale):
        target = out_dir / rel
        if ".." in Path(rel).parts or not target.resolve().is_relative_to(out_dir.resolve()):
            continue  # a tampered manifest must not delete outside the output folder
        if target.is_file() or target.is_symlink():
            target.unlink()
            removed += 1
    if removed:
        _remove_empty_dirs(out_dir)
    return removed


def _files_under(out_dir: Path, folder: str) -> Iterator[str]:
    """The output paths of the files (and links) under `folder` of the output, as strings:
    the kits of a shop with promoters hold four files per product and promoter, listed at
    every build (pathlib's rglob costs ten times as much)."""
    for root, dirs, files in os.walk(out_dir / folder):
        rel = Path(root).relative_to(out_dir).as_posix()
        yield from (f"{rel}/{name}" for name in files)
        # links to folders are not followed, but are files of the output like any link
        yield from (f"{rel}/{name}" for name in dirs if os.path.islink(os.path.join(root, name)))


def _remove_empty_dirs(root: Path) -> None:
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty
            folder.rmdir()
