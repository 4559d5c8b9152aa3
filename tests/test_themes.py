"""The theme system: lookup order, child themes, settings, strict templates, themes from paths and
installed packages, `micromall theme new`, and docs/themes.md kept in step with the real context."""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import jinja2
import pytest
from click.testing import Result
from conftest import MINI_SITE, REPO

from generator.build import build
from generator.errors import ContentError
from generator.load import load_site
from generator.minify import minify
from generator.render import PageMeta, SiteContext, ThemeContext
from generator.themes import ThemeError, load_theme

DOCS = REPO / "docs" / "themes.md"


def site_yml(extra: str = "") -> str:
    return textwrap.dedent(MINI_SITE["site.yml"] or "") + extra


def problems_of(site: Path) -> list[str]:
    with pytest.raises(ContentError) as err:
        load_site(site)
    return [str(p) for p in err.value.problems]


# ---- docs/themes.md and the real template context -------------------------------------------


def documented_variables(text: str) -> dict[str, set[str]]:
    """Template name -> the variables its table under '## Variables by template' lists."""
    section = text.split("\n## Variables by template\n", 1)[1].split("\n## ", 1)[0]
    found: dict[str, set[str]] = {}
    for block in re.split(r"\n### ", section)[1:]:
        name = block.split("\n", 1)[0].strip()
        found[name] = set(re.findall(r"^\| `(\w+)` \|", block, re.M))
    return found


def documented_attributes(text: str, obj: str) -> set[str]:
    """The `obj.x` names of the table rows under '### obj (every page)'."""
    section = text.split(f"\n### {obj} (every page)\n", 1)[1].split("\n### ", 1)[0]
    return set(re.findall(rf"^\| `{obj}\.(\w+)` \|", section, re.M))


def drift(documented: dict[str, set[str]], actual: dict[str, set[str]]) -> list[str]:
    """Every difference between the docs and the build, as a message naming the fix."""
    out = []
    for name in sorted(set(actual) | set(documented)):
        if name not in documented:
            out.append(f"docs/themes.md: {name}: no table under 'Variables by template' (it gets "
                       f"{', '.join(f'`{v}`' for v in sorted(actual[name]))})")  # fmt: skip
            continue
        if name not in actual:
            out.append(f"docs/themes.md: {name}: documented, but no page is rendered with it")
            continue
        out += [f"docs/themes.md: {name}: missing `{v}`" for v in sorted(actual[name] - documented[name])]
        out += [f"docs/themes.md: {name}: lists `{v}`, which the template does not get"
                for v in sorted(documented[name] - actual[name])]  # fmt: skip
    return out


@pytest.fixture(scope="module")
def rendered_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, set[str]]]:
    """Build the demo, recording the top-level variables each page template is rendered with."""
    seen: dict[str, set[str]] = {}
    original = jinja2.Template.render

    def render(self: jinja2.Template, *args: object, **kwargs: object) -> str:
        context = dict(*args, **kwargs)  # type: ignore[call-overload]
        if self.name is not None:
            seen.setdefault(self.name, set()).update(context)
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(jinja2.Template, "render", render)
        build(REPO, tmp_path_factory.mktemp("context") / "public")
    yield seen


def test_docs_list_every_variable_of_every_page_template(rendered_context: dict[str, set[str]]) -> None:
    assert len(rendered_context) == 17, sorted(rendered_context)  # 16 shop pages and the promoters' kit.html
    problems = drift(documented_variables(DOCS.read_text("utf-8")), rendered_context)
    assert problems == [], "\n".join(problems)


def test_docs_list_every_attribute_of_site_page_and_theme() -> None:
    text = DOCS.read_text("utf-8")
    site_attrs = set(re.findall(r"self\.(\w+) =", inspect.getsource(SiteContext))) - {"_site"}
    page_attrs = {f.name for f in dataclasses.fields(PageMeta)}
    theme_attrs = set(re.findall(r"self\.(\w+) =", inspect.getsource(ThemeContext)))
    for obj, actual in (("site", site_attrs), ("page", page_attrs), ("theme", theme_attrs)):
        problems = drift({obj: documented_attributes(text, obj)}, {obj: actual})
        assert problems == [], "\n".join(problems)


def test_the_drift_check_names_what_to_fix() -> None:
    documented = {"product.html": {"site", "page", "product"}, "old.html": {"site"}}
    actual = {"product.html": {"site", "page", "product", "foo"}, "new.html": {"site", "page"}}
    assert drift(documented, actual) == [
        "docs/themes.md: new.html: no table under 'Variables by template' (it gets `page`, `site`)",
        "docs/themes.md: old.html: documented, but no page is rendered with it",
        "docs/themes.md: product.html: missing `foo`",
    ]
    assert drift({"doc.html": {"doc", "page"}}, {"doc.html": {"page"}}) == [
        "docs/themes.md: doc.html: lists `doc`, which the template does not get"
    ]


# ---- strict templates ------------------------------------------------------------------------


def test_an_undefined_attribute_is_an_error_naming_template_and_line(make_site: Callable[..., Path],
                                                                      tmp_path: Path) -> None:  # fmt: skip
    site = make_site({"templates/doc.html": "<p>\n{{ doc.titel }}\n</p>\n"})
    with pytest.raises(ContentError) as err:
        build(site, tmp_path / "out")
    assert [str(p) for p in err.value.problems] == [
        "templates/doc.html:2: undefined: 'Doc' has no attribute 'titel' (rendering doc.html)"
    ]


def test_an_undefined_name_in_a_theme_partial_is_an_error_naming_it(make_site: Callable[..., Path],
                                                                     tmp_path: Path) -> None:  # fmt: skip
    files = {
        "themes/mine/theme.yml": "extends: default\n",
        "themes/mine/templates/partials/footer.html": "<footer>\n{{ site.title }}\n{{ shop_name }}\n</footer>\n",
    }
    site = make_site({**files, "site.yml": site_yml("theme: mine\n")})
    with pytest.raises(ContentError) as err:
        build(site, tmp_path / "out")
    assert [str(p) for p in err.value.problems] == [
        "themes/mine/templates/partials/footer.html:3: undefined: 'shop_name' is undefined (rendering index.html)"
    ]


# ---- settings ----------------------------------------------------------------------------------


def test_an_unknown_theme_setting_is_an_error_with_a_suggestion(make_site: Callable[..., Path]) -> None:
    site = make_site({"site.yml": site_yml('theme_settings:\n  acent: "#123456"\n  background: green\n')})
    assert problems_of(site) == [
        "site.yml:18:3: theme_settings.acent: unknown setting of theme 'default' (did you mean 'accent'?) "
        "(its settings: accent, background, font, fonts, radius, text_colour)",
        "site.yml:19:15: theme_settings.background: must be a colour such as #2f6b4f, got 'green'",
    ]


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("home_products", "many", "must be a number, got 'many'"),
        ("measure", "wide", "must be a CSS length such as 12px or 1.5rem, got 'wide'"),
        ("font", '"x; } body { color: red"',
         "must be a CSS font list such as Georgia, serif, got 'x; } body { color: red'"),
        ("accent", "[1, 2]", "must be a colour such as #2f6b4f, got a list"),
    ],
)  # fmt: skip
def test_a_setting_of_the_wrong_type_is_an_error(make_site: Callable[..., Path], setting: str, value: str,
                                                 message: str) -> None:  # fmt: skip
    site = make_site({"site.yml": site_yml(f"theme: editorial\ntheme_settings:\n  {setting}: {value}\n")})
    column = len(f"  {setting}: ") + 1  # the value's, under `theme_settings:`
    assert problems_of(site) == [f"site.yml:19:{column}: theme_settings.{setting}: {message}"]


def test_settings_reach_templates_css_and_inherit_down_the_chain(make_site: Callable[..., Path],
                                                                  tmp_path: Path) -> None:  # fmt: skip
    files = {
        "themes/mine/theme.yml": """\
            extends: editorial
            settings:
              accent: "#112233"
              banner: {type: text, default: Welcome, description: The line above the page.}
              layout: {type: choice, choices: [wide, narrow], default: wide}
            """,
        "themes/mine/templates/partials/header.html": (
            '<p class="banner {{ theme.settings.layout }}">{{ theme.settings.banner }}</p>'
            '{% include "editorial:partials/header.html" %}\n'
        ),
    }
    extra = "theme: mine\ntheme_settings:\n  banner: Free tea\n  font_display: Georgia, serif\n"
    site = make_site({**files, "site.yml": site_yml(extra)})
    build(site, tmp_path / "out")
    html = (tmp_path / "out/index.html").read_text("utf-8")
    assert '<p class="banner wide">Free tea</p>' in html
    assert "masthead" in html, "the parent's header is still included"
    style = re.search(r"<style>:root \{ (.*?) \}</style>", html)
    assert style is not None
    assert "--accent: #112233;" in style.group(1)  # the child's default over editorial's
    assert "--font-display: Georgia, serif;" in style.group(1)  # the shop's value
    assert "--measure: 38rem;" in style.group(1)  # editorial's default
    assert '<meta name="theme-color" content="#112233">' in html
    site_bad = make_site({**files, "site.yml": site_yml("theme: mine\ntheme_settings:\n  layout: tall\n")})
    assert problems_of(site_bad) == ["site.yml:19:11: theme_settings.layout: must be one of wide, narrow, got 'tall'"]


def test_a_bad_setting_declaration_is_reported_on_the_theme_field(make_site: Callable[..., Path]) -> None:
    files = {"themes/mine/theme.yml": "extends: default\nsettings:\n  size: {type: colr, default: 1}\n",
             "themes/mine/templates/.keep": ""}  # fmt: skip
    site = make_site({**files, "site.yml": site_yml("theme: mine\n")})
    assert problems_of(site) == [
        "site.yml:17:8: theme: theme 'mine': theme.yml:3:16: settings.size.type: unknown type 'colr' "
        "(did you mean 'colour'?) (use colour, font, length, text, number, boolean, choice, fonts)"
    ]


# ---- lookup: child themes, overrides, prefixes, cycles ------------------------------------------


def test_a_child_theme_overrides_one_block_and_one_static_file(make_site: Callable[..., Path],
                                                               tmp_path: Path) -> None:  # fmt: skip
    files = {
        "themes/child/theme.yml": "name: child\nextends: default\n",
        "themes/child/templates/product.html": """\
            {% extends "default:product.html" %}
            {% block content %}<p class="child-note">{{ _("Packed by hand") }}</p>{{ super() }}{% endblock %}
            """,
        "themes/child/static/img/favicon.svg": '<svg xmlns="http://www.w3.org/2000/svg"><title>child</title></svg>',
    }
    site = make_site({**files, "site.yml": site_yml("theme: child\n")})
    out = tmp_path / "out"
    build(site, out)
    product = (out / "products/green/index.html").read_text("utf-8")
    assert '<p class="child-note">Packed by hand</p>' in product
    assert 'data-add-to-cart data-product="green"' in product, "the parent's block is still rendered"
    assert product.index("child-note") < product.index("data-add-to-cart")
    assert "child-note" not in (out / "index.html").read_text("utf-8")
    assert (out / "static/img/favicon.svg").read_text("utf-8").endswith("<title>child</title></svg>")
    parent_css = (REPO / "themes/default/static/css/shop.css").read_bytes()
    assert (out / "static/css/shop.css").read_bytes() == minify("css/shop.css", parent_css)  # published minified


def test_a_site_template_extends_its_themes_own_version(make_site: Callable[..., Path], tmp_path: Path) -> None:
    files = {
        "templates/story.html": """\
            {% extends "editorial:story.html" %}
            {% block content %}{{ super() }}<p class="site-note">{{ story.title }}</p>{% endblock %}
            """,
        "static/css/editorial.css": "body { color: red; }\n",
    }
    site = make_site({**files, "site.yml": site_yml("theme: editorial\n")})
    out = tmp_path / "out"
    build(site, out)
    story = (out / "stories/harvest/index.html").read_text("utf-8")
    assert '<p class="site-note">The harvest</p>' in story and 'class="feature"' in story
    assert (out / "static/css/editorial.css").read_text("utf-8") == "body{color:red}\n"  # the site's, minified


def test_a_theme_chain_that_loops_is_an_error(make_site: Callable[..., Path]) -> None:
    files = {
        "themes/a/theme.yml": "extends: b\n",
        "themes/a/templates/.keep": "",
        "themes/b/theme.yml": "extends: c\n",
        "themes/b/templates/.keep": "",
        "themes/c/theme.yml": "extends: a\n",
        "themes/c/templates/.keep": "",
    }
    site = make_site({**files, "site.yml": site_yml("theme: a\n")})
    assert problems_of(site) == ["site.yml:17:8: theme: theme 'a' extends itself: a -> b -> c -> a"]


def test_a_theme_from_a_path_with_a_relative_parent(make_site: Callable[..., Path], tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "base-theme/templates").mkdir(parents=True)
    (shared / "base-theme/theme.yml").write_text("extends: default\nsettings:\n  accent: '#010203'\n", "utf-8")
    (shared / "top/templates").mkdir(parents=True)
    (shared / "top/theme.yml").write_text("extends: ../base-theme\n", "utf-8")
    site = make_site({"site.yml": site_yml("theme: ../shared/top\n")})
    theme = load_theme("../shared/top", site)
    assert [t.name for t in theme.chain] == ["top", "base-theme", "default"]
    assert theme.origin == "path" and theme.settings["accent"] == "#010203"
    build(site, tmp_path / "out")
    assert "--accent: #010203;" in (tmp_path / "out/index.html").read_text("utf-8")
    with pytest.raises(ThemeError, match=r"theme folder not found: \./nowhere"):
        load_theme("./nowhere", site)


@pytest.fixture
def installed_theme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny installed distribution declaring a theme in the entry point group micromall.themes."""
    root = tmp_path / "site-packages"
    package = root / "tea_house_theme"
    (package / "templates").mkdir(parents=True)
    (package / "static/css").mkdir(parents=True)
    (package / "__init__.py").write_text("", "utf-8")
    (package / "theme.yml").write_text("name: tea-house\nextends: editorial\nsettings:\n  accent: '#0a5c36'\n")
    (package / "templates/404.html").write_text('{% extends "editorial:404.html" %}\n', "utf-8")
    (package / "static/css/tea-house.css").write_text("/* tea house */\n", "utf-8")
    info = root / "tea_house_theme-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tea-house-theme\nVersion: 1.0\n", "utf-8")
    (info / "entry_points.txt").write_text("[micromall.themes]\ntea-house = tea_house_theme\n", "utf-8")
    monkeypatch.syspath_prepend(str(root))
    yield package
    sys.modules.pop("tea_house_theme", None)


def test_a_theme_from_an_installed_package(installed_theme: Path, make_site: Callable[..., Path],
                                           tmp_path: Path) -> None:  # fmt: skip
    site = make_site({"site.yml": site_yml("theme: tea-house\n")})
    theme = load_theme("tea-house", site)
    assert theme.origin == "package" and theme.path == installed_theme.resolve()
    assert [t.name for t in theme.chain] == ["tea-house", "editorial", "default"]
    build(site, tmp_path / "out")
    published = tmp_path / "out/static/css/tea-house.css"  # published minified: the comment goes
    assert published.is_file() and published.read_bytes() == minify("css/tea-house.css", b"/* tea house */\n")
    assert "--accent: #0a5c36;" in (tmp_path / "out/index.html").read_text("utf-8")
    wrong = make_site({"site.yml": site_yml("theme: tea-hous\n")})
    assert problems_of(wrong) == [
        "site.yml:17:8: theme: unknown theme 'tea-hous' (did you mean 'tea-house'?) "
        "(available: default, editorial, tea-house)"
    ]


# ---- micromall theme new -----------------------------------------------------------------------


def test_theme_new_scaffolds_a_child_theme_that_builds(cli: Callable[..., Result], make_site: Callable[..., Path],
                                                       tmp_path: Path) -> None:  # fmt: skip
    site = make_site({"site.yml": site_yml("theme: brand\n")})
    result = cli("theme", "new", "brand", "--extends", "editorial", "--dir", str(site / "themes"))
    assert result.exit_code == 0, result.output
    assert "Created the theme brand" in result.output
    out = tmp_path / "out"
    build(site, out)
    html = (out / "index.html").read_text("utf-8")
    assert re.search(r'<link rel="stylesheet" href="/static/css/brand\.css\?v=\w+">', html)
    assert html.index("css/editorial.css") < html.index("css/brand.css"), "the parent's stylesheets come first"
    assert "--accent: #8a4b2a; --bg: #fbf6ef;" in html
    assert "var(--accent)" in (out / "static/css/brand.css").read_text("utf-8")
    listing = cli("theme", "list", str(site))
    assert "brand  (site, extends editorial)" in listing.output
    again = cli("theme", "new", "brand", "--dir", str(site / "themes"))
    assert again.exit_code == 2 and "already exists" in again.output
    bad = cli("theme", "new", "My Theme", "--dir", str(tmp_path))
    assert bad.exit_code == 2 and "not a valid theme name" in bad.output


def test_the_bundled_themes_declare_typed_settings() -> None:
    for name in ("default", "editorial"):
        theme = load_theme(name, REPO)
        assert theme.declared["accent"].type == "colour"
        assert all(s.description for s in theme.own_settings.values()), name


def test_a_broken_theme_package_is_named_in_the_error(installed_theme: Path,
                                                      make_site: Callable[..., Path]) -> None:  # fmt: skip
    info = installed_theme.parent / "tea_house_theme-1.0.dist-info" / "entry_points.txt"
    info.write_text("[micromall.themes]\ntea-house = tea_house_theme\nbroken = no_such_module\n", "utf-8")
    site = make_site({"site.yml": site_yml("theme: broken\n")})
    assert problems_of(site) == [
        "site.yml:17:8: theme: theme 'broken' of an installed package could not be loaded: "
        "ModuleNotFoundError: No module named 'no_such_module'"
    ]
    assert load_theme("tea-house", site).origin == "package", "the other themes of the package still load"
