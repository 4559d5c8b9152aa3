"""Shared fixtures: small sites written into tmp_path, the CLI, and the built demo shop."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from generator.cli import main

REPO = Path(__file__).resolve().parent.parent

# Fixture modules shared by several test files: the browser, and the order service's databases.
pytest_plugins = ["browser", "orders_fixtures", "reliability_shop"]

#: A small complete shop; tests change a file or two of it to make one mistake at a time.
MINI_SITE: dict[str, str | None] = {
    "site.yml": """\
        title: Mini Tea
        tagline: Good tea, small shop.
        base_url: https://shop.example.com/
        language: en
        currency: CNY
        contact:
          email: hi@example.com
        shipping:
          - id: standard
            label: Standard
            price: 10
            free_over: 99
          - id: pickup
            label: Store pickup
            price: 0
            pickup: true
        """,
    "content/catalog/tea.yml": """\
        collection:
          id: tea
          title: Tea
          description: Leaves from the hills.
        products:
          - id: green
            title: Green tea
            price: 128
            compare_at_price: 158
            summary: Fresh and sweet.
            description: A **spring** tea.
            images: [images/green.jpg]
            tags: [green]
            featured: true
          - id: black
            title: Black tea
            price: 19.90
            images: [images/black.jpg]
            options:
              size: [50 g, 100 g]
            variants:
              - id: small
                options: {size: 50 g}
                stock: 0
              - id: large
                options: {size: 100 g}
                price: 35
                stock: 0
          - id: hidden
            title: Not yet
            price: 1
            published: false
        """,
    "content/stories/harvest.md": """\
        ---
        title: The harvest
        date: 2026-04-02
        summary: Picking in April.
        products: [green]
        ---
        We picked early this year.

        {{ product green }}

        And then we rested.
        """,
    "content/pages/about.md": """\
        ---
        title: About us
        order: 1
        ---
        We are small.
        """,
    "content/stores.yml": """\
        stores:
          - id: lake
            name: Lake shop
            address: 1 Lake Road
            hours: [Mon-Sun 10:00-18:00]
        """,
    "content/images/green.jpg": None,
    "content/images/black.jpg": None,
}


@pytest.fixture(scope="session", autouse=True)
def image_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Builds in tests (and the servers they start) keep their image cache in a temp folder,
    never in the repository."""
    folder = tmp_path_factory.mktemp("image-cache")
    before = os.environ.get("MICROMALL_CACHE")
    os.environ["MICROMALL_CACHE"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("MICROMALL_CACHE", None)
    else:
        os.environ["MICROMALL_CACHE"] = before


def write_site(root: Path, files: dict[str, str | None]) -> Path:
    """Write files (dedented); a None value for an image path makes a small real image."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            Image.new("RGB", (40, 30), (120, 160, 90)).save(path)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def make_site(tmp_path: Path) -> Callable[..., Path]:
    """make_site(**changes): the mini shop with some files replaced (a None text deletes a non-image)."""

    def make(files: dict[str, str | None] | None = None, base: dict[str, str | None] | None = None) -> Path:
        merged = dict(MINI_SITE if base is None else base)
        merged.update(files or {})
        root = tmp_path / "site"
        return write_site(root, merged)

    return make


@pytest.fixture
def cli() -> Callable[..., Result]:
    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shop from the repository root, built once into a temp folder."""
    from generator.build import build

    out = tmp_path_factory.mktemp("demo") / "public"
    result = build(REPO, out)
    assert result.warnings == [], result.warnings
    return out


#: The bundled themes: the demo shop must build, link and sell in each of them.
THEMES = ("default", "editorial")


def demo_in_theme(theme: str, dest: Path) -> Path:
    """The demo shop with another theme: its own site.yml, the repository's content (linked)."""
    if theme == "default":
        return REPO
    dest.mkdir(parents=True, exist_ok=True)
    text = (REPO / "site.yml").read_text("utf-8")
    assert "\ntheme: default\n" in text
    (dest / "site.yml").write_text(text.replace("\ntheme: default\n", f"\ntheme: {theme}\n"), "utf-8")
    (dest / "content").symlink_to(REPO / "content", target_is_directory=True)
    return dest


@pytest.fixture(scope="session", params=THEMES)
def built_demo_theme(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shop built once in each bundled theme."""
    from generator.build import build

    if request.param == "default":
        return request.getfixturevalue("built_demo")
    site = demo_in_theme(request.param, tmp_path_factory.mktemp(f"demo-{request.param}") / "site")
    out = site.parent / "public"
    result = build(site, out)
    assert result.warnings == [], result.warnings
    return out


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A private copy of the demo shop's sources, for tests that edit content."""
    dest = tmp_path / "demo"
    dest.mkdir()
    shutil.copy(REPO / "site.yml", dest / "site.yml")
    shutil.copytree(REPO / "content", dest / "content")
    return dest
