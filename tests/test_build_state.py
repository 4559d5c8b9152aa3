"""The build state in the cache folder (buildstate.py): compact, read only as far as a build
needs it, not written again when nothing changed, and never trusted when it is not ours."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from edits import edit, tree

from generator.build import build
from generator.buildstate import STATE_VERSION, BuildState, from_json, load_state, save_state, to_json
from generator.output import MANIFEST
from generator.truth import DataOffers


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _state() -> BuildState:
    page_offers = {"page": {"(product)": (1990, "CNY", True), "v-1": (None, "CNY", False)}}
    return BuildState(
        deps={"a/index.html": frozenset({"p:x", "site:title"}), "b/index.html": frozenset({"gone", "p:x"})},
        prints={"p:x": 1, "site:title": 2**64 - 1},
        metas={"a/index.html": 3, "b/index.html": 4},
        offers={"a/index.html": page_offers},
        stamps={"a/index.html": (10, 1_700_000_000_123_456_789), "catalog.json": (5, 6)},
        inputs=7,
        data=8,
        data_offers=DataOffers({"x": {"(product)": (1990, "CNY", True)}}, {"products.csv": {"x": {}}}),
    )


def test_a_state_reads_back_as_it_was_written(tmp_path: Path) -> None:
    state = _state()
    file = tmp_path / "pages/state.json"
    save_state(file, state)
    again = load_state(file)
    assert again is not None
    assert again.deps == state.deps and again.prints == state.prints and again.metas == state.metas
    assert again.stamps == state.stamps and (again.inputs, again.data) == (7, 8)
    assert again.offers == {} and again.has_offers("a/index.html") and not again.has_offers("b/index.html")
    assert again.page_offers("a/index.html") == state.offers["a/index.html"]
    assert again.page_offers("b/index.html") is None
    assert again.known_data_offers() == state.data_offers


def test_dependency_keys_are_written_once(tmp_path: Path) -> None:
    saved = to_json(_state())
    assert sorted(saved["keys"]) == ["gone", "p:x", "site:title"]
    assert saved["prints"][saved["keys"].index("gone")] is None  # a key no fingerprint has any more
    assert all(type(n) is int for record in saved["pages"].values() for n in record[1])


def test_a_state_not_changed_is_not_written_again(tmp_path: Path) -> None:
    file = tmp_path / "state.json"
    save_state(file, _state())
    loaded = load_state(file)
    assert loaded is not None
    before = os.stat(file).st_mtime_ns
    os.utime(file, ns=(before - 10**9, before - 10**9))
    stamp = os.stat(file).st_mtime_ns
    loaded.saved = (os.stat(file).st_size, stamp)
    same = from_json(to_json(_state()))
    same.offers_json, same.data_offers_json = loaded.offers_json, loaded.data_offers_json
    save_state(file, same, loaded)
    assert os.stat(file).st_mtime_ns == stamp, "identical: left alone"
    changed = from_json(to_json(_state()))
    changed.metas["a/index.html"] = 99
    save_state(file, changed, loaded)
    assert load_state(file).metas["a/index.html"] == 99  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "damage",
    [
        lambda body: body["state"]["pages"]["a/index.html"].__setitem__(1, [999]),  # an index outside the table
        lambda body: body["state"]["pages"]["a/index.html"].__setitem__(0, "3"),  # a fingerprint not an int
        lambda body: body["state"]["stamps"].__setitem__("a/index.html", [1]),
        lambda body: body["state"].__setitem__("keys", [1, 2, 3]),
        lambda body: body.__setitem__("version", STATE_VERSION - 1),
        lambda body: body["state"].pop("pages"),
    ],
)
def test_a_damaged_state_is_ignored(tmp_path: Path, damage: Callable[[dict[str, object]], object]) -> None:
    file = tmp_path / "state.json"
    save_state(file, _state())
    body = json.loads(file.read_bytes())
    damage(body)
    file.write_text(json.dumps(body), "utf-8")
    assert load_state(file) is None


def test_damaged_offers_are_read_back_from_the_page(tmp_path: Path) -> None:
    file = tmp_path / "state.json"
    save_state(file, _state())
    body = json.loads(file.read_bytes())
    body["state"]["pages"]["a/index.html"][2] = '{"page": {"(product)": ["1990", "CNY", true]}}'
    body["state"]["data_offers"] = "{"
    file.write_text(json.dumps(body), "utf-8")
    state = load_state(file)
    assert state is not None
    assert state.page_offers("a/index.html") is None and state.known_data_offers() is None


def _state_files(cache: Path) -> list[Path]:
    return sorted((cache / "pages").glob("*.json"))


def test_a_warm_build_leaves_the_state_the_manifest_and_the_image_record_alone(
    make_site: Callable[..., Path], tmp_path: Path, cache: Path
) -> None:
    site = make_site()
    out = tmp_path / "out"
    build(site, out, cache_dir=cache, workers=1)
    build(site, out, cache_dir=cache, workers=1)  # the first build's state has no read offers: written again
    watched = [*_state_files(cache), out / MANIFEST, *sorted((cache / "builds").glob("*.json"))]
    past = os.stat(watched[0]).st_mtime_ns - 10**9
    for file in watched:
        os.utime(file, ns=(past, past))
    again = build(site, out, cache_dir=cache, workers=1)
    assert again.rendered == 0
    assert [os.stat(f).st_mtime_ns for f in watched[:-1]] == [past] * (len(watched) - 1)
    assert os.stat(watched[-1]).st_mtime_ns > past, "the image record is renewed, not rewritten"


def test_a_damaged_state_file_means_a_full_render_with_the_same_output(
    make_site: Callable[..., Path], tmp_path: Path, cache: Path
) -> None:
    site = make_site()
    out = tmp_path / "out"
    first = build(site, out, cache_dir=cache, workers=1)
    before = tree(out)
    for file in _state_files(cache):
        file.write_bytes(file.read_bytes()[:-40])  # torn
    again = build(site, out, cache_dir=cache, workers=1)
    assert again.rendered == first.pages and tree(out) == before


def test_a_page_whose_file_changed_is_rendered_again_even_at_the_same_size(
    make_site: Callable[..., Path], tmp_path: Path, cache: Path
) -> None:
    site = make_site()
    out = tmp_path / "out"
    build(site, out, cache_dir=cache, workers=1)
    page = out / "products/black/index.html"
    good = page.read_bytes()
    page.write_bytes(good.replace(b"Black tea", b"Blank tea"))  # same size, new time
    again = build(site, out, cache_dir=cache, workers=1)
    assert again.rendered == 1 and page.read_bytes() == good
    page.unlink()
    again = build(site, out, cache_dir=cache, workers=1)
    assert again.rendered == 1 and page.read_bytes() == good


def test_a_copied_file_changed_in_the_output_is_copied_again(
    make_site: Callable[..., Path], tmp_path: Path, cache: Path
) -> None:
    site = make_site()
    out = tmp_path / "out"
    build(site, out, cache_dir=cache, workers=1)
    poster = next((out / "posters").glob("*-square.jpg"))
    good = poster.read_bytes()
    poster.write_bytes(b"not a poster")
    build(site, out, cache_dir=cache, workers=1)
    assert poster.read_bytes() == good


def test_after_a_price_edit_the_saved_offers_check_the_prices_again(
    make_site: Callable[..., Path], tmp_path: Path, cache: Path
) -> None:
    site = make_site()
    out = tmp_path / "out"
    build(site, out, cache_dir=cache, workers=1)
    build(site, out, cache_dir=cache, workers=1)
    edit(site / "content/catalog/tea.yml", "price: 19.90", "price: 24.90")
    again = build(site, out, cache_dir=cache, workers=1)
    assert 0 < again.rendered < again.pages
    full = tmp_path / "full"
    build(site, full, cache_dir=tmp_path / "other-cache", workers=1)
    assert tree(out) == tree(full)


def test_a_page_rendered_after_a_build_that_rendered_none_still_has_its_inline_qr_code(
    make_site: Callable[..., Path], tmp_path: Path, cache: Path
) -> None:
    """A QR code's SVG text is read from the image cache when a template prints it (most never
    do), so a theme that prints `product.share.qr_svg` gets it in any build that renders."""
    site = make_site({"templates/partials/share.html": "<div class=qr-inline>{{ product.share.qr_svg }}</div>"})
    out = tmp_path / "out"
    build(site, out, cache_dir=cache, workers=1)
    assert build(site, out, cache_dir=cache, workers=1).rendered == 0
    edit(site / "content/catalog/tea.yml", "price: 19.90", "price: 24.90")
    assert build(site, out, cache_dir=cache, workers=1).rendered > 0
    page = (out / "products/black/index.html").read_text("utf-8")
    assert "24.90" in page and "<div class=qr-inline><svg" in page
