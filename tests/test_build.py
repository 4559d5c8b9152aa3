"""Golden facts about a built fixture shop, and how the output folder is written."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import MINI_SITE
from linkcheck import broken_links

from generator.build import build
from generator.errors import ContentError


@pytest.fixture
def built(make_site: Callable[..., Path], tmp_path: Path) -> Path:
    site = make_site()
    out = tmp_path / "out"
    build(site, out)
    return out


def read(out: Path, rel: str) -> str:
    return (out / rel).read_text("utf-8")


def test_every_page_kind_is_written(built: Path) -> None:
    for rel in [
        "index.html",
        "products/index.html",
        "products/green/index.html",
        "products/black/index.html",
        "collections/index.html",
        "collections/tea/index.html",
        "stories/index.html",
        "stories/harvest/index.html",
        "about/index.html",
        "stores/index.html",
        "cart/index.html",
        "404.html",
        "catalog.json",
        "media/images/green.jpg",
        "static/css/shop.css",
    ]:
        assert (built / rel).is_file(), rel
    assert not (built / "products/hidden").exists(), "unpublished products are not built"


def test_prices_are_formatted_for_the_locale(built: Path) -> None:
    html = read(built, "products/green/index.html")
    assert "CN¥128.00" in html
    assert re.search(r"<s[^>]*>.*?CN¥158\.00.*?</s>", html, re.S), "the compare-at price is struck"
    black = read(built, "products/black/index.html")
    assert "CN¥19.90" in black and "CN¥35.00" in black


def test_sold_out_is_shown(built: Path) -> None:
    html = read(built, "products/black/index.html")
    assert re.search(r"sold out", html, re.I)
    assert re.search(r"<button[^>]*disabled[^>]*>|<button[^>]*data-add-to-cart[^>]*disabled", html)
    listing = read(built, "collections/tea/index.html")
    assert re.search(r"sold out", listing, re.I)


def test_story_embeds_a_live_product_card(built: Path) -> None:
    html = read(built, "stories/harvest/index.html")
    body = html[html.index("We picked early") : html.index("And then we rested")]
    assert 'href="/products/green/"' in body
    assert "CN¥128.00" in body


def test_every_page_has_title_description_and_canonical(built: Path) -> None:
    for page in built.rglob("*.html"):
        html = page.read_text("utf-8")
        assert re.search(r"<title>[^<]+</title>", html), page
        assert re.search(r'<meta name="description" content="[^"]+">', html), page
        assert re.search(r'<link rel="canonical" href="https://shop\.example\.com/[^"]*">', html), page


def test_internal_links_and_images_resolve(built: Path) -> None:
    assert broken_links(built, "https://shop.example.com/") == []


def test_a_shop_under_a_sub_path(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site_yml = MINI_SITE["site.yml"]
    assert site_yml is not None
    site = make_site({"site.yml": site_yml.replace("https://shop.example.com/", "https://example.github.io/tea")})
    out = tmp_path / "out"
    build(site, out)
    html = read(out, "products/green/index.html")
    assert 'href="/tea/products/' in html or 'href="/tea/collections/' in html
    assert 'href="https://example.github.io/tea/products/green/"' in html  # canonical
    assert broken_links(out, "https://example.github.io/tea/") == []


def test_catalog_json_is_the_machine_readable_truth(built: Path) -> None:
    data = json.loads(read(built, "catalog.json"))
    assert data["currency"] == "CNY" and data["minor_digits"] == 2
    assert data["catalog_hash"].startswith("sha256:")
    products = {p["id"]: p for p in data["products"]}
    assert set(products) == {"green", "black"}
    assert products["green"]["price"] == 12800 and products["green"]["compare_at_price"] == 15800
    assert products["green"]["stock"] is None
    black = products["black"]
    assert black["sold_out"] is True
    assert {v["id"]: v["price"] for v in black["variants"]} == {"small": 1990, "large": 3500}
    assert data["shipping"][0] == {
        "id": "standard",
        "label": "Standard",
        "price": 1000,
        "free_over": 9900,
        "pickup": False,
    }


def test_a_failed_build_leaves_the_previous_output_untouched(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site = make_site()
    out = tmp_path / "out"
    build(site, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (site / "content/catalog/tea.yml").write_text("products:\n  - id: green\n    price: -1\n", "utf-8")
    with pytest.raises(ContentError):
        build(site, out)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_a_template_error_names_the_template_and_line(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site = make_site({"templates/doc.html": "<p>\n{{ doc.titel }}\n</p>\n"})
    out = tmp_path / "out"
    with pytest.raises(ContentError) as err:
        build(site, out)
    (problem,) = err.value.problems
    assert str(problem).startswith("templates/doc.html:2: undefined:")
    assert "titel" in str(problem)
    assert not out.exists(), "nothing is written when a template fails"


def test_unchanged_files_are_not_rewritten(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site = make_site()
    out = tmp_path / "out"
    first = build(site, out)
    assert first.stats.written == first.files
    stamp = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    for p in stamp:
        os.utime(p, ns=(1, 1))  # make any rewrite visible
    second = build(site, out)
    assert second.stats.written == 0 and second.stats.unchanged == second.files
    assert all(p.stat().st_mtime_ns == 1 for p in stamp if p.name != ".micromall-manifest.json")
    # one price changes: only the pages that show it are rewritten
    tea = site / "content/catalog/tea.yml"
    tea.write_text(tea.read_text("utf-8").replace("price: 19.90", "price: 21.90"), "utf-8")
    third = build(site, out)
    assert 0 < third.stats.written < third.files


def test_stale_files_of_our_last_build_are_removed(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site = make_site()
    out = tmp_path / "out"
    build(site, out)
    (out / "keep-me.txt").write_text("the owner's own file", "utf-8")
    (site / "content/pages/about.md").unlink()
    result = build(site, out)
    assert not (out / "about").exists()
    assert (out / "keep-me.txt").exists(), "without --clean only our own stale files go"
    assert result.stats.removed == 1
    build(site, out, clean=True)
    assert not (out / "keep-me.txt").exists()


def test_no_temporary_files_are_left_behind(built: Path) -> None:
    assert [p for p in built.rglob("*.tmp")] == []


def test_output_folder_may_not_contain_the_site(make_site: Callable[..., Path], cli: Callable[..., Result]) -> None:
    site = make_site()
    result = cli("build", str(site), "--out", str(site.parent), "--clean")
    assert result.exit_code == 2
    assert "contains the site itself" in result.stderr
    assert (site / "site.yml").exists()


def test_zh_cn_shop_formats_money_and_renders_chinese(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site_yml = MINI_SITE["site.yml"]
    assert site_yml is not None
    site = make_site(
        {
            "site.yml": site_yml.replace("language: en", "language: zh-CN").replace("Mini Tea", "小茶铺"),
            "content/pages/about.md": "---\ntitle: 关于我们\n---\n我们是一家小茶铺。\n",
        }
    )
    out = tmp_path / "out"
    build(site, out)
    html = read(out, "products/green/index.html")
    assert '<html lang="zh-CN"' in html
    assert "¥128.00" in html and "CN¥" not in html
    assert "小茶铺" in html
    assert "我们是一家小茶铺。" in read(out, "about/index.html")


def test_markdown_cannot_inject_script(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site = make_site(
        {
            "content/pages/about.md": (
                '---\ntitle: "<script>alert(1)</script>"\n---\n'
                "<script>alert(2)</script>\n\n[x](javascript:alert(3)) <img src=x onerror=alert(4)>\n"
            )
        }
    )
    out = tmp_path / "out"
    build(site, out)
    html = read(out, "about/index.html")
    assert "<script>alert" not in html
    assert "javascript:alert" not in html.replace("[x](javascript:alert(3))", "")
    assert "<img src=x" not in html


def test_a_filter_misused_in_a_template_is_a_located_error(make_site: Callable[..., Path], tmp_path: Path) -> None:
    template = "{% extends 'default:doc.html' %}\n{% block content %}\n{{ none|money }}\n{% endblock %}\n"
    site = make_site({"templates/doc.html": template})
    with pytest.raises(ContentError) as err:
        build(site, tmp_path / "out")
    (problem,) = err.value.problems
    assert str(problem).startswith("templates/doc.html:3: AttributeError:")


def test_a_missing_static_file_or_template_is_an_error(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site = make_site({"templates/doc.html": "<link href=\"{{ static('css/nope.css') }}\">\n"})
    with pytest.raises(ContentError) as err:
        build(site, tmp_path / "out")
    assert "templates/doc.html:1: static file not found: css/nope.css" in str(err.value.problems[0])
    site = make_site({"templates/doc.html": "{% include 'partials/nope.html' %}\n"})
    with pytest.raises(ContentError) as err:
        build(site, tmp_path / "out")
    assert "template not found: partials/nope.html" in str(err.value.problems[0])


def test_clean_keeps_hidden_files_of_a_deploy_folder(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site = make_site()
    out = tmp_path / "out"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    (out / "old.html").write_text("stale")
    build(site, out, clean=True)
    assert (out / ".git" / "HEAD").exists()
    assert not (out / "old.html").exists()


@pytest.mark.parametrize("inside", ["content/out", "templates", "static/x", "themes"])
def test_output_inside_the_sources_is_refused(
    inside: str, make_site: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    site = make_site()
    result = cli("build", str(site), "--out", str(site / inside))
    assert result.exit_code == 2
    assert "choose another --out" in result.stderr
