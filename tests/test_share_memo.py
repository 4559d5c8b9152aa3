"""Each product's share plan kept between builds (generator/sharememo.py): a plan made from it is
the plan made from scratch, a drawing it names that is gone from the cache is drawn again, and
a kept file that is not what the build wrote is ignored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import MINI_SITE
from edits import edit, tree

from generator.build import build, collect_static
from generator.cache import ImageCache
from generator.i18n import Text, load_translations
from generator.imagekeys import key_of
from generator.imaging import Job, Later
from generator.load import load_site
from generator.model import Site
from generator.qr import QrSpec
from generator.share import SharePlan, plan_share
from generator.sharememo import FOLDER
from generator.themes import load_theme

PROMOTIONS = """\
timezone: "+08:00"
promotions:
  - {title: Winter tea sale, starts: 2099-12-01, ends: 2099-12-07, products: [black], percent: 20}
"""
PROMOTERS = """\
kit_secret: a-test-secret-of-some-length
promoters:
  - code: anna
    name: Anna Becker
"""


@pytest.fixture
def shop(make_site: Callable[..., Path]) -> Path:
    """The mini shop with what a plan can hold: a sale window, a promoter's posters, a title
    with a character no font draws."""
    tea = MINI_SITE["content/catalog/tea.yml"]
    assert tea is not None
    return make_site({"content/promotions.yml": PROMOTIONS, "content/promoters.yml": PROMOTERS,
                      "content/catalog/tea.yml": tea.replace("title: Green tea", "title: Green tea 🍵")})  # fmt: skip


def _plan(site_dir: Path, cache: Path, basis: object = "the build's inputs") -> tuple[SharePlan, Site]:
    """The shop's share plan, with the plans kept in `cache` (and kept there for the next)."""
    site, _ = load_site(site_dir)
    theme = load_theme(site.config.theme, site_dir)
    text = Text(load_translations(theme, site_dir, site.config.language))
    static = collect_static(theme, site_dir)
    plan = plan_share(site, theme, static, site_dir, ImageCache(cache), text, kept=(cache / FOLDER, basis))
    assert plan.memo is not None
    plan.memo.save()
    return plan, site


def _shown(planned: tuple[SharePlan, Site]) -> dict[str, Any]:
    """Everything a plan gives the rest of the build, but the drawings' inputs (as reprs: the
    model's objects compare by identity)."""
    plan, site = planned
    shares = {p.id: {**vars(p.share), "qr_svg": Path(p.share.qr_svg.file).name} for p in site.products if p.share}  # type: ignore
    return {
        "jobs": [(job.outputs, job.key) for job in plan.image_jobs],
        "qr": [(job.outputs, job.key, job.spec) for job in plan.qr_jobs],
        "pages": repr(plan.page_images),
        "kits": repr(
            [
                [
                    (i.product.id, i.url, i.text, i.poster_square, i.poster_story, i.qr_png_url, i.qr_svg_url)
                    for i in kit.items
                ]
                for kit in plan.kits
            ]
        ),
        "warnings": plan.warnings,
        "shares": repr(shares),
    }


def _later(planned: tuple[SharePlan, Site]) -> list[Job]:
    return [job for job in planned[0].image_jobs if isinstance(job.spec, Later)]


def test_a_plan_made_from_the_kept_one_is_the_plan_made_from_scratch(shop: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fresh = _plan(shop, cache)
    assert not _later(fresh)
    kept = _plan(shop, cache)
    later = _later(kept)
    assert len(later) == 3 * len(kept[0].qr_jobs), "every product's card and two posters come from the kept plan"
    assert len(kept[0].kits[0].items) == len(kept[0].qr_jobs)
    assert _shown(kept) == _shown(fresh)
    assert any("no font can draw" in w.message and "product 'green'" in w.message for w in kept[0].warnings)
    # a kept drawing planned again is the very drawing its key names
    fresh_specs = {job.outputs: job.spec for job in fresh[0].image_jobs}
    for job in later:
        assert job.drawing == fresh_specs[job.outputs] and key_of(job.drawing) == job.key


def test_the_plans_are_kept_for_one_set_of_settings(shop: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _plan(shop, cache)
    assert _later(_plan(shop, cache))
    assert not _later(_plan(shop, cache, basis="other inputs")), "other inputs: planned again"
    edit(shop / "site.yml", "title: ", "title: The ")
    assert not _later(_plan(shop, cache)), "the shop's title is drawn on every picture"
    assert len(list((cache / FOLDER).glob("*.json"))) == 3


def test_an_edited_product_is_planned_again_and_the_others_are_kept(shop: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _plan(shop, cache)
    edit(shop / "content/catalog/tea.yml", "price: 128", "price: 118")
    plan = _plan(shop, cache)
    planned = {job.outputs[0] for job in plan[0].image_jobs if not isinstance(job.spec, (Later, QrSpec))}
    assert {o for o in planned if "green" in o} == {
        "share/products/green.jpg", "posters/green-square.jpg", "posters/green-story.jpg"}  # fmt: skip
    assert not any("black" in o for o in planned)
    assert _shown(plan) == _shown(_plan(shop, tmp_path / "scratch"))


def _entries(plans: dict[str, list[str]], entry: list[str]) -> bytes:
    return json.dumps({"version": 1, "plans": dict.fromkeys(plans, entry)}).encode()


@pytest.mark.parametrize(
    "written",
    [
        lambda plans: b"{not json",
        lambda plans: json.dumps([1, 2]).encode(),
        lambda plans: json.dumps({"version": 99, "plans": plans}).encode(),
        lambda plans: json.dumps({"version": 1, "plans": list(plans)}).encode(),
        lambda plans: _entries(plans, ["a"] * 7),
        lambda plans: _entries(plans, ["../" + "0" * 61] + ["0" * 64] * 3 + ["alt", "text", ""]),
        lambda plans: _entries(plans, ["0" * 64] * 4 + ["alt", "text", 3]),  # type: ignore[list-item]
    ],
    ids=[
        "not JSON",
        "a list",
        "another version",
        "plans in a list",
        "another shape",
        "a key that is a path",
        "a number",
    ],
)
def test_a_kept_file_that_is_not_what_a_build_wrote_is_ignored(
    shop: Path, tmp_path: Path, written: Callable[[dict[str, list[str]]], bytes]
) -> None:
    cache = tmp_path / "cache"
    fresh = _plan(shop, cache)
    (file,) = (cache / FOLDER).glob("*.json")
    file.write_bytes(written(json.loads(file.read_bytes())["plans"]))
    again = _plan(shop, cache)
    assert not _later(again)
    assert _shown(again) == _shown(fresh)


def test_a_kept_drawing_gone_from_the_cache_is_drawn_again(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "out"
    build(shop, out, cache_dir=cache, workers=1)
    card = (out / "share/products/green.jpg").read_bytes()
    planned_again: list[tuple[str, ...]] = []
    real_drawing = Job.drawing.fget
    assert real_drawing is not None

    def drawing(job: Job) -> Any:
        if isinstance(job.spec, Later):
            planned_again.append(job.outputs)
        return real_drawing(job)

    monkeypatch.setattr(Job, "drawing", property(drawing))
    again = build(shop, out, cache_dir=cache, workers=1)
    assert (again.images_drawn, planned_again) == (0, [])
    key = next(
        job.key for job in _plan(shop, tmp_path / "c")[0].image_jobs if "share/products/green.jpg" in job.outputs
    )
    for file in (cache / "images").glob(f"{key}.*"):
        file.unlink()
    (out / "share/products/green.jpg").unlink()
    third = build(shop, out, cache_dir=cache, workers=1)
    assert third.images_drawn == 1 and planned_again == [("share/products/green.jpg",)]
    assert (out / "share/products/green.jpg").read_bytes() == card
    scratch = tmp_path / "scratch"
    build(shop, scratch, cache_dir=tmp_path / "other-cache", workers=1)
    assert tree(out) == tree(scratch)


def test_the_kept_plans_are_those_of_the_products_of_the_last_build(shop: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _plan(shop, cache)
    (file,) = (cache / FOLDER).glob("*.json")
    kept = json.loads(file.read_bytes())["plans"]
    assert len(kept) == 2, "one plan per product (the unpublished one has no pictures)"
    before = file.stat().st_ino
    _plan(shop, cache)
    assert file.stat().st_ino == before, "nothing changed: not written again"
    edit(shop / "content/catalog/tea.yml", "price: 128", "price: 118")
    _plan(shop, cache)
    again = json.loads(file.read_bytes())["plans"]
    assert len(again) == 2 and len(again.keys() & kept.keys()) == 1, "the edited product's plan replaces its old one"
