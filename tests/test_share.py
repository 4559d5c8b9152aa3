"""Social selling: Open Graph tags, share cards, posters, QR codes that scan, fonts and the cache."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import MINI_SITE
from PIL import Image, ImageDraw

from generator import cards, fonts
from generator.build import build
from generator.cache import ImageCache
from generator.draw import ELLIPSIS, Fonts, TextStyle, atoms, wrap
from generator.errors import Severity

BASE = "https://example.com/"


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("property") or a.get("name")
        if tag == "meta" and name and (name.startswith(("og:", "twitter:", "product:", "article:"))):
            self.tags.append((name, a.get("content") or ""))


def social_tags(html: str) -> dict[str, str]:
    """The page's og:/twitter:/product: meta tags; each may appear only once."""
    parser = _Meta()
    parser.feed(html)
    names = [name for name, _ in parser.tags]
    assert len(names) == len(set(names)), f"duplicate tags: {sorted(names)}"
    return dict(parser.tags)


def output_file(out: Path, absolute_url: str) -> Path:
    assert absolute_url.startswith(BASE), absolute_url
    return out / absolute_url[len(BASE) :].split("?")[0]


def catalog(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "catalog.json").read_text("utf-8"))  # type: ignore[no-any-return]


# ---- Open Graph --------------------------------------------------------------------------


def test_a_product_page_has_open_graph_tags_with_absolute_urls(built_demo: Path) -> None:
    data = catalog(built_demo)
    digits = data["minor_digits"]
    on_sale = [p for p in data["products"] if p["compare_at_price"] is not None]
    for product in [data["products"][0], *on_sale]:
        tags = social_tags((built_demo / "products" / product["id"] / "index.html").read_text("utf-8"))
        assert tags["og:type"] == "product"
        assert tags["og:url"] == f"{BASE}products/{product['id']}/"
        assert tags["og:title"] == product["title"]
        assert tags["og:site_name"] == "Cloud Terrace Tea"
        assert tags["og:description"]
        assert Decimal(tags["product:price:amount"]) == Decimal(product["price"]).scaleb(-digits)
        assert tags["product:price:currency"] == data["currency"]
        assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
        assert product["title"] in tags["og:image:alt"]
        image = output_file(built_demo, tags["og:image"])
        assert image == built_demo / "share/products" / f"{product['id']}.jpg"
        with Image.open(image) as img:
            assert img.format == "JPEG" and img.size == (1200, 630)
        assert tags["twitter:card"] == "summary_large_image"


def test_every_page_has_one_set_of_social_tags_and_a_card(built_demo: Path) -> None:
    for page in sorted(built_demo.rglob("*.html")):
        rel = page.relative_to(built_demo).as_posix()
        tags = social_tags(page.read_text("utf-8"))  # also: no tag twice
        expected = "product" if rel.startswith("products/") and rel.count("/") == 2 else "website"
        if rel.startswith("stories/") and rel.count("/") == 2:
            expected = "article"
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", tags["article:published_time"])
        assert tags["og:type"] == expected, rel
        assert tags["og:url"].startswith(BASE)
        assert output_file(built_demo, tags["og:image"]).is_file(), rel
        assert tags["og:image"].startswith(BASE + "share/")
        assert tags["og:image:alt"]
    # pages with their own card; the others share the home page's
    index = social_tags((built_demo / "stores/index.html").read_text("utf-8"))["og:image"]
    assert "share/shop/stores.jpg" in index
    for rel, card in [("index.html", "share/shop/home.jpg"), ("cart/index.html", "share/shop/home.jpg")]:
        assert card in social_tags((built_demo / rel).read_text("utf-8"))["og:image"]


def test_product_and_story_templates_add_no_og_tags_of_their_own() -> None:
    from conftest import REPO

    for name in ("product.html", "story.html"):
        assert "og:" not in (REPO / "themes/default/templates" / name).read_text("utf-8")


# ---- the product page's share block -----------------------------------------------------


def test_the_share_block_works_without_javascript(built_demo: Path) -> None:
    html = (built_demo / "products/jasmine-pearls/index.html").read_text("utf-8")
    block = html[html.index('<section class="share"') : html.index("</section>", html.index('<section class="share"'))]
    assert re.search(r"<div[^>]*data-share-buttons[^>]*hidden", block), "the JS-only buttons start hidden"
    assert re.search(r"<details[^>]*>\s*<summary>Show QR code</summary>", block)
    for href in re.findall(r'<a href="([^"]+)" download=', block):
        assert (built_demo / href.lstrip("/").split("?")[0]).is_file(), href
    assert 'download="jasmine-pearls-square.jpg"' in block and 'download="jasmine-pearls-story.jpg"' in block
    qr = re.search(r'<img class="share__qr-code" src="([^"]+)"', block)
    assert qr is not None and (built_demo / qr.group(1).lstrip("/")).is_file()
    text = re.search(r'data-share-text="([^"]*)"', block, re.S)
    assert text is not None
    lines = text.group(1).split("\n")
    assert lines[0] == "Jasmine Dragon Pearls – CN¥69.90 (was CN¥79.90)"
    assert lines[-1] == BASE + "products/jasmine-pearls/"


def test_share_text_and_words_follow_the_shop_language(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site_yml = MINI_SITE["site.yml"]
    assert site_yml is not None
    site = make_site({"site.yml": site_yml.replace("language: en", "language: zh-CN")})
    result = build(site, tmp_path / "out", workers=1)
    green = next(p for p in result.site.products if p.id == "green")
    assert green.share is not None
    assert green.share.text.split("\n") == ["【Green tea】¥128.00（原价 ¥158.00）", "Fresh and sweet.",
                                            "https://shop.example.com/products/green/"]  # fmt: skip
    from generator.build import collect_static
    from generator.i18n import Text, load_translations
    from generator.share import plan_share
    from generator.themes import load_theme

    # the words drawn on the posters come from the theme's catalog for the shop's language
    theme = load_theme("default", site)
    for language, cta in (("zh-CN", "扫码购买"), ("en", "Scan to buy")):
        text = Text(load_translations(theme, site, language))
        plan = plan_share(result.site, theme, collect_static(theme, site), site, ImageCache(tmp_path / "c"), text)
        ctas = {getattr(job.spec, "cta", None) for job in plan.image_jobs if job.outputs[0].startswith("posters/green")}
        assert ctas == {cta}


# ---- QR codes ---------------------------------------------------------------------------


def rasterise_qr_svg(svg: str, scale: int = 8) -> Image.Image:
    """Draw the modules of one of our QR SVGs (a viewBox, a white square, one path of
    horizontal runs), so that a decoder can read it without an SVG library."""
    viewbox = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    path = re.search(r'<path stroke="#000" d="([^"]+)"', svg)
    assert viewbox and path, svg[:200]
    size = int(viewbox.group(1))
    img = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(img)
    x = y = 0.0
    for cmd, args in re.findall(r"([MmHhVv])([^MmHhVv]*)", path.group(1)):
        nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if cmd == "M":
            x, y = nums
        elif cmd == "m":
            x, y = x + nums[0], y + nums[1]
        elif cmd in "hH":
            end = x + nums[0] if cmd == "h" else nums[0]
            left, right = sorted((x, end))
            draw.rectangle((left * scale, (y - 0.5) * scale, right * scale - 1, (y + 0.5) * scale - 1), fill=0)
            x = end
        else:
            raise AssertionError(f"unexpected path command {cmd}")
    return img


def decode(img: Image.Image) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp", reason="needs zxing-cpp (pip install zxing-cpp) to decode QR codes")
    return [r.text for r in zxingcpp.read_barcodes(img)]


def test_every_qr_code_scans_to_its_product_url(built_demo: Path) -> None:
    products = catalog(built_demo)["products"]
    assert products
    for product in products:
        url = f"{BASE}products/{product['id']}/"
        png = built_demo / "qr" / f"{product['id']}.png"
        assert decode(Image.open(png)) == [url], png
        svg = (built_demo / "qr" / f"{product['id']}.svg").read_text("ascii")
        assert decode(rasterise_qr_svg(svg)) == [url], svg[:100]
        page = (built_demo / "products" / product["id"] / "index.html").read_text("utf-8")
        # the page shows the same code (as an image inside the closed "Show QR code", loaded when opened)
        assert re.search(rf'<img class="share__qr-code" src="/qr/{product["id"]}\.svg"[^>]* loading="lazy"', page)


def test_every_poster_scans_to_its_page(built_demo: Path) -> None:
    expected = {f"{p['id']}-{layout}.jpg": f"{BASE}products/{p['id']}/"
                for p in catalog(built_demo)["products"] for layout in ("square", "story")}  # fmt: skip
    expected["shop.jpg"] = BASE
    expected |= {f"stores/{s['id']}.jpg": f"{BASE}?store={s['id']}" for s in catalog(built_demo)["stores"]}
    found = {p.relative_to(built_demo / "posters").as_posix() for p in (built_demo / "posters").rglob("*.jpg")}
    assert found == set(expected)
    for rel, url in expected.items():
        assert decode(Image.open(built_demo / "posters" / rel)) == [url], rel


def test_every_qr_in_the_demo_scans_to_its_url_promoter_kits_included(built_demo: Path) -> None:
    """Every picture with a code in it, found by walking the output (only photos, theme files and
    the link-preview cards have none), decodes to exactly the URL it stands for: a promoter's
    posters and codes carry the product's URL with ?ref=CODE."""
    data = catalog(built_demo)
    products = [p["id"] for p in data["products"]]
    expected: dict[str, str] = {"posters/shop.jpg": BASE}
    expected |= {f"posters/stores/{s['id']}.jpg": f"{BASE}?store={s['id']}" for s in data["stores"]}
    for pid in products:
        url = f"{BASE}products/{pid}/"
        expected |= {f"posters/{pid}-square.jpg": url, f"posters/{pid}-story.jpg": url,
                     f"qr/{pid}.png": url, f"qr/{pid}.svg": url}  # fmt: skip
    kits = sorted((built_demo / "kit").iterdir())
    assert [k.name.rsplit("-", 1)[0] for k in kits] == data["promoters"] == ["anna", "xiaomei"]
    for kit in kits:
        code = kit.name.rsplit("-", 1)[0]
        for pid in products:
            url, folder = f"{BASE}products/{pid}/?ref={code}", f"kit/{kit.name}"
            expected |= {f"{folder}/posters/{pid}-square.jpg": url, f"{folder}/posters/{pid}-story.jpg": url,
                         f"{folder}/qr/{pid}.png": url, f"{folder}/qr/{pid}.svg": url}  # fmt: skip
    found = {
        p.relative_to(built_demo).as_posix()
        for p in built_demo.rglob("*")
        if p.suffix in (".jpg", ".png", ".svg")
        and p.relative_to(built_demo).parts[0] not in ("media", "static", "share")
    }
    assert found == set(expected)
    for rel, url in sorted(expected.items()):
        file = built_demo / rel
        img = rasterise_qr_svg(file.read_text("ascii")) if file.suffix == ".svg" else Image.open(file)
        assert decode(img) == [url], rel


# ---- sizes ------------------------------------------------------------------------------


def test_cards_and_posters_are_right_sized_jpegs_within_budget(built_demo: Path) -> None:
    data = catalog(built_demo)
    cards_dir = built_demo / "share"
    expected = {f"products/{p['id']}.jpg" for p in data["products"]} | {"shop/home.jpg", "shop/stores.jpg"}
    found = {p.relative_to(cards_dir).as_posix() for p in cards_dir.rglob("*.jpg")}
    assert expected <= found
    assert any(f.startswith("collections/") for f in found) and any(f.startswith("stories/") for f in found)
    for file in cards_dir.rglob("*.jpg"):
        with Image.open(file) as img:
            assert (img.format, img.size) == ("JPEG", (1200, 630)), file
        assert file.stat().st_size < 200_000, file
    for file in (built_demo / "posters").rglob("*.jpg"):
        with Image.open(file) as img:
            size = (1080, 1080) if file.name.endswith("-square.jpg") else (1080, 1920)
            assert (img.format, img.size) == ("JPEG", size), file
        assert file.stat().st_size < 400_000, file


# ---- text layout and fonts --------------------------------------------------------------


def test_wrap_cuts_a_long_title_with_an_ellipsis() -> None:
    def measure(text: str) -> float:
        return 10.0 * len(text)  # every character 10 px wide

    lines, cut = wrap("one two three four five six seven eight nine ten", 100, 2, measure)
    assert cut and len(lines) == 2
    assert lines[0] == "one two"
    assert lines[1].endswith(ELLIPSIS) and measure(lines[1]) <= 100
    assert wrap("short", 100, 2, measure) == (["short"], False)
    # a word longer than a line is broken between characters
    lines, cut = wrap("abcdefghijklmnopqrstuvwxyz", 100, 3, measure)
    assert lines == ["abcdefghij", "klmnopqrst", "uvwxyz"] and not cut
    # Chinese breaks between characters, never before closing punctuation
    lines, _ = wrap("西湖龙井明前特级，手工炒制，当天下午在热锅里压制。", 60, 5, measure)
    assert all(not line.startswith(("，", "。")) for line in lines), lines
    assert "".join(lines) == "西湖龙井明前特级，手工炒制，当天下午在热锅里压制。"
    assert atoms("Anji Bai Cha (White)") == ["Anji ", "Bai ", "Cha ", "(White)"]


def _fonts_for(*texts: str) -> tuple[Fonts, list[str]]:
    chain = fonts.default_chain()
    resolved = [chain.resolve(t) for t in texts]
    fallback: dict[str, int] = {}
    for r in resolved:
        fallback.update(r.fallback)
    return Fonts(chain.families, tuple(sorted(fallback.items()))), [r.text for r in resolved]


def test_the_card_layout_cuts_a_very_long_title_at_three_lines() -> None:
    title = ("Extraordinarily Rare Hand-Picked First-Flush Longjing from the Misty Terraces above Meijiawu, "
             "Pan-Fired the Same Afternoon in Small Batches")  # fmt: skip
    font_set, (text,) = _fonts_for(title)
    spot = cards.layout(cards.CardSpec(font_set, text, subtitle="A summary.", price="CN¥88.00", shop="Tea"))
    style, lines = spot.title
    assert 2 <= len(lines) <= 3
    assert lines[-1].endswith(ELLIPSIS)
    assert all(style.width(line) <= spot.width for line in lines)
    assert spot.subtitle is not None, "a short subtitle still has room"


needs_cjk = pytest.mark.skipif(
    not any(fonts.covers(f.regular, "龙") for f in fonts.fallback_families()),
    reason="needs a CJK font (apt-get install fonts-noto-cjk)",
)


@needs_cjk
def test_a_chinese_title_is_drawn_with_a_cjk_font(make_site: Callable[..., Path], tmp_path: Path) -> None:
    title = "西湖龙井 2026 明前特级"
    font_set, (text,) = _fonts_for(title)
    assert text == title, "no character is left out"
    style = TextStyle(font_set, 40)
    for part, font in style.runs(text):
        assert "CJK" in font.getname()[0], (part, font.getname())
    # built: no warning, and the card's title area has ink where the title goes
    tea = MINI_SITE["content/catalog/tea.yml"]
    assert tea is not None
    site = make_site({"content/catalog/tea.yml": tea.replace("title: Green tea", f"title: {title}")})
    result = build(site, tmp_path / "out", workers=1)
    assert result.warnings == []
    with Image.open(tmp_path / "out/share/products/green.jpg") as card:
        spot = cards.layout(cards.CardSpec(font_set, title))
        area = card.crop((spot.left, 160, cards.WIDTH - cards.PAD, 300)).convert("L")
        assert area.getextrema()[0] < 80, "dark title text is drawn"


def test_a_character_no_font_has_is_a_warning_naming_the_product(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    tea = MINI_SITE["content/catalog/tea.yml"]
    assert tea is not None
    site = make_site({"content/catalog/tea.yml": tea.replace("title: Green tea", "title: Green tea 🍵")})
    result = build(site, tmp_path / "out", workers=1)
    warnings = [w for w in result.warnings if "no font can draw" in w.message]
    assert len(warnings) == 1, result.warnings
    warning = warnings[0]
    assert warning.severity is Severity.WARNING
    assert warning.path == "content/catalog/tea.yml"
    assert "product 'green'" in warning.message and "🍵 (U+1F375)" in warning.message
    assert (tmp_path / "out/share/products/green.jpg").is_file(), "the card is drawn without it"
    share = next(p for p in result.site.products if p.id == "green").share
    assert share is not None and "🍵" in share.text, "the share text keeps it: phones have emoji fonts"


def test_coverage_from_fonttools_and_from_pillow_agree() -> None:
    for family in fonts.fallback_families():
        for ch in "Aé€–龙🍵שж":
            assert fonts.covers(family.regular, ch) == fonts._pillow_covers(family.regular, ch), (family.name, ch)


# ---- theme settings ---------------------------------------------------------------------

THEME = {
    "themes/brand/theme.yml": """\
        name: brand
        extends: default
        settings:
          accent: "#b3261e"
          background: "#14213d"
          fonts: [fonts/brand.ttf, Not An Installed Family]
        """,
    "themes/brand/templates/.keep": "",
}


def test_theme_colours_and_font_files_are_used(make_site: Callable[..., Path], tmp_path: Path) -> None:
    dejavu = next((f.regular for f in fonts.fallback_families() if f.name == "DejaVu Sans"), None)
    if dejavu is None:
        pytest.skip("needs DejaVu Sans as a font file to put in static/ (apt-get install fonts-dejavu-core)")
    site_yml = MINI_SITE["site.yml"]
    assert site_yml is not None
    site = make_site({**THEME, "site.yml": site_yml + "theme: brand\n"})
    (site / "themes/brand/static/fonts").mkdir(parents=True)
    (site / "themes/brand/static/fonts/brand.ttf").write_bytes(Path(dejavu.path).read_bytes())
    result = build(site, tmp_path / "out", workers=1)
    warnings = [str(w) for w in result.warnings]
    assert warnings == ["themes/brand/theme.yml: warning: settings.fonts[1]: no installed font family "
                        "'Not An Installed Family'; the share pictures use the next font"]  # fmt: skip
    with Image.open(tmp_path / "out/share/products/green.jpg") as card:
        rgb = card.convert("RGB")
        assert _close(rgb.getpixel((cards.WIDTH - 10, cards.HEIGHT // 2)), (0x14, 0x21, 0x3D)), "background"
        assert _close(rgb.getpixel((cards.PHOTO + 3, 10)), (0xB3, 0x26, 0x1E)), "the accent stripe"

    from generator.build import collect_static
    from generator.load import load_site
    from generator.share import plan_share
    from generator.themes import load_theme

    loaded, _ = load_site(site)
    theme = load_theme("brand", site)
    plan = plan_share(loaded, theme, collect_static(theme, site), site, ImageCache(tmp_path / "c"))
    card = plan.image_jobs[0].spec
    assert isinstance(card, cards.CardSpec)
    assert card.fonts.families[0].regular.path == str((site / "themes/brand/static/fonts/brand.ttf").resolve())


def _close(a: object, b: tuple[int, int, int], tolerance: int = 12) -> bool:
    assert isinstance(a, tuple)
    return all(abs(int(x) - y) <= tolerance for x, y in zip(a, b, strict=True))


def test_a_bad_theme_colour_is_a_warning_and_the_default_is_used(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site_yml = MINI_SITE["site.yml"]
    assert site_yml is not None
    theme = {"themes/brand/theme.yml": "extends: default\nsettings:\n  accent: green\n",
             "themes/brand/templates/.keep": ""}  # fmt: skip
    site = make_site({**theme, "site.yml": site_yml + "theme: brand\n"})
    result = build(site, tmp_path / "out", workers=1)
    expected = ("themes/brand/theme.yml: warning: settings.accent: 'green' is not a colour such as #2f6b4f; "
                "the share pictures use the default")  # fmt: skip
    assert [str(w) for w in result.warnings] == [expected]


# ---- the cache --------------------------------------------------------------------------


def _share_files(out: Path) -> dict[str, bytes]:
    """Every file the image cache makes: share pictures and the sizes of the content photos."""
    found = [p for folder in ("share", "posters", "qr") for p in (out / folder).rglob("*") if p.is_file()]
    found += [p for p in (out / "media").rglob("*.*w.*") if p.suffix in (".webp", ".jpg")]
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in found}


def test_a_warm_rebuild_draws_nothing_and_a_price_change_redraws_one_product(
    make_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MICROMALL_CACHE")  # the default: a cache folder beside the site
    site = make_site()
    out = tmp_path / "out"
    first = build(site, out)
    made = len(_share_files(out))
    assert first.images_drawn == made and first.images_cached == 0
    before = _share_files(out)
    cached = len(list((site / ".micromall-cache/images").iterdir()))  # photos with equal bytes share files

    again = build(site, out)
    assert (again.images_drawn, again.images_cached) == (0, made)
    assert again.stats.written == 0

    tea = site / "content/catalog/tea.yml"
    tea.write_text(tea.read_text("utf-8").replace("price: 128", "price: 118"), "utf-8")
    third = build(site, out)
    assert (third.images_drawn, third.images_cached) == (3, made - 3)
    after = _share_files(out)
    changed = {rel for rel in after if after[rel] != before.get(rel)}
    assert changed == {"share/products/green.jpg", "posters/green-square.jpg", "posters/green-story.jpg"}
    # the old pictures of that product are pruned from the cache; nothing else is
    cache_files = list((site / ".micromall-cache/images").iterdir())
    assert len(cache_files) == cached


def test_a_preview_on_any_port_draws_what_the_build_publishes(
    make_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preview serves the pages at its own address, but its pictures lead to the shop's
    published one: a preview on another port, and then the real build, draw nothing again."""
    monkeypatch.delenv("MICROMALL_CACHE")
    site = make_site()
    first = build(site, tmp_path / "a", base_url="http://127.0.0.1:8001/")
    assert first.images_drawn > 0
    other = build(site, tmp_path / "b", base_url="http://127.0.0.1:8002/")
    assert (other.images_drawn, other.images_cached) == (0, first.images_drawn)
    published = build(site, tmp_path / "c")
    assert published.images_drawn == 0
    assert _share_files(tmp_path / "a") == _share_files(tmp_path / "c")
    # the QR code leads to the published page; the preview's links stay its own
    product = published.site.products[0]
    code = tmp_path / "a" / "qr" / f"{product.id}.png"
    assert decode(Image.open(code)) == [published.site.config.base_url + product.url]
    page = (tmp_path / "a" / product.url.strip("/") / "index.html").read_text("utf-8")
    assert "http://127.0.0.1:8001/" in page


def test_the_cache_lives_outside_the_output_and_a_failed_build_keeps_it(
    make_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MICROMALL_CACHE")  # the default: a cache folder beside the site
    from generator.errors import ContentError

    site = make_site()
    out = tmp_path / "out"
    build(site, out, workers=1)
    cached = sorted(p.name for p in (site / ".micromall-cache/images").iterdir())
    assert not any(p.name.startswith(".micromall-cache") for p in out.iterdir())
    (site / "templates").mkdir()
    (site / "templates/product.html").write_text("{{ product.titel }}", "utf-8")
    with pytest.raises(ContentError):
        build(site, out, workers=1)
    assert sorted(p.name for p in (site / ".micromall-cache/images").iterdir()) == cached


def test_images_drawn_in_worker_processes_equal_those_drawn_in_process(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site = make_site()
    build(site, tmp_path / "a", workers=1, cache_dir=tmp_path / "c1")
    build(site, tmp_path / "b", workers=2, cache_dir=tmp_path / "c2")
    assert _share_files(tmp_path / "a") == _share_files(tmp_path / "b")


def test_the_qr_png_is_a_plain_black_and_white_code_with_a_quiet_zone(built_demo: Path) -> None:
    png = next((built_demo / "qr").glob("*.png"))
    with Image.open(io.BytesIO(png.read_bytes())) as img:
        gray = img.convert("L")
        assert [value for value, count in enumerate(gray.histogram()) if count] == [0, 255]
        assert gray.getpixel((39, 39)) == 255 and gray.getpixel((40, 40)) == 0, "4 modules of 10 px, then the code"


# ---- sale prices on posters ------------------------------------------------------------------

PROMOTIONS = """\
    timezone: "+08:00"
    promotions:
      - {title: Winter tea sale, starts: 2099-12-01, ends: 2099-12-07, products: [black], percent: 20}
      - {title: Over long ago, starts: 2020-01-01, ends: 2020-01-07, products: [green], percent: 50}
    """


def _planned_jobs(result: object, site: Path, tmp_path: Path, language: str) -> dict[str, Any]:
    """The shop's picture jobs by their first output, with the words of `language`."""
    from generator.build import collect_static
    from generator.i18n import Text, load_translations
    from generator.share import plan_share
    from generator.themes import load_theme

    theme = load_theme("default", site)
    text = Text(load_translations(theme, site, language))
    built = result.site  # type: ignore[attr-defined]
    plan = plan_share(built, theme, collect_static(theme, site), site, ImageCache(tmp_path / "c"), text)
    return {job.outputs[0]: job for job in plan.image_jobs}


@pytest.mark.parametrize(
    ("language", "black", "green"),
    [
        ("en", ("From CN¥15.92", "CN¥19.90", "Sale Dec 1\u2009–\u20097"), ("CN¥128.00", "CN¥158.00", "")),
        ("zh-CN", ("¥15.92 起", "¥19.90", "限时特价 12月1日至7日"), ("¥128.00", "¥158.00", "")),
    ],
)
def test_posters_show_the_sale_price_struck_regular_price_and_the_window_dates(
    language: str, black: tuple[str, str, str], green: tuple[str, str, str], make_site: Callable[..., Path],
    tmp_path: Path,
) -> None:  # fmt: skip
    site_yml = MINI_SITE["site.yml"]
    assert site_yml is not None
    site = make_site({"site.yml": site_yml.replace("language: en", f"language: {language}"),
                      "content/promotions.yml": PROMOTIONS})  # fmt: skip
    result = build(site, tmp_path / "out", workers=1)
    jobs = _planned_jobs(result, site, tmp_path, language)
    for layout in ("square", "story"):
        for product, (price, was, note) in (("black", black), ("green", green)):
            spec = jobs[f"posters/{product}-{layout}.jpg"].spec
            assert (spec.price, spec.compare_at, spec.sale_note) == (price, was, note), (product, layout)
    # the share card (a page's preview) shows the price of the day the shop was built
    assert jobs["share/products/black.jpg"].spec.compare_at == ""
    # the text to copy into a chat says what the posters say
    shared = next(p for p in result.site.products if p.id == "black").share
    assert shared is not None and shared.text.splitlines()[1] == black[2]
    assert black[0] in shared.text.splitlines()[0] and black[1] in shared.text.splitlines()[0]


def test_a_change_to_a_sale_window_redraws_only_that_product_s_posters(
    make_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MICROMALL_CACHE")
    site = make_site({"content/promotions.yml": PROMOTIONS})
    out = tmp_path / "out"
    build(site, out)
    before = _share_files(out)
    promotions = site / "content/promotions.yml"
    for change in (("percent: 20", "percent: 25"), ("ends: 2099-12-07", "ends: 2099-12-09")):
        promotions.write_text(promotions.read_text("utf-8").replace(*change), "utf-8")
        again = build(site, out)
        assert again.images_drawn == 2, change  # the price or the dates are part of the posters' key
        after = _share_files(out)
        assert {rel for rel in after if after[rel] != before.get(rel)} == {
            "posters/black-square.jpg", "posters/black-story.jpg"}  # fmt: skip
        before = after
