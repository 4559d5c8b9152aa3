"""Finding themes and their settings.

A theme is a folder with `templates/`, optional `static/` and an optional `theme.yml` (name,
description, `extends`, `settings`). Themes come from the site's own `themes/` folder, a path
written in site.yml, the bundled `themes/` folder, or an installed Python package that declares
an entry point in the group `micromall.themes`. `extends` chains are followed to any depth.

Settings are declared by a theme with a type and a default; a shop sets them in site.yml under
`theme_settings:`, where `check_setting` validates each value against its declaration. Settings
of the CSS kinds (colours, font stacks, lengths) also become CSS custom properties.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Protocol

from markupsafe import Markup

from .errors import did_you_mean
from .yamlsafe import Document, YamlError, decode, parse_yaml
from .yamlsafe import Path as YamlPath

ENTRY_POINT_GROUP = "micromall.themes"

#: Setting types, and what a value of each must be (for messages).
SETTING_TYPES = {
    "colour": "a colour such as #2f6b4f",
    "font": "a CSS font list such as Georgia, serif",
    "length": "a CSS length such as 12px or 1.5rem",
    "text": "text",
    "number": "a number",
    "boolean": "true or false",
    "choice": "one of the choices",
    "fonts": "a list of fonts for the share pictures",
}
TYPE_ALIASES = {"color": "colour", "string": "text", "bool": "boolean"}
#: Types whose values become CSS custom properties unless the setting says `css: false`.
CSS_TYPES = ("colour", "font", "length")
SETTING_KEYS = ("type", "default", "description", "choices", "css")

_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_FONT = re.compile(r"^[\w\s\"',.\-]+$")
_LENGTH = re.compile(r"^(?:0|\d+(?:\.\d+)?(?:px|rem|em|%|vw|vh|ch))$")
_CSS_NAME = re.compile(r"^--[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class Setting:
    """One declared theme setting: its type, default and the CSS custom property it sets."""

    type: str
    default: object
    description: str = ""
    choices: tuple[str, ...] = ()
    css: str = ""  # "--accent", or "" for none


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
    own_settings: Mapping[str, Setting] = field(default_factory=dict)
    #: The shop's `theme_settings:` from site.yml, checked; they win over every default.
    overrides: Mapping[str, object] = field(default_factory=dict)
    origin: str = "bundled"  # "site", "path", "package" or "bundled"

    @property
    def declared(self) -> dict[str, Setting]:
        """Every setting of the chain, a child's declaration replacing its parent's."""
        merged: dict[str, Setting] = {}
        for theme in reversed(self.chain):
            merged.update(theme.own_settings)
        return merged

    @property
    def settings(self) -> dict[str, object]:
        """The value of every setting: the site's, else the nearest theme's default."""
        values = {key: setting.default for key, setting in self.declared.items()}
        values.update(self.overrides)
        return values

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

    def with_overrides(self, values: Mapping[str, object]) -> Theme:
        return replace(self, overrides=dict(values))

    def css_variables(self) -> dict[str, str]:
        """CSS custom property -> value, for the settings that have one and a valid value."""
        out: dict[str, str] = {}
        values = self.settings
        for key, setting in self.declared.items():
            value = values.get(key)
            if setting.css and check_setting(setting, value) is None:
                out[setting.css] = css_value(value)
        return out


class ThemeError(Exception):
    pass


def css_value(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


def check_setting(setting: Setting, value: object) -> str | None:
    """What is wrong with `value` for this setting, or None when it fits."""
    kind = setting.type
    ok: bool
    if kind == "colour":
        ok = isinstance(value, str) and bool(_COLOUR.match(value.strip()))
    elif kind == "font":
        ok = isinstance(value, str) and bool(_FONT.match(value.strip()))
    elif kind == "length":
        ok = isinstance(value, (str, int)) and not isinstance(value, bool) and bool(_LENGTH.match(str(value).strip()))
    elif kind == "text":
        ok = isinstance(value, str)
    elif kind == "number":
        ok = isinstance(value, (int, Decimal)) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "choice":
        if not isinstance(value, str) or value not in setting.choices:
            return f"must be one of {', '.join(setting.choices)}, got {_shown(value)}" + did_you_mean(
                str(value), setting.choices
            )
        return None
    else:  # fonts: checked when the share pictures are drawn
        ok = isinstance(value, (list, str, dict)) or value is None
    return None if ok else f"must be {SETTING_TYPES[kind]}, got {_shown(value)}"


def _shown(value: object) -> str:
    from .fields import kind_of

    return f"'{value}'" if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool) else kind_of(value)


def _infer_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, Decimal)):
        return "number"
    if isinstance(value, (list, dict)) or value is None:
        return "fonts"
    if isinstance(value, str) and _COLOUR.match(value.strip()):
        return "colour"
    return "text"


class Locate(Protocol):
    """Where in theme.yml, for a message: the value at a path or, with `key`, the key naming it."""

    def __call__(self, at: YamlPath, key: bool = False) -> str: ...


def parse_settings(raw: object, inherited: Mapping[str, Setting], locate: Locate) -> dict[str, Setting]:
    """theme.yml's `settings:`. A key is either a declaration (`{type, default, ...}`) or a bare
    value: a new default for a parent's setting, or a setting whose type is read from the value.
    `locate` names a path in the file for a message (`theme 'x': theme.yml:3:11`)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ThemeError(f"{locate(('settings',))}: settings: must be a mapping of setting names")
    out: dict[str, Setting] = {}
    for key, value in raw.items():
        key = str(key)
        parent = inherited.get(key)
        if isinstance(value, dict) and ("type" in value or "default" in value):
            unknown = [k for k in value if k not in SETTING_KEYS]
            if unknown:
                at = locate(("settings", key, unknown[0]), key=True)
                hint = did_you_mean(str(unknown[0]), SETTING_KEYS)
                raise ThemeError(f"{at}: settings.{key}.{unknown[0]}: unknown field{hint}")
            kind = str(value.get("type") or (parent.type if parent else _infer_type(value.get("default"))))
            kind = TYPE_ALIASES.get(kind, kind)
            if kind not in SETTING_TYPES:
                raise ThemeError(f"{locate(('settings', key, 'type'))}: settings.{key}.type: unknown type '{kind}'"
                                 f"{did_you_mean(kind, SETTING_TYPES)} (use {', '.join(SETTING_TYPES)})")  # fmt: skip
            choices = tuple(str(c) for c in value.get("choices") or ())
            if kind == "choice" and not choices:
                at = locate(("settings", key, "choices"))
                raise ThemeError(f"{at}: settings.{key}.choices: a choice setting needs a list of choices")
            css = value.get("css", None)
            if css is False:
                css_name = ""
            elif css is None or css is True:
                css_name = _css_name(key) if kind in CSS_TYPES else ""
            elif isinstance(css, str) and _CSS_NAME.match(css):
                css_name = css
            else:
                at = locate(("settings", key, "css"))
                raise ThemeError(f"{at}: settings.{key}.css: must be a custom property such as --accent, or false")
            default = value.get("default", parent.default if parent else None)
            description = str(value.get("description") or (parent.description if parent else ""))
            out[key] = Setting(kind, default, description, choices, css_name)
        elif parent is not None:
            out[key] = replace(parent, default=value)
        else:
            kind = _infer_type(value)
            out[key] = Setting(kind, value, "", (), _css_name(key) if kind in CSS_TYPES else "")
    return out


def _css_name(key: str) -> str:
    return "--" + key.replace("_", "-").lower()


# ---- finding themes ------------------------------------------------------------------------


def theme_dirs(site_dir: Path) -> list[Path]:
    """Folders of themes, nearest first: the site's own themes/, then the bundled ones."""
    return [site_dir / "themes", bundled_themes_dir()]


#: Entry points that failed to load, by theme name: the reason, for the shop that names one.
_BROKEN: dict[str, str] = {}


def installed_themes() -> dict[str, Path]:
    """Themes of installed packages: entry points in the group `micromall.themes`.

    An entry point names a package (`my_theme`, whose folder is the theme), or an object in
    one: a path, or a function that returns one (`my_theme:theme_path`).
    """
    found: dict[str, Path] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            target = ep.load()
        except Exception as exc:  # a broken package must not stop shops that use other themes
            _BROKEN[ep.name] = f"{type(exc).__name__}: {exc}"
            continue
        if callable(target) and not isinstance(target, ModuleType):
            target = target()
        if isinstance(target, ModuleType):
            file = getattr(target, "__file__", None)
            if file is None:
                continue
            found.setdefault(ep.name, Path(file).resolve().parent)
        elif isinstance(target, (str, Path)):
            found.setdefault(ep.name, Path(target))
    return found


def available_themes(site_dir: Path) -> list[str]:
    names: set[str] = set()
    for folder in theme_dirs(site_dir):
        if folder.is_dir():
            names.update(p.name for p in folder.iterdir() if (p / "templates").is_dir())
    names.update(installed_themes())
    return sorted(names)


def is_path(name: str) -> bool:
    """`theme: ./vendor/tea-theme` or `../shared/theme` names a folder instead of a theme."""
    return "/" in name or "\\" in name


def find_theme(name: str, site_dir: Path, base: Path | None = None) -> tuple[Path, str]:
    """The folder of the theme called `name` and where it was found.

    Order: a path (relative to `base`, the site or the child theme), the site's themes/, the
    bundled themes, then installed packages. Bundled names come before packages so that an
    installed package cannot silently replace `default` for every shop.
    """
    if is_path(name):
        path = ((base or site_dir) / name).resolve()
        if (path / "templates").is_dir():
            return path, "path"
        raise ThemeError(f"theme folder not found: {name} (a theme folder has a templates/ folder)")
    site_path = site_dir / "themes" / name
    if (site_path / "templates").is_dir():
        return site_path, "site"
    bundled = bundled_themes_dir() / name
    if (bundled / "templates").is_dir():
        return bundled, "bundled"
    package = installed_themes().get(name)
    if package is not None and (package / "templates").is_dir():
        return package, "package"
    if package is not None:
        raise ThemeError(f"theme '{name}' of an installed package has no templates/ folder: {package}")
    if name in _BROKEN:
        raise ThemeError(f"theme '{name}' of an installed package could not be loaded: {_BROKEN[name]}")
    names = available_themes(site_dir)
    raise ThemeError(f"unknown theme '{name}'{did_you_mean(name, names)} (available: {', '.join(names) or 'none'})")


def load_theme(name: str, site_dir: Path, _seen: tuple[str, ...] = (), _base: Path | None = None) -> Theme:
    """The named theme with its parents; raise ThemeError with a message for the shop owner."""
    path, origin = find_theme(name, site_dir, _base)
    key = str(path.resolve())
    if key in _seen:
        names = [Path(p).name for p in _seen] + [path.name]
        raise ThemeError(f"theme '{path.name}' extends itself: {' -> '.join(names)}")
    meta: dict[str, object] = {}
    meta_file = path / "theme.yml"
    doc: Document | None = None
    if meta_file.is_file():
        try:
            doc = parse_yaml(decode(meta_file.read_bytes()))
        except YamlError as exc:
            at = f"{meta_file.name}:{exc.line}:{exc.column}" if exc.column else f"{meta_file.name}:{exc.line}"
            raise ThemeError(f"{at}: {exc.message} (theme '{path.name}')") from None
        meta = doc.data if isinstance(doc.data, dict) else {}

    def where(at: YamlPath, key: bool = False) -> str:
        """`theme 'x': theme.yml:3:11`: the value at `at` (or, with `key`, its key) in theme.yml."""
        if doc is None:
            return f"theme '{path.name}': theme.yml"
        line, column = doc.key_mark(at) if key else doc.mark(at)
        return f"theme '{path.name}': theme.yml:{line}:{column}"

    parent_name = meta.get("extends")
    parent = None
    if isinstance(parent_name, str) and parent_name:
        parent = load_theme(parent_name, site_dir, _seen + (key,), path)
    elif parent_name is not None:
        raise ThemeError(f"{where(('extends',))}: extends: must be a theme name or null")
    inherited = parent.declared if parent is not None else {}
    settings = parse_settings(meta.get("settings"), inherited, where)
    description = meta.get("description")
    shown = name if origin == "package" else path.name  # a package's folder is named for Python
    return Theme(shown, path, description if isinstance(description, str) else "", parent, settings,
                 origin=origin)  # fmt: skip


def theme_problem(name: str, site_dir: Path) -> str | None:
    try:
        load_theme(name, site_dir)
    except ThemeError as exc:
        return str(exc)
    return None


def css_block(theme: Theme) -> Markup:
    """`--accent: #2f6b4f; --bg: #faf7f2;`: the settings as CSS, for a `:root {}` rule.
    Every value was checked against its type, so it cannot close the style element."""
    css = " ".join(f"{name}: {value};" for name, value in theme.css_variables().items())
    return Markup(css)  # nosec B704 - every value was checked against its type (see above)
