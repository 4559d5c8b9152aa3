"""Finding themes: the bundled ones, and a site's own `themes/` folder, with `extends` chains."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import did_you_mean
from .yamlsafe import YamlError, decode, parse_yaml


def bundled_themes_dir() -> Path:
    """Themes ship inside the package in a wheel, and sit beside it in a source checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "themes"
    return installed if installed.is_dir() else here.parent / "themes"


@dataclass(frozen=True)
class Theme:
    name: str
    path: Path
    description: str
    parent: Theme | None
    own_settings: Mapping[str, object] = field(default_factory=dict)

    @property
    def settings(self) -> dict[str, object]:
        """theme.yml's `settings:`, merged down the chain: a child's value replaces its parent's."""
        merged: dict[str, object] = {}
        for theme in reversed(self.chain):
            merged.update(theme.own_settings)
        return merged

    def settings_source(self, key: str) -> Theme:
        """The nearest theme of the chain that sets `key` (this one when none does)."""
        return next((t for t in self.chain if key in t.own_settings), self)

    @property
    def chain(self) -> list[Theme]:
        """This theme, then its parents: the order in which templates are looked up."""
        out: list[Theme] = []
        theme: Theme | None = self
        while theme is not None:
            out.append(theme)
            theme = theme.parent
        return out


class ThemeError(Exception):
    pass


def theme_dirs(site_dir: Path) -> list[Path]:
    """Where themes are looked for, nearest first: the site's own themes/, then the bundled ones."""
    return [site_dir / "themes", bundled_themes_dir()]


def available_themes(site_dir: Path) -> list[str]:
    names: set[str] = set()
    for folder in theme_dirs(site_dir):
        if folder.is_dir():
            names.update(p.name for p in folder.iterdir() if (p / "templates").is_dir())
    return sorted(names)


def load_theme(name: str, site_dir: Path, _seen: tuple[str, ...] = ()) -> Theme:
    """The named theme with its parents; raise ThemeError with a message for the shop owner."""
    if name in _seen:
        raise ThemeError(f"theme '{name}' extends itself (through {' -> '.join(_seen)})")
    for folder in theme_dirs(site_dir):
        path = folder / name
        if (path / "templates").is_dir():
            break
    else:
        names = available_themes(site_dir)
        raise ThemeError(f"unknown theme '{name}'{did_you_mean(name, names)} (available: {', '.join(names) or 'none'})")
    meta: dict[str, object] = {}
    meta_file = path / "theme.yml"
    if meta_file.is_file():
        try:
            data = parse_yaml(decode(meta_file.read_bytes())).data
        except YamlError as exc:
            raise ThemeError(f"{meta_file.name}:{exc.line}: {exc.message} (theme '{name}')") from None
        meta = data if isinstance(data, dict) else {}
    parent_name = meta.get("extends")
    parent = None
    if isinstance(parent_name, str) and parent_name:
        parent = load_theme(parent_name, site_dir, _seen + (name,))
    description = meta.get("description")
    settings = meta.get("settings")
    return Theme(name, path, description if isinstance(description, str) else "", parent,
                 settings if isinstance(settings, dict) else {})  # fmt: skip


def theme_problem(name: str, site_dir: Path) -> str | None:
    try:
        load_theme(name, site_dir)
    except ThemeError as exc:
        return str(exc)
    return None
