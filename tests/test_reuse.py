"""The preview's memory (reuse.py): a rebuild that takes over the last build's work for what did
not change writes, edit after edit, exactly what a full build of the same files writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from edits import edit, tree
from PIL import Image

from generator import load
from generator.build import build
from generator.buildstate import BuildState
from generator.cache import ImageCache
from generator.errors import ContentError
from generator.imaging import DrawingWorker, ImageMaker, Job
from generator.output import STAGING, TRASH, TRASH_FROM, Staging, read_manifest
from generator.qr import QrSpec
from generator.reuse import LOAD, MISSING, Reuse

#: A second catalog file, whose products share tags and a collection with tea.yml's: an edit of
#: one file changes what the other file's (kept) products show as related.
MORE = """\
collection:
  id: cups
  title: Cups
products:
  - id: cup
    title: Clay cup
    price: 30
    images: [images/cup.jpg]
    tags: [green]
    collections: [tea]
  - id: bowl
    title: Tea bowl
    price: 45.50
    summary: Wide and low.
    tags: [green, black]
  - id: tray
    title: Bamboo tray
    price: 88
    stock: 3
    collections: [tea]
"""

#: A file without a collection of its own: its product's first collection is defined in more.yml.
LOOSE = """\
products:
  - id: kettle
    title: Iron kettle
    price: 260
    collections: [cups]
    tags: [black]
"""
FILES = {"content/catalog/more.yml": MORE, "content/catalog/loose.yml": LOOSE, "content/images/cup.jpg": None}

Step = tuple[str, Callable[[Path], None]]


def _replace(rel: str, old: str, new: str) -> Callable[[Path], None]:
    return lambda site: edit(site / rel, old, new)


def _append(rel: str, text: str) -> Callable[[Path], None]:
    def run(site: Path) -> None:
        with (site / rel).open("a", encoding="utf-8") as fh:
            fh.write(text)

    return run


def _repaint(rel: str, colour: tuple[int, int, int]) -> Callable[[Path], None]:
    """The photo replaced by another of the same size: the catalog parse is kept, the pictures
    that show it must be drawn again."""
    return lambda site: Image.new("RGB", (40, 30), colour).save(site / rel)


MORE_FILE = "content/catalog/more.yml"
LID = "  - id: lid\n    title: Lid\n    price: 5\n    tags: [green]\n"

STEPS: list[Step] = [
    ("price", _replace("content/catalog/tea.yml", "price: 128", "price: 138")),
    ("title of a kept file's product", _replace(MORE_FILE, "title: Clay cup", "title: Clay cup, small")),
    ("tags (related products change)", _replace(MORE_FILE, "tags: [green, black]", "tags: [black]")),
    ("new product", _append(MORE_FILE, LID)),
    ("sold out", _replace(MORE_FILE, "stock: 3", "stock: 0")),
    ("collection title", _replace(MORE_FILE, "title: Cups", "title: Cups and bowls")),
    ("photo replaced, same size", _repaint("content/images/cup.jpg", (200, 40, 40))),
    ("story", _replace("content/stories/harvest.md", "title: The harvest", "title: The early harvest")),
    ("story date (the sitemap shows it)", _replace("content/stories/harvest.md", "2026-04-02", "2026-04-03")),
    (
        "story lists another product",
        _replace("content/stories/harvest.md", "products: [green]", "products: [green, cup]"),
    ),
    ("store hours", _replace("content/stores.yml", "hours: [Mon-Sun 10:00-18:00]", "hours: [Mon-Sat 9:00-18:00]")),
    ("site.yml", _replace("site.yml", "tagline: Good tea, small shop.", "tagline: Good tea.")),
    ("product removed", _replace(MORE_FILE, LID, "")),
]


def _preview(make_site: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path, Reuse, BuildState | None]:
    """The test shop, and a preview's first build of it: its folder, its memory and its state."""
    site = make_site(FILES)
    out, reuse = tmp_path / "preview", Reuse()
    return site, out, reuse, build(site, out, workers=1, reuse=reuse).state


def test_each_rebuild_with_the_previews_memory_writes_what_a_full_build_writes(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site, out, reuse, state = _preview(make_site, tmp_path)
    changed: dict[str, set[str] | None] = {}
    for n, (name, step) in enumerate(STEPS):
        step(site)
        again = build(site, out, workers=1, previous=state, reuse=reuse)
        reuse.flush()
        state = again.state
        known = reuse.changed
        changed[name] = None if known is None else {p.id for p in again.site.products if id(p) in known}
        full = tmp_path / f"full-{n}"
        build(site, full, workers=1, cache_dir=tmp_path / "full-cache")  # (the preview's cache is its own)
        assert tree(out) == tree(full), name
    # the rebuilds that took over the work for every product but the changed ones (the others
    # changed the shop's shape, settings or photos: each product was checked by its key)
    assert changed == {
        "price": {"green"},
        "title of a kept file's product": {"cup"},
        "tags (related products change)": None,
        "new product": None,
        "sold out": None,
        "collection title": {"cup", "tray", "kettle", "bowl", "lid"},
        "photo replaced, same size": None,
        "story": set(),
        "story date (the sitemap shows it)": set(),
        "story lists another product": None,
        "store hours": None,
        "site.yml": None,
        "product removed": None,
    }


def test_kept_products_stay_the_same_objects_and_their_work_is_taken_over(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site(FILES)
    out, reuse = tmp_path / "preview", Reuse()
    first = build(site, out, workers=1, reuse=reuse)
    cup, black = (next(p for p in first.site.products if p.id == pid) for pid in ("cup", "black"))
    edit(site / "content/catalog/tea.yml", "price: 128", "price: 138")
    again = build(site, out, workers=1, previous=first.state, reuse=reuse)
    products = {p.id: p for p in again.site.products}
    assert products["cup"] is cup, "more.yml did not change: its products are the last build's objects"
    assert products["black"] is black, "tea.yml was parsed again, but this product of it is as it was"
    assert products["green"] is not next(p for p in first.site.products if p.id == "green")
    assert products["cup"].share is cup.share and cup.share is not None
    assert products["green"].price.minor == 13800
    assert again.rendered < again.pages


def test_a_failed_rebuild_keeps_the_memory_usable(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site, out, reuse, state = _preview(make_site, tmp_path)
    edit(site / "content/catalog/more.yml", "price: 30", "price: thirty")
    with pytest.raises(ContentError):
        build(site, out, workers=1, previous=state, reuse=reuse)
    edit(site / "content/catalog/more.yml", "price: thirty", "price: 31")
    build(site, out, workers=1, previous=state, reuse=reuse)
    reuse.flush()
    full = tmp_path / "full"
    build(site, full, workers=1)
    assert tree(out) == tree(full)


def test_a_new_context_keeps_only_the_loads_copies() -> None:
    reuse = Reuse()
    item, other = object(), object()
    reuse.start()
    reuse.settle(1)
    reuse.table(LOAD).put(item, "copy")
    reuse.table("share").put(other, "plan", key=("photo",))
    reuse.finish()
    reuse.start()
    reuse.settle(1)
    assert reuse.table("share").get(other, ("photo",)) == "plan"
    assert reuse.table("share").get(other, ("another photo",)) is MISSING
    assert reuse.table(LOAD).get(item) == "copy"
    reuse.finish()
    reuse.start()
    reuse.settle(2)  # the shop's settings changed (or a sale window opened)
    assert reuse.table("share").get(other, ("photo",)) is MISSING
    assert reuse.table(LOAD).get(item) == "copy"


def test_entries_a_build_did_not_use_are_dropped() -> None:
    reuse = Reuse()
    a, b = object(), object()
    reuse.start()
    table = reuse.table("t")
    table.put(a, 1)
    table.put(b, 2)
    reuse.finish()
    reuse.start()
    assert reuse.table("t").get(a) == 1  # b is not asked for
    reuse.finish()
    reuse.start()
    assert reuse.table("t").get(a) == 1
    assert reuse.table("t").get(b) is MISSING


def test_rebuilds_between_two_idle_moments_leave_one_manifest_that_names_the_last_builds_files(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site, out, reuse, state = _preview(make_site, tmp_path)
    for old, new in (("price: 30", "price: 31"), ("title: Clay cup", "title: Clay mug")):
        edit(site / MORE_FILE, old, new)
        state = build(site, out, workers=1, previous=state, reuse=reuse).state
    assert sorted(reuse.deferred) == ["collector", "manifest", "prepare", "tidy"]  # one of each
    reuse.flush()
    assert read_manifest(out) == reuse.manifest


def test_a_named_list_of_jobs_looks_up_only_the_jobs_the_last_one_did_not_have(tmp_path: Path) -> None:
    reuse = Reuse()
    a, b = (Job((f"qr/{n}.svg", f"qr/{n}.png"), QrSpec(f"https://shop.example/{n}/")) for n in "ab")
    reuse.start()
    with ImageMaker(ImageCache(tmp_path), workers=1) as maker:
        maker.reuse = reuse
        first = maker.make([a, b], "qr")
        assert set(first) == {"qr/a.svg", "qr/a.png", "qr/b.svg", "qr/b.png"} and maker.drawn == 4
    reuse.finish()
    reuse.start()
    c = Job(("qr/b.svg", "qr/b.png"), QrSpec("https://shop.example/b/?v=2"))  # b's pictures, drawn again
    with ImageMaker(ImageCache(tmp_path), workers=1) as maker:
        maker.reuse = reuse
        files = maker.make([c], "qr")  # a is gone: its files are no longer this list's
        assert set(files) == {"qr/b.svg", "qr/b.png"} and files["qr/b.png"] != first["qr/b.png"]
        assert maker.drawn == 2 and maker.keys == {c.key}
        assert maker.make([a, c], "other") and maker.drawn == 2, "another name: a is found in the cache"


class _Item:
    def __init__(self, id: str) -> None:
        self.id = id


def test_a_rebuild_that_knows_what_changed_makes_again_only_that_and_keeps_every_other_entry() -> None:
    reuse, made = Reuse(), []
    a, b, c = _Item("a"), _Item("b"), _Item("c")

    def make(item: _Item) -> str:
        made.append(item.id)
        return reuse.table("t").put(item, f"{item.id}{len(made)}")  # type: ignore[no-any-return]

    reuse.start()
    reuse.note_load("shape", {}, set())  # a first build: every item is made
    assert reuse.changed is None
    assert reuse.each("ids", [a, b, c], make) == {"a": "a1", "b": "b2", "c": "c3"}
    reuse.finish()
    reuse.start()
    b2 = _Item("b")  # b, parsed again
    reuse.note_load("shape", {id(b2): b2}, {id(b)})
    assert reuse.each("ids", [a, b2, c], make) == {"a": "a1", "b": "b4", "c": "c3"}  # in the shop's order
    assert made == ["a", "b", "c", "b"]
    reuse.finish()
    reuse.start()  # the entries of a and c were not asked for, but the build used them; b's went
    assert reuse.table("t").get(a) == "a1" and reuse.table("t").get(c) == "c3"
    assert reuse.table("t").get(b) is MISSING and reuse.table("t").get(b2) == "b4"
    reuse.note_load("another shape", {}, set())  # the shop's shape changed: each item is made again
    assert reuse.changed is None
    assert reuse.each("ids", [a, b2, c], make) == {"a": "a5", "b": "b6", "c": "c7"}


def test_the_drawing_worker_draws_a_rebuilds_pictures_while_it_renders(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site(FILES)
    out, reuse = tmp_path / "preview", Reuse()
    try:
        state = build(site, out, workers=2, reuse=reuse).state
        for old, new in (("title: Clay cup", "title: Clay mug"), ("price: 30", "price: 32")):
            edit(site / MORE_FILE, old, new)
            again = build(site, out, workers=2, previous=state, reuse=reuse)
            state = again.state
            assert reuse.drawing is not None and again.images_drawn == 3  # the cup's card and posters
        reuse.flush()
        build(site, tmp_path / "full", workers=1)
        assert tree(out) == tree(tmp_path / "full")
    finally:
        reuse.close()
    assert reuse.drawing is None


def test_what_the_drawing_worker_did_not_draw_is_drawn_by_the_maker(tmp_path: Path) -> None:
    job = Job(("qr/a.svg", "qr/a.png"), QrSpec("https://shop.example/a/"))
    worker = DrawingWorker()
    try:
        assert worker.submit(tmp_path, [(job.key, job.spec)])() is True
        assert ImageCache(tmp_path).get(job.key, 2) is not None
        assert worker.submit(tmp_path, [("k", "not a drawing")])() is False  # type: ignore[list-item]
    finally:
        worker.close()
    assert worker.submit(tmp_path, [(job.key, job.spec)])() is False  # stopped: the maker draws


def test_a_large_file_a_rebuild_replaces_is_removed_when_the_preview_is_idle(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    old, new = b"o" * (TRASH_FROM + 1), b"n" * (TRASH_FROM + 2)
    (out / "data" / "catalog.json").write_bytes(old)
    staging = Staging(out, manifest={"data/catalog.json": None})
    staging.add("data/catalog.json", new, differs=True)
    staging.commit(manifest=False, trash=True)
    assert (out / "data" / "catalog.json").read_bytes() == new
    assert [p.read_bytes() for p in staging.trash] == [old]  # still linked: its blocks are not freed yet
    staging.tidy()
    assert (
        not (out / TRASH).exists()
        and not (out / STAGING).exists()
        and (out / "data" / "catalog.json").read_bytes() == new
    )


def test_an_edit_that_leaves_the_catalogs_links_as_they_were_keeps_them(
    make_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site, out, reuse, state = _preview(make_site, tmp_path)
    relinked: list[int] = []
    resolve = load._resolve_catalog

    def counted(*args: Any) -> Any:
        relinked.append(len(args[0]))
        return resolve(*args)

    monkeypatch.setattr(load, "_resolve_catalog", counted)
    steps = [
        ("title: Clay cup", "title: Clay mug"),
        ("title: Cups", "title: Cups and mugs"),
        ("tags: [green]", "tags: [black]"),
    ]
    resolved: dict[str, bool] = {}
    for n, (old, new) in enumerate(steps):
        edit(site / MORE_FILE, old, new)
        before = len(relinked)
        state = build(site, out, workers=1, previous=state, reuse=reuse).state
        reuse.flush()
        resolved[old] = len(relinked) > before
        build(site, tmp_path / f"full-{n}", workers=1, cache_dir=tmp_path / "full-cache")
        assert tree(out) == tree(tmp_path / f"full-{n}"), old
    # a product's or a collection's title keeps the links; tags make them again
    assert resolved == {"title: Clay cup": False, "title: Cups": False, "tags: [green]": True}
