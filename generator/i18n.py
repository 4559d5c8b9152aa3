"""Interface text in the shop's language: the themes' Babel message catalogs, read at build time.

A theme keeps one catalog per language in `locale/<lang>/LC_MESSAGES/messages.po` (`zh_CN`,
`pt_PT`, `en`). The build reads the `.po` files directly and compiles them in memory (no `.mo`
files to commit or forget to rebuild); the compiled bytes are kept per file and modification
time, so a rebuild or a dev-server reload does not parse them again.

Where a message is looked up, nearest first: the site's own `locale/`, the theme, its parents,
and the bundled default theme (whose catalogs also hold the words micromall writes from Python:
list page titles, the share pictures' "Scan to buy"). A language with no catalog anywhere
shows the English text as written.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from babel.core import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from .themes import Theme, bundled_themes_dir

DOMAIN = "messages"
LOCALE_DIR = "locale"

#: The Python modules whose text is in the theme catalogs: page titles, share words, the
#: seller's order emails.
PYTHON_SOURCES = ("render.py", "share.py", "kits.py", "orders/notify.py")

#: How `micromall i18n extract` finds messages: Jinja templates of a theme (the same as babel.cfg).
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "false", "newstyle_gettext": "true"}


def catalog_code(language: str) -> str:
    """site.yml's tag (zh-CN) as the catalog folder's name (zh_CN), as gettext tools write it."""
    return language.replace("-", "_")


def is_language(language: str) -> bool:
    """A tag Babel knows (en, zh-CN, pt-PT, ja): it has dates, numbers and currency rules."""
    try:
        Locale.parse(language, sep="-")
    except (ValueError, UnknownLocaleError):
        return False
    return True


def _candidates(language: str) -> list[str]:
    """Catalog folders to try for a language, most specific first: zh_Hans_CN, zh_CN, zh."""
    locale = Locale.parse(language, sep="-")
    names = [str(locale), language.replace("-", "_")]
    if locale.territory:
        names.append(f"{locale.language}_{locale.territory}")
    names.append(locale.language)
    return list(dict.fromkeys(names))


def locale_dirs(theme: Theme, site_dir: Path) -> list[Path]:
    """Where catalogs are looked for, nearest first (see the module's docstring)."""
    dirs = [site_dir / LOCALE_DIR] + [t.path / LOCALE_DIR for t in theme.chain]
    default = bundled_themes_dir() / "default" / LOCALE_DIR
    if default.resolve() not in {d.resolve() for d in dirs}:
        dirs.append(default)
    return dirs


def catalog_files(theme: Theme, site_dir: Path, language: str) -> list[Path]:
    """The .po files that translate `language`, nearest first."""
    found = []
    for folder in locale_dirs(theme, site_dir):
        for name in _candidates(language):
            po = folder / name / "LC_MESSAGES" / f"{DOMAIN}.po"
            if po.is_file():
                found.append(po)
                break
    return found


@lru_cache(maxsize=64)
def _compiled(path: str, mtime_ns: int, size: int) -> bytes:
    """A .po file compiled to .mo bytes; the key's mtime and size make an edited file recompile."""
    with open(path, "rb") as fp:
        catalog = read_po(fp, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def compile_po(path: Path) -> Translations:
    stat = path.stat()
    return Translations(io.BytesIO(_compiled(str(path), stat.st_mtime_ns, stat.st_size)), domain=DOMAIN)


def load_translations(theme: Theme, site_dir: Path, language: str) -> NullTranslations:
    """The translations for a build: the nearest catalog, falling back to the next ones."""
    files = catalog_files(theme, site_dir, language)
    if not files:
        return NullTranslations()
    first = compile_po(files[0])
    for path in files[1:]:
        first.add_fallback(compile_po(path))
    return first


@dataclass(frozen=True)
class Text:
    """gettext for Python code that writes interface text (page titles, share pictures).

    Call it as `_("From %(price)s", price=p)`: the msgid is looked up, then filled in with
    `%`-placeholders like the templates' `_()`, so the same catalog entry serves both sides.
    """

    translations: NullTranslations

    def __call__(self, message: str, **values: object) -> str:
        return str(self.translations.ugettext(message)) % values

    def plural(self, singular: str, plural: str, n: int, **values: object) -> str:
        text = str(self.translations.ungettext(singular, plural, n))
        return text % {"num": n, **values}


def english() -> Text:
    return Text(NullTranslations())


def bundled_text(language: str) -> Text:
    """The bundled default theme's words, for code that runs without a site (the order service)."""
    files = []
    for name in _candidates(language):
        po = bundled_themes_dir() / "default" / LOCALE_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.is_file():
            files.append(po)
            break
    return Text(compile_po(files[0])) if files else english()


# ---- extracting and updating catalogs (the `micromall i18n` commands) -----------------------


def _python_sources() -> list[Path]:
    here = Path(__file__).resolve().parent
    return [here / name for name in PYTHON_SOURCES]


class ExtractError(Exception):
    """A template that does not parse: Babel's Jinja extractor would skip it without a word,
    and `update` would then drop its messages from every catalog."""


def _check_templates(templates: Path) -> None:
    import jinja2

    env = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)  # parses only; as the build
    for path in sorted(templates.rglob("*.html")):
        try:
            env.parse(path.read_text("utf-8"))
        except jinja2.TemplateSyntaxError as exc:
            shown = path.relative_to(templates.parent).as_posix()
            raise ExtractError(f"{shown}:{exc.lineno}: {exc.message}") from None


def extract_messages(theme_dir: Path) -> Catalog:
    """The messages a theme's catalogs must hold: those of its templates, less the ones its
    parent themes already have (their catalogs come next in the lookup), and, for a theme
    without a parent, micromall's own Python interface text."""
    parents = _parent_dirs(theme_dir)
    catalog = _template_messages(theme_dir)
    if parents:
        inherited: set[object] = set()
        for parent in parents:
            inherited |= {m.id for m in _template_messages(parent) if m.id}
        inherited |= {m.id for m in _python_messages() if m.id}
        for message in [m for m in catalog if m.id and m.id in inherited]:
            catalog.delete(message.id, message.context)
    else:
        for message in _python_messages():
            for location in message.locations:
                catalog.add(message.id, None, [location], auto_comments=message.auto_comments,
                            context=message.context)  # fmt: skip
    return catalog


def _parent_dirs(theme_dir: Path) -> list[Path]:
    """The folders of the themes `theme_dir` extends, nearest first (found as a build finds them)."""
    from .themes import ThemeError, load_theme

    path = theme_dir.resolve()
    try:
        theme = load_theme(str(path), path.parent.parent)
    except ThemeError as exc:
        raise ExtractError(str(exc)) from None
    return [t.path for t in theme.chain[1:]]


def _template_messages(theme_dir: Path) -> Catalog:
    from babel.messages.extract import extract_from_dir  # only the i18n commands extract

    catalog = Catalog(domain=DOMAIN, project="micromall theme", charset="utf-8")
    templates = theme_dir / "templates"
    _check_templates(templates)
    method_map = [("**.html", "jinja2")]
    for filename, lineno, message, comments, context in extract_from_dir(
        str(templates), method_map, options_map={"**.html": JINJA_OPTIONS}, strip_comment_tags=True
    ):
        catalog.add(message, None, [(f"templates/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


def _python_messages() -> Catalog:
    catalog = Catalog(domain=DOMAIN, charset="utf-8")
    here = Path(__file__).resolve().parent
    for path in _python_sources():
        where = f"generator/{path.relative_to(here).as_posix()}"  # no colon: .po locations are file:line
        for lineno, message, comments, context in _extract_python(path):
            catalog.add(message, None, [(where, lineno)], auto_comments=comments, context=context)
    return catalog


def _extract_python(path: Path) -> Iterator[tuple[int, str | tuple[str, ...], list[str], str | None]]:
    from babel.messages.extract import extract

    with path.open("rb") as fp:
        yield from extract("python", fp, keywords=_KEYWORDS)


#: `_("…")` and `_.plural("one", "many", n)` in our Python code (the Text object above).
_KEYWORDS: dict[str, tuple[int, ...] | None] = {"_": None, "plural": (1, 2)}


def po_path(theme_dir: Path, language: str) -> Path:
    return theme_dir / LOCALE_DIR / catalog_code(language) / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=language and catalog_code(language), domain=DOMAIN)


def write_catalog(path: Path, catalog: Catalog) -> None:
    from babel.messages.pofile import write_po

    catalog.revision_date = datetime.now(UTC)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    write_po(out, catalog, width=100, include_previous=False, include_lineno=False)
    path.write_bytes(out.getvalue())


def init_catalog(theme_dir: Path, language: str) -> Path:
    """A new catalog for `language` holding every message of the theme, untranslated."""
    template = extract_messages(theme_dir)
    catalog = Catalog(locale=catalog_code(language), domain=DOMAIN, project="micromall theme", charset="utf-8")
    catalog.update(template, no_fuzzy_matching=True)
    path = po_path(theme_dir, language)
    write_catalog(path, catalog)
    return path


def update_catalogs(theme_dir: Path) -> list[tuple[Path, int, int]]:
    """Bring every catalog of the theme in line with its templates: new messages are added
    untranslated, messages no template uses any more are dropped. Returns (file, added, dropped)."""
    template = extract_messages(theme_dir)
    changed = []
    for path in sorted((theme_dir / LOCALE_DIR).glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        catalog = read_catalog(path)
        before = {m.id for m in catalog if m.id}
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        after = {m.id for m in catalog if m.id}
        write_catalog(path, catalog)
        changed.append((path, len(after - before), len(before - after)))
    return changed


def untranslated(catalog: Catalog) -> list[str]:
    """The msgids of a catalog that have no translation (or a fuzzy one)."""
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else str(message.id[0]))
    return missing
