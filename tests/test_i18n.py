"""The shop in the buyer's language: catalogs, the zh-CN demo, <html lang>, dates, and the
`micromall i18n` commands a theme author uses."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import MINI_SITE, REPO
from markupsafe import Markup

from generator.build import build
from generator.i18n import extract_messages, load_translations, read_catalog, untranslated
from generator.load import load_site
from generator.model import Site
from generator.themes import load_theme

THEME = REPO / "themes/default"
CATALOGS = {"en": THEME / "locale/en/LC_MESSAGES/messages.po", "zh-CN": THEME / "locale/zh_CN/LC_MESSAGES/messages.po"}
#: Both bundled themes, each with its catalogs (editorial's hold only the messages it adds).
THEMES = ("default", "editorial")
LANGUAGE_DIRS = {"en": "en", "zh-CN": "zh_CN"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
#: Latin words that are right in a Chinese page: names of products and of the tools buyers use.
ALLOWED_WORDS = {"WhatsApp", "JavaScript", "micromall", "US"}  # "US$", as Chinese writes the US dollar


# ---- the catalogs -------------------------------------------------------------------------


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_catalog_has_every_message_and_nothing_stale(theme: str, language: str) -> None:
    folder = REPO / "themes" / theme
    wanted = {m.id for m in extract_messages(folder) if m.id}
    catalog = read_catalog(folder / "locale" / LANGUAGE_DIRS[language] / "LC_MESSAGES/messages.po")
    have = {m.id for m in catalog if m.id}
    assert sorted(map(str, wanted - have)) == [], f"missing: run `micromall i18n update themes/{theme}`"
    assert sorted(map(str, have - wanted)) == [], "no longer used by any template"
    assert untranslated(catalog) == []
    assert len(wanted) > (150 if theme == "default" else 5)  # templates, share words and page titles


def test_a_child_theme_catalog_holds_only_what_it_adds() -> None:
    """editorial extends default: messages default already has are looked up there."""
    own = {m.id for m in extract_messages(REPO / "themes/editorial") if m.id}
    assert "From the journal" in own and "Add to cart" not in own and "Scan to buy" not in own


def test_translations_keep_their_placeholders() -> None:
    """A translation that drops or renames %(title)s would fail at render time in zh-CN only."""
    for language, path in CATALOGS.items():
        for message in read_catalog(path):
            if not message.id:
                continue
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            strings = [message.string] if isinstance(message.string, str) else list(message.string)
            expected = set(PLACEHOLDER.findall(ids[-1])) - {"num"}
            for text in strings:
                assert set(PLACEHOLDER.findall(text)) - {"num"} == expected, (language, message.id, text)


def test_chinese_catalog_is_chinese() -> None:
    catalog = read_catalog(CATALOGS["zh-CN"])
    strings = {m.id: m.string for m in catalog if m.id}
    assert strings["Add to cart"] == "加入购物车"
    assert strings["Checkout"] == "结算"
    assert strings["Delivery"] == "配送方式"
    assert strings["Pick up in store"] == "到店自提"
    assert strings["Scan to buy"] == "扫码购买"
    for msgid, text in strings.items():
        texts = [text] if isinstance(text, str) else list(text)
        for t in texts:
            words = set(re.findall(r"[A-Za-z]{2,}", PLACEHOLDER.sub("", t))) - ALLOWED_WORDS - {"WeChat"}
            assert not words - {"e", "g", "name", "example", "com"}, (msgid, t)


def test_plural_forms_follow_the_language(tmp_path: Path) -> None:
    theme = load_theme("default", tmp_path)
    zh = load_translations(theme, tmp_path, "zh-CN")
    en = load_translations(theme, tmp_path, "en")
    assert zh.ungettext("Only %(count)s left", "Only %(count)s left", 3) == "库存仅剩 %(count)s 件"
    assert en.ungettext("%(count)s product", "%(count)s products", 1) == "%(count)s product"
    assert en.ungettext("%(count)s product", "%(count)s products", 3) == "%(count)s products"


# ---- a zh-CN shop has no English interface text -------------------------------------------


class _Text(HTMLParser):
    """The text a buyer can see or hear: text nodes, and the attributes that are read out or
    shown; the theme's `.prose` blocks (the shop's own Markdown) are left out as content."""

    SHOWN_ATTRS: ClassVar[set[str]] = {"alt", "title", "aria-label", "placeholder", "data-share-text"}
    META: ClassVar[set[str]] = {"description", "og:title", "og:description", "og:image:alt"}
    VOID: ClassVar[set[str]] = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.scripts: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self._script: str | None = None

    @property
    def _skipping(self) -> bool:
        return any(skip for _, skip in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            self._script = a.get("id", "")
        if tag in self.VOID:
            if not self._skipping:
                self._attrs(tag, a)
            return
        prose = "prose" in a.get("class", "").split()
        self._stack.append((tag, prose or tag in ("script", "style")))
        if not self._skipping:
            self._attrs(tag, a)

    def _attrs(self, tag: str, a: dict[str, str]) -> None:
        for name, value in a.items():
            shown = name in self.SHOWN_ATTRS or name.startswith(("data-text-", "data-copied-", "data-copy-"))
            if shown or ("data-search-kinds" in a and name.startswith("data-")):
                self.chunks.append(value)
        if tag == "meta" and (a.get("name") in self.META or a.get("property") in self.META):
            self.chunks.append(a.get("content", ""))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            open_tag, _ = self._stack.pop()
            if open_tag == tag:
                break
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script in ("micromall-config", "micromall-text"):
            self.scripts.append(data)
        elif not self._skipping:
            self.chunks.append(data)


def _strings(value: object) -> Iterator[str]:
    """Every string of the shop's content (titles, summaries, labels, names, addresses)."""
    seen: set[int] = set()
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, Markup):
            parser = _Text()
            parser.feed(str(item))
            yield from parser.chunks
        elif isinstance(item, str):
            yield item
        elif id(item) in seen:
            continue
        elif is_dataclass(item) and not isinstance(item, type):
            seen.add(id(item))
            todo += [getattr(item, f.name) for f in fields(item)]
        elif isinstance(item, (list, tuple)):
            seen.add(id(item))
            todo += list(item)
        elif isinstance(item, dict):
            seen.add(id(item))
            todo += list(item.keys()) + list(item.values())


def _json_texts(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _json_texts(v)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def english_left(site: Site, out: Path) -> dict[str, set[str]]:
    """Latin words left in the pages' interface text once the shop's content is taken out."""
    content = sorted({_norm(s) for s in _strings(site) if len(_norm(s)) >= 2}, key=len, reverse=True)
    # whole content strings only: "ent" (a content string) must not eat a piece of "content"
    content_re = re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, content)) + r")(?![A-Za-z0-9])")
    left: dict[str, set[str]] = {}
    for page in sorted(out.rglob("*.html")):
        parser = _Text()
        parser.feed(page.read_text("utf-8"))
        chunks = list(parser.chunks)
        for blob in parser.scripts:  # the scripts' interface text (base.html, partials/cart_text.html)
            data = json.loads(blob)
            chunks += list(_json_texts(data.get("t", {})))
        for chunk in chunks:
            text = re.sub(r"https?://\S+|\S+@\S+|\{\w+\}", " ", _norm(chunk))
            text = content_re.sub(" ", text)
            words = set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED_WORDS
            if words:
                left.setdefault(page.relative_to(out).as_posix(), set()).update(words)
    return left


def build_zh_demo(root: Path, theme: str) -> tuple[Site, Path]:
    """The demo shop built with `language: zh-CN` and `theme` (its content stays English)."""
    site_dir = root / "site"
    site_dir.mkdir()
    shutil.copytree(REPO / "content", site_dir / "content")
    site_yml = (REPO / "site.yml").read_text("utf-8")
    assert "\nlanguage: en\n" in site_yml and "\ntheme: default\n" in site_yml
    site_yml = site_yml.replace("\nlanguage: en\n", "\nlanguage: zh-CN\n").replace(
        "\ntheme: default\n", f"\ntheme: {theme}\n"
    )
    (site_dir / "site.yml").write_text(site_yml, "utf-8")
    result = build(site_dir, root / "out")
    return result.site, root / "out"


@pytest.fixture(scope="module")
def zh_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, Path]:
    return build_zh_demo(tmp_path_factory.mktemp("zh"), "default")


def test_zh_cn_demo_has_no_english_interface_text(zh_demo: tuple[Site, Path]) -> None:
    site, out = zh_demo
    assert english_left(site, out) == {}


def test_zh_cn_demo_in_the_editorial_theme_has_no_english_interface_text(tmp_path: Path) -> None:
    site, out = build_zh_demo(tmp_path, "editorial")
    assert english_left(site, out) == {}
    assert ">品牌手记<" in (out / "index.html").read_text("utf-8")  # editorial's own catalog


def test_the_english_check_finds_english_interface_text(built_demo: Path) -> None:
    """The same check on the English demo: it must find the interface words, or it proves nothing."""
    site, _ = load_site(REPO)
    left = english_left(site, built_demo)
    assert {"Add", "cart"} <= left["products/biluochun/index.html"]
    assert {"Checkout", "Delivery", "Name"} <= left["checkout/index.html"]
    assert len(left) >= 30  # every page has some


def test_zh_cn_pages_say_their_language_and_write_dates_in_chinese(zh_demo: tuple[Site, Path]) -> None:
    site, out = zh_demo
    story = site.stories[0]
    html = (out / story.url / "index.html").read_text("utf-8")
    assert html.startswith('<!doctype html>\n<html lang="zh-CN">')
    when = f"{story.date.year}年{story.date.month}月{story.date.day}日"
    assert f'<time datetime="{story.date.isoformat()}">{when}</time>' in html
    index = (out / "index.html").read_text("utf-8")
    assert "加入购物车" not in index and "加购" in index  # card buttons
    product = (out / "products/biluochun/index.html").read_text("utf-8")
    assert ">加入购物车<" in product and "¥118.00" in product and "CN¥" not in product
    assert "<title>全部商品 · Cloud Terrace Tea</title>" in (out / "products/index.html").read_text("utf-8")
    collection = (out / site.collections[0].url / "index.html").read_text("utf-8")
    items = [json.loads(m) for m in re.findall(r'<script type="application/ld\+json">(.*?)</script>', collection)]
    trail = next(i for i in items if i["@type"] == "BreadcrumbList")["itemListElement"]
    assert [t["name"] for t in trail][1] == "分类"  # the structured data's breadcrumb too
    config = json.loads(re.search(r'id="micromall-config">(.*?)</script>', index, re.S).group(1))  # type: ignore[union-attr]
    assert config["language"] == "zh-CN" and config["digits"] == 2 and config["t"]["added"] == "已加入购物车"


def test_english_pages_write_dates_in_english(built_demo: Path) -> None:
    site, _ = load_site(REPO)
    story = site.stories[0]
    html = (built_demo / story.url / "index.html").read_text("utf-8")
    assert html.startswith('<!doctype html>\n<html lang="en">')
    assert f">{story.date.strftime('%B')} {story.date.day}, {story.date.year}</time>" in html


# ---- languages without a catalog, and a site's own wording --------------------------------


def test_a_language_without_a_catalog_keeps_english_words_and_local_money(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    site_yml = MINI_SITE["site.yml"]
    assert site_yml is not None
    site = make_site({"site.yml": site_yml.replace("language: en", "language: pt-PT").replace("CNY", "EUR")})
    build(site, tmp_path / "out")
    html = (tmp_path / "out/products/green/index.html").read_text("utf-8")
    assert '<html lang="pt-PT">' in html
    assert "128,00\u00a0€" in html and "Add to cart" in html


def test_unknown_language_is_an_error_with_a_hint(make_site: Callable[..., Path], cli: Callable[..., object]) -> None:
    site_yml = MINI_SITE["site.yml"]
    assert site_yml is not None
    site = make_site({"site.yml": site_yml.replace("language: en", "language: zh_CN")})
    result = cli("check", str(site))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "site.yml:4:11: language: 'zh_CN' is not a language tag micromall knows (did you mean 'zh-CN'?)" in (
        result.output  # type: ignore[attr-defined]
    )


def test_a_site_can_reword_one_message(make_site: Callable[..., Path], tmp_path: Path) -> None:
    """site/locale/<lang>/LC_MESSAGES/messages.po comes first; the rest stays the theme's."""
    site_yml = MINI_SITE["site.yml"]
    assert site_yml is not None
    po = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\nmsgid "Add to cart"\nmsgstr "放入茶篮"\n'
    site = make_site({"site.yml": site_yml.replace("language: en", "language: zh-CN"),
                      "locale/zh_CN/LC_MESSAGES/messages.po": po})  # fmt: skip
    build(site, tmp_path / "out")
    html = (tmp_path / "out/products/green/index.html").read_text("utf-8")
    assert ">放入茶篮<" in html and ">加入购物车<" not in html
    assert "分享" in html  # other messages from the theme's catalog


# ---- micromall i18n -----------------------------------------------------------------------


def test_i18n_commands_start_update_and_check_a_catalog(tmp_path: Path, cli: Callable[..., object]) -> None:
    theme = tmp_path / "my-theme"
    (theme / "templates").mkdir(parents=True)
    (theme / "templates/base.html").write_text('<p>{{ _("Hello") }}</p>{% trans n=3 %}{{ n }} cups{% endtrans %}\n')
    result = cli("i18n", "init", "pt-PT", str(theme))
    po = theme / "locale/pt_PT/LC_MESSAGES/messages.po"
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    catalog = read_catalog(po)
    ids = {m.id for m in catalog if m.id}
    assert {"Hello", "%(n)s cups", "Scan to buy", "All products"} <= ids  # the templates and micromall's own
    assert "Plural-Forms: nplurals=2" in po.read_text("utf-8")

    check = cli("i18n", "check", str(theme))
    assert check.exit_code == 1 and "pt_PT/LC_MESSAGES/messages.po: untranslated: Hello" in check.output  # type: ignore[attr-defined]

    text = po.read_text("utf-8").replace('msgid "Hello"\nmsgstr ""', 'msgid "Hello"\nmsgstr "Olá"')
    po.write_text(text, "utf-8")
    (theme / "templates/base.html").write_text('<p>{{ _("Hello") }}</p><p>{{ _("Goodbye") }}</p>\n')
    update = cli("i18n", "update", str(theme))
    assert f"{po}: 1 new, 1 dropped" in update.output  # type: ignore[attr-defined]
    strings = {m.id: m.string for m in read_catalog(po) if m.id}
    assert strings["Hello"] == "Olá" and strings["Goodbye"] == "" and "%(n)s cups" not in strings

    assert cli("i18n", "init", "pt-PT", str(theme)).exit_code == 2  # type: ignore[attr-defined]

    # a template that does not parse would lose its messages: the command stops instead
    (theme / "templates/broken.html").write_text('{{ _("Bye") }}\n{% if %}\n')
    before = po.read_bytes()
    broken = cli("i18n", "update", str(theme))
    assert broken.exit_code == 1  # type: ignore[attr-defined]
    assert "templates/broken.html:2: " in broken.output and "no catalog was changed" in broken.output  # type: ignore[attr-defined]
    assert po.read_bytes() == before
    (theme / "templates/broken.html").unlink()
    assert cli("i18n", "check", str(THEME)).exit_code == 0  # type: ignore[attr-defined]


def test_babel_cfg_finds_the_same_messages_as_micromall_i18n() -> None:
    """babel.cfg (for pybabel and translation tools) describes the same extraction."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (REPO / "babel.cfg").open() as fp:
        method_map, options_map = parse_mapping_cfg(fp)
    keywords = {**DEFAULT_KEYWORDS, "_": None, "plural": (1, 2)}
    found = {
        message
        for filename, _, message, _, _ in extract_from_dir(str(REPO), method_map, options_map, keywords=keywords)
        if filename.startswith(("themes/default/", "generator/"))
    }
    assert found == {m.id for m in extract_messages(THEME) if m.id}
