"""The data files are joined from each product's parts, kept from one build to the next: the
bytes are those of rendering every part, what they state is what reading the files back states,
and a feed that states another price still stops the build."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from edits import edit

import generator.datafiles as datafiles
from generator.build import build
from generator.datafiles import render_data_files
from generator.depends import fingerprints
from generator.errors import ContentError
from generator.feeds import G_NS
from generator.load import load_site
from generator.model import Site
from generator.render import SiteContext
from generator.sitemap import SITEMAP_NS
from generator.truth import read_data_offers
from generator.xmldoc import xml_bytes


def _shop(site: Path) -> tuple[Site, dict[str, int]]:
    shop, _ = load_site(site, None)
    return shop, fingerprints(SiteContext(shop))


def test_an_edit_renders_one_products_parts_and_joins_what_rendering_all_writes(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site()
    shop, prints = _shop(site)
    folder = tmp_path / "cache"
    first = render_data_files(shop, prints, folder)
    assert first.rendered == len(shop.products) >= 2
    edit(site / "content/catalog/tea.yml", "title: Green tea", "title: Green & <green> tea, 绿茶")
    shop, prints = _shop(site)
    again = render_data_files(shop, prints, folder, first.offers)
    assert again.rendered == 1 and again.changed == {"green"}
    whole = render_data_files(shop, {}, None)  # nothing kept: every part rendered
    assert again.files == whole.files
    assert again.offers == read_data_offers(shop, whole.files), "the parts state what the files state"
    assert {"sitemap.xml", "robots.txt"} <= again.same and "catalog.json" not in again.same
    assert "Green &amp; &lt;green&gt; tea, 绿茶" in again.files["products.xml"].decode()


def test_the_feeds_and_the_sitemap_are_laid_out_as_elementtree_writes_them(make_site: Callable[..., Path]) -> None:
    site = make_site()
    edit(site / "content/catalog/tea.yml", "title: Green tea", "title: Green & <green> tea, 绿茶")
    shop, _ = _shop(site)
    files = render_data_files(shop, {}, None).files
    ET.register_namespace("g", G_NS)
    ET.register_namespace("", SITEMAP_NS)
    for name in ("products.xml", "sitemap.xml"):
        assert xml_bytes(ET.fromstring(files[name])) == files[name], name


def test_kept_parts_are_plain_json_for_the_next_process_and_a_bad_file_means_rendering_them(
    make_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datafiles, "SAVE_AFTER", 0)
    shop, prints = _shop(make_site())
    folder = tmp_path / "cache"
    first = render_data_files(shop, prints, folder)
    saved = folder / datafiles.FILE
    good = json.loads(saved.read_bytes())
    datafiles._KEPT.clear()  # a new process
    again = render_data_files(shop, prints, folder)
    assert again.rendered == 0 and again.files == first.files and again.offers == first.offers
    wrong_type = json.loads(json.dumps(good))
    wrong_type["parts"][0][7] = {shop.products[0].id: {"": ["12800", "CNY", True]}}
    for bad in (b"", b'{"version": 1, "parts": [', b"[]", json.dumps({**good, "code": "other"}).encode(),
                json.dumps(wrong_type).encode()):  # fmt: skip
        saved.write_bytes(bad)
        datafiles._KEPT.clear()
        fresh = render_data_files(shop, prints, folder)
        assert fresh.rendered == len(shop.products) and fresh.files == first.files


def test_a_feed_that_states_another_price_fails_a_rebuild_and_nothing_is_written(
    make_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site()
    out, cache = tmp_path / "out", tmp_path / "cache"  # its own cache: the parts below are wrong
    state = build(site, out, track=True, workers=1, cache_dir=cache).state
    real = datafiles.rss_items
    monkeypatch.setattr(datafiles, "rss_items", lambda items: real(items).replace("128.00 CNY", "12.80 CNY"))
    before = (out / "products.xml").read_bytes()
    edit(site / "content/catalog/tea.yml", "title: Green tea", "title: Green tea, spring")
    with pytest.raises(ContentError) as raised:
        build(site, out, track=True, workers=1, cache_dir=cache, previous=state)
    messages = [str(p) for p in raised.value.problems]
    assert any("product 'green'" in m and "products.xml and catalog.json disagree" in m for m in messages), messages
    assert (out / "products.xml").read_bytes() == before
