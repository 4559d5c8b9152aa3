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
        language: en          # en or zh-CN
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
