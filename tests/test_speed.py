"""What keeps builds fast: measured images remembered, changed files staged and swapped in,
copied files skipped by their stamp."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from generator import media
from generator.build import build
from generator.errors import ContentError
from generator.load import load_site
from generator.output import MANIFEST, STAGING, Staging, write_outputs


def test_image_sizes_are_remembered_and_a_changed_image_is_measured_again(
    make_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site, cache = make_site(), tmp_path / "cache"
    load_site(site, cache)
    assert (cache / "measured.json").is_file()

    def no_decoding(file: Path, shown: str) -> tuple[int, int]:
        raise AssertionError(f"{shown} decoded again")

    monkeypatch.setattr(media, "_measure", no_decoding)
    loaded, _ = load_site(site, cache)  # nothing changed: nothing decoded
    assert {(i.width, i.height) for p in loaded.products for i in p.images} == {(40, 30)}
    monkeypatch.undo()

    green = site / "content/images/green.jpg"
    Image.new("RGB", (64, 48), (1, 2, 3)).save(green)
    loaded, _ = load_site(site, cache)
    assert next(p for p in loaded.products if p.id == "green").image.width == 64  # type: ignore[union-attr]
    green.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")  # broken after being remembered
    with pytest.raises(ContentError) as err:
        load_site(site, cache)
    assert "content/images/green.jpg: not a readable image" in str(err.value.problems)


def test_a_failed_build_leaves_no_staged_files(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site, out = make_site(), tmp_path / "out"
    build(site, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    tea = site / "content/catalog/tea.yml"
    tea.write_text(tea.read_text("utf-8").replace("price: 19.90", "price: 23.90"), "utf-8")
    (site / "templates").mkdir()
    (site / "templates/doc.html").write_text("{{ doc.titel }}\n", "utf-8")  # rendered after the products
    with pytest.raises(ContentError):
        build(site, out, workers=1)
    assert not (out / STAGING).exists()
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_copied_files_are_stamped_and_skipped_without_reading(tmp_path: Path) -> None:
    source, out = tmp_path / "photo.jpg", tmp_path / "out"
    source.write_bytes(b"photo one")
    assert write_outputs(out, {"media/photo.jpg": source, "a.html": b"<p>a</p>"}).written == 2
    manifest = json.loads((out / MANIFEST).read_text("utf-8"))
    assert manifest["media/photo.jpg"][0] == str(source) and manifest["a.html"] is None
    stats = write_outputs(out, {"media/photo.jpg": source, "a.html": b"<p>a</p>"})
    assert (stats.written, stats.unchanged) == (0, 2)
    source.write_bytes(b"photo two")  # same size, new time: copied again
    os.utime(source, ns=(1, 1))
    assert write_outputs(out, {"media/photo.jpg": source, "a.html": b"<p>a</p>"}).written == 1
    assert (out / "media/photo.jpg").read_bytes() == b"photo two"


def test_a_copy_from_the_image_cache_is_checked_by_the_copy_alone(tmp_path: Path) -> None:
    """The image cache's files never change their bytes (named by the hash of their inputs), so
    a copy of one is unchanged while it is the copy the last build made: its source is not
    looked at. A copy changed in the output, or one from another cache file, is copied again."""
    cache, out = tmp_path / "images", tmp_path / "out"
    cache.mkdir()
    (cache / "k1.0").write_bytes(b"card one")
    (cache / "k2.0").write_bytes(b"card two")

    def write(source: Path) -> int:
        staging = Staging(out, cache)
        staging.add("share/card.jpg", source)
        return staging.commit({"share/card.jpg": source}).written

    assert write(cache / "k1.0") == 1
    (cache / "k1.0").unlink()  # pruned: the copy stays good without it
    assert write(cache / "k1.0") == 0
    (out / "share/card.jpg").write_bytes(b"edited by hand")
    (cache / "k1.0").write_bytes(b"card one")
    assert write(cache / "k1.0") == 1 and (out / "share/card.jpg").read_bytes() == b"card one"
    assert write(cache / "k2.0") == 1 and (out / "share/card.jpg").read_bytes() == b"card two"


def test_staging_abort_removes_a_new_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "new"
    staging = Staging(out)
    staging.add("products/x/index.html", b"x")
    assert (out / STAGING / "products/x/index.html").is_file() and not (out / "products").exists()
    staging.abort()
    assert not out.exists()
