"""`micromall new`: a small starter shop that builds without edits, to learn the format from."""

from __future__ import annotations

import textwrap
from pathlib import Path

from PIL import Image, ImageDraw

from .errors import UsageError

FILES = {
    ".gitignore": """\
        # What micromall makes: the built shop, its image cache, the order service's database.
        /public/
        /.micromall-cache/
        /orders.sqlite3*
        """,
    "site.yml": """\
        # Your shop's settings. Every field is explained in docs/content.md.
        title: {title}
        tagline: Small-batch goods, made with care.
        base_url: https://example.com/
        language: en          # en, zh-CN, or another tag such as pt-PT
        currency: USD         # an ISO 4217 code: CNY, USD, EUR, ...
        theme: default
        contact:
          email: hello@example.com
          phone: "+1 555 0100"
        shipping:
          - id: standard
            label: Standard delivery
            price: 5
            free_over: 50
          - id: pickup
            label: Pick up in store
            price: 0
            pickup: true
        """,
    "content/catalog/goods.yml": """\
        collection:
          id: goods
          title: Our goods
          description: Everything we make, in one place.
        products:
          - id: linen-tote
            title: Linen tote bag
            price: 24
            summary: A sturdy everyday bag in washed linen.
            description: |
              Washed linen, double-stitched handles, an inside pocket.
            images: [images/placeholder.png]
            stock: 10
            featured: true
          - id: enamel-mug
            title: Enamel mug
            price: 14.50
            compare_at_price: 18
            summary: Light, tough and good for camping.
            images: [images/placeholder.png]
            options:
              color: [white, blue]
            variants:
              - id: white
                options: {{color: white}}
              - id: blue
                options: {{color: blue}}
                stock: 0
        """,
    "content/stories/hello.md": """\
        ---
        title: Hello from our workshop
        date: 2026-01-15
        summary: Why we started, and what we make.
        products: [linen-tote]
        ---
        We make a few things, slowly and well. This is our favourite:

        {{{{ product linen-tote }}}}

        More stories soon.
        """,
    "content/pages/about.md": """\
        ---
        title: About us
        summary: Who we are.
        order: 1
        ---
        We are a two-person workshop. Write to us any time.
        """,
    "content/stores.yml": """\
        stores:
          - id: workshop
            name: The workshop
            address: 1 Example Street, Springfield
            hours: [Sat 10:00-16:00]
        """,
}


def _placeholder_png(path: Path) -> None:
    """A plain, soft-coloured square, so the starter shop has an image to show."""
    img = Image.new("RGB", (800, 800), (236, 228, 214))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((220, 220, 580, 580), radius=48, fill=(196, 176, 146))
    draw.ellipse((330, 300, 470, 440), fill=(236, 228, 214))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, optimize=True)


def create_site(target: Path, title: str = "My Shop") -> None:
    """Write the starter shop into `target`, which must be empty or not exist."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} already exists and is not empty; choose a new folder")
    quoted = title.replace('"', '\\"')
    for rel, text in FILES.items():
        file = target / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        body = textwrap.dedent(text).format(title=f'"{quoted}"')
        file.write_text(body, encoding="utf-8")
    _placeholder_png(target / "content" / "images" / "placeholder.png")


THEME_FILES = {
    "theme.yml": """\
        name: {name}
        description: A child theme of {parent}, made with `micromall theme new`.
        extends: {parent}
        # New defaults for the parent's settings (a shop can still change them in site.yml under
        # theme_settings:). Declare a setting of your own with a type:
        #   banner: {{type: text, default: "Free delivery over 199"}}
        settings:
          accent: "#8a4b2a"
          background: "#fbf6ef"
        """,
    "templates/base.html": """\
        {{#- The parent's base.html, with this theme's stylesheet after the parent's ones.
            "{prefix}:base.html" is the parent's own file: a plain "base.html" would be this one. #}}
        {{% extends "{prefix}:base.html" %}}
        {{% block stylesheets %}}
        {{{{ super() }}}}
        <link rel="stylesheet" href="{{{{ static('css/{name}.css') }}}}">
        {{% endblock %}}
        """,
    "static/css/{name}.css": """\
        /* {name}: loaded after the parent's stylesheet, so these rules win. The colours come from
           theme.yml's settings as CSS custom properties (var(--accent), var(--bg)). */
        .site-header {{
          border-bottom: 3px solid var(--accent);
        }}
        """,
}


def create_theme(folder: Path, name: str, parent: str = "default") -> Path:
    """Write a working child theme called `name` into folder/name: new colours, one block of
    base.html overridden and its own stylesheet. Returns the theme's folder."""
    from .fields import SLUG

    if not SLUG.match(name):
        raise UsageError(f"'{name}' is not a valid theme name: use lowercase letters, digits and hyphens")
    target = folder / name
    if target.exists():
        raise UsageError(f"{target} already exists; choose a new name or folder")
    for rel, text in THEME_FILES.items():
        file = target / rel.format(name=name)
        file.parent.mkdir(parents=True, exist_ok=True)
        body = textwrap.dedent(text).format(name=name, parent=parent, prefix=Path(parent).name)
        file.write_text(body, encoding="utf-8")
    return target
