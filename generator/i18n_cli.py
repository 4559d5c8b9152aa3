"""`micromall i18n`: the commands a theme author runs to translate a theme's interface text.

    micromall i18n init pt-PT themes/my-theme     a new catalog with every message, untranslated
    micromall i18n update themes/my-theme         add new messages to every catalog, drop unused ones
    micromall i18n check themes/my-theme          list messages that lack a translation (exit 1 if any)
    micromall i18n extract themes/my-theme        write locale/messages.pot, for translation tools

The catalogs are plain gettext `.po` files; the build reads them directly, so there is no
compile step.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from .i18n import (
    DOMAIN,
    LOCALE_DIR,
    ExtractError,
    extract_messages,
    init_catalog,
    is_language,
    po_path,
    read_catalog,
    untranslated,
    update_catalogs,
    write_catalog,
)


@contextmanager
def _templates_parse() -> Iterator[None]:
    """A template that does not parse stops the command before any catalog is written."""
    try:
        yield
    except ExtractError as exc:
        raise click.ClickException(f"{exc} (no catalog was changed)") from None


def _theme_dir(value: str) -> Path:
    path = Path(value)
    if not (path / "templates").is_dir():
        raise click.BadParameter(f"{value} is not a theme folder (it has no templates/)", param_hint="THEME_DIR")
    return path


@click.group()
def i18n() -> None:
    """Translate a theme's interface text (gettext catalogs in THEME_DIR/locale/)."""


@i18n.command()
@click.argument("theme_dir", default=".", type=click.Path(file_okay=False))
def extract(theme_dir: str) -> None:
    """Write THEME_DIR/locale/messages.pot: every message of the templates."""
    theme = _theme_dir(theme_dir)
    with _templates_parse():
        catalog = extract_messages(theme)
    path = theme / LOCALE_DIR / f"{DOMAIN}.pot"
    write_catalog(path, catalog)
    click.echo(f"{path}: {sum(1 for m in catalog if m.id)} messages")


@i18n.command()
@click.argument("language")
@click.argument("theme_dir", default=".", type=click.Path(file_okay=False))
def init(language: str, theme_dir: str) -> None:
    """Start the catalog of LANGUAGE (a tag such as pt-PT, as in site.yml) for the theme."""
    theme = _theme_dir(theme_dir)
    if not is_language(language):
        raise click.BadParameter(f"'{language}' is not a language tag such as de-DE or pt-PT", param_hint="LANGUAGE")
    path = po_path(theme, language)
    if path.exists():
        raise click.UsageError(f"{path} exists already; run `micromall i18n update {theme_dir}` to refresh it")
    with _templates_parse():
        init_catalog(theme, language)
    count = len(untranslated(read_catalog(path)))
    click.echo(f"Created {path} with {count} messages to translate.")


@i18n.command()
@click.argument("theme_dir", default=".", type=click.Path(file_okay=False))
def update(theme_dir: str) -> None:
    """Bring every catalog of the theme in line with its templates."""
    theme = _theme_dir(theme_dir)
    with _templates_parse():
        changes = update_catalogs(theme)
    if not changes:
        click.echo(f"No catalogs in {theme / LOCALE_DIR}; start one with `micromall i18n init LANGUAGE {theme_dir}`.")
    for path, added, dropped in changes:
        click.echo(f"{path}: {added} new, {dropped} dropped, {len(untranslated(read_catalog(path)))} to translate")


@i18n.command()
@click.argument("theme_dir", default=".", type=click.Path(file_okay=False))
def check(theme_dir: str) -> None:
    """List messages missing from a catalog, untranslated, or no longer used; exit 1 if any."""
    theme = _theme_dir(theme_dir)
    with _templates_parse():
        wanted = {m.id for m in extract_messages(theme) if m.id}
    problems = []
    for path in sorted((theme / LOCALE_DIR).glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        catalog = read_catalog(path)
        have = {m.id for m in catalog if m.id}
        problems += [f"{path}: missing: {_show(m)}" for m in sorted(wanted - have, key=str)]
        problems += [f"{path}: not used any more: {_show(m)}" for m in sorted(have - wanted, key=str)]
        problems += [f"{path}: untranslated: {m}" for m in untranslated(catalog)]
    for line in problems:
        click.echo(line, err=True)
    if problems:
        sys.exit(1)
    click.echo("Every catalog is complete.")


def _show(msgid: object) -> str:
    return msgid if isinstance(msgid, str) else str(msgid[0])  # type: ignore[index]
