"""Write a synthetic shop of N products in micromall's content format, for the benchmarks.

    python bench/make_catalog.py N OUT [--hugo HUGO_DIR]

The shop has 8 collections, declared by the first catalog files; products are written 100 to a
catalog file (so that editing one product re-reads one small file, as in a real large shop),
each joins one or two collections and carries tags that link related products. A third of the
products have size variants. Every product has a ~150-word Markdown description and one of 3
photos shared across the shop. There is one story per 500 products (at least 3), each embedding
a few products with the `{{ product <id> }}` shortcode. Everything is deterministic in N.
Below 800 products some collections have no products (a warning each).

With --hugo, the same products are also written as a Hugo site (front matter + the Markdown
description + tag lists) for an outside comparison.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

from PIL import Image, ImageDraw

COLLECTIONS = ["green-tea", "oolong", "black-tea", "white-tea", "puer", "teaware", "gifts", "samplers"]
PER_FILE = 100
WORDS = [
    "leaf",
    "cup",
    "steep",
    "water",
    "spring",
    "terrace",
    "hill",
    "roast",
    "sweet",
    "chestnut",
    "orchid",
    "honey",
    "smoke",
    "mineral",
    "bright",
    "clean",
    "long",
    "finish",
    "aroma",
    "kettle",
    "gaiwan",
    "clay",
    "porcelain",
    "glass",
    "picked",
    "fired",
    "rolled",
    "withered",
    "oxidised",
    "bud",
    "tip",
    "harvest",
    "village",
    "family",
    "batch",
    "fresh",
    "mellow",
    "floral",
    "fruity",
    "nutty",
]
TAGS = [f"tag-{n}" for n in range(40)]

SITE_YML = """\
title: Synthetic Tea Market
tagline: A large generated catalog for benchmarks.
base_url: https://bench.example.com/
language: en
currency: CNY
theme: default
logo: images/logo.png
contact:
  email: hello@example.com
shipping:
  - id: standard
    label: Standard delivery
    price: 12
    free_over: 199
"""


def description(rng: random.Random, n: int) -> str:
    """About 150 words of Markdown: two paragraphs with emphasis and a short list."""
    words = [rng.choice(WORDS) for _ in range(130)]
    words[3] = f"**{words[3]}**"
    words[20] = f"*{words[20]}*"
    first, second = " ".join(words[:70]).capitalize() + ".", " ".join(words[70:]).capitalize() + "."
    items = [f"- {rng.choice(WORDS)} {rng.choice(WORDS)} for batch {n}" for _ in range(4)]
    return f"{first}\n\n{second}\n\n" + "\n".join(items)


def product(rng: random.Random, n: int, photos: list[str]) -> dict[str, object]:
    colls = [COLLECTIONS[n % len(COLLECTIONS)]]
    if n % 5 == 0:
        colls.append(COLLECTIONS[(n // 5 + 3) % len(COLLECTIONS)])
    return {
        "id": f"p-{n}",
        "title": f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} tea no. {n}",
        "price": f"{20 + n % 300}.{n % 100:02d}",
        "compare_at": f"{400 + n % 300}" if n % 7 == 0 else None,
        "summary": f"A {rng.choice(WORDS)}, {rng.choice(WORDS)} cup from batch {n}.",
        "description": description(rng, n),
        "image": photos[n % len(photos)],
        "tags": sorted({TAGS[n % len(TAGS)], TAGS[(n * 7 + 3) % len(TAGS)]}),
        "collections": colls,
        "variants": n % 3 == 0,
        "stock": n % 50,
    }


def product_yaml(p: dict[str, object]) -> str:
    lines = [
        f"  - id: {p['id']}",
        f"    title: {p['title']}",
        f"    price: {p['price']}",
        f"    summary: {p['summary']}",
        "    description: |",
        *("      " + line if line else "" for line in str(p["description"]).split("\n")),
        f"    images: [{p['image']}]",
        f"    tags: [{', '.join(p['tags'])}]",  # type: ignore[arg-type]
        f"    collections: [{', '.join(p['collections'])}]",  # type: ignore[arg-type]
    ]
    if p["compare_at"]:
        lines.append(f"    compare_at_price: {p['compare_at']}")
    if p["variants"]:
        lines += [
            "    options:",
            "      size: [50 g, 100 g]",
            "    variants:",
            "      - id: 50g",
            "        options: {size: 50 g}",
            f"        stock: {p['stock']}",
            "      - id: 100g",
            "        options: {size: 100 g}",
            f"        price: {int(str(p['price']).split('.')[0]) * 2}",
        ]
    else:
        lines.append(f"    stock: {p['stock']}")
    return "\n".join(lines)


def photo(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (1200, 900)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(img)
    for n in range(0, size[0], 60):
        draw.ellipse((n, n // 2, n + 200, n // 2 + 200), outline=(255, 255, 255), width=6)
    img.save(path, quality=85)


def make_catalog(count: int, out: Path, hugo: Path | None = None) -> Path:
    """Write the shop into `out` (replacing content/ and site.yml there) and return it."""
    rng = random.Random(count)
    shutil.rmtree(out / "content", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "site.yml").write_text(SITE_YML, "utf-8")
    content = out / "content"
    photos = [f"images/products/photo-{n}.jpg" for n in range(3)]
    for rel, colour in zip(photos, [(47, 107, 79), (160, 90, 40), (90, 70, 120)], strict=True):
        photo(content / rel, colour)
    logo = Image.new("RGB", (256, 256), (47, 107, 79))
    logo.save(content / "images/logo.png")

    catalog = content / "catalog"
    catalog.mkdir(parents=True)
    products = [product(rng, n, photos) for n in range(count)]
    files = [products[start : start + PER_FILE] for start in range(0, count, PER_FILE)]
    files += [[] for _ in range(len(COLLECTIONS) - len(files))]
    for n, chunk in enumerate(files):
        # the first files declare the collections (each product joins its own with `collections`)
        head = ""
        if n < len(COLLECTIONS):
            coll = COLLECTIONS[n]
            title = coll.replace("-", " ").title()
            head = f"collection:\n  id: {coll}\n  title: {title}\n  description: Every {title.lower()} we sell.\n"
        body = "products:\n" + "\n".join(product_yaml(p) for p in chunk) + "\n" if chunk else "products: []\n"
        (catalog / f"products-{n:05d}.yml").write_text(head + body, "utf-8")

    stories = content / "stories"
    stories.mkdir()
    for s in range(max(3, count // 500)):
        embedded = [f"p-{(s * 37 + k * 11) % count}" for k in range(3)]
        listed = ", ".join(f"p-{(s * 13 + k) % count}" for k in range(2))
        paras = [" ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + "." for _ in range(3)]
        body = "\n\n".join(f"{para}\n\n{{{{ product {pid} }}}}" for para, pid in zip(paras, embedded, strict=True))
        (stories / f"story-{s}.md").write_text(
            f"---\ntitle: Story {s}\ndate: 2026-0{1 + s % 9}-{1 + s % 28:02d}\nsummary: Notes number {s}.\n"
            f"products: [{listed}]\ntags: [notes]\n---\n\n{body}\n",
            "utf-8",
        )
    if hugo is not None:
        write_hugo(products, hugo)
    return out


def write_hugo(products: list[dict[str, object]], root: Path) -> None:
    """The same products as a minimal Hugo site: one page per product with tags and collections."""
    shutil.rmtree(root, ignore_errors=True)
    layouts = root / "layouts/_default"
    layouts.mkdir(parents=True)
    (root / "hugo.toml").write_text(
        'baseURL = "https://bench.example.com/"\ntitle = "Synthetic Tea Market"\n'
        'disableKinds = ["RSS", "sitemap", "robotsTXT", "404"]\n'
        '[taxonomies]\n  tag = "tags"\n  collection = "collections"\n',
        "utf-8",
    )
    (layouts / "single.html").write_text(
        "<!doctype html><html><head><title>{{ .Title }}</title></head><body><h1>{{ .Title }}</h1>"
        "<p>{{ .Params.price }}</p>{{ .Content }}<ul>{{ range .Params.tags }}<li>{{ . }}</li>{{ end }}</ul>"
        "</body></html>\n",
        "utf-8",
    )
    (layouts / "list.html").write_text(
        "<!doctype html><html><body><h1>{{ .Title }}</h1><ul>{{ range .Pages }}"
        '<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></body></html>\n',
        "utf-8",
    )
    posts = root / "content/products"
    posts.mkdir(parents=True)
    for p in products:
        front = (
            f'---\ntitle: "{p["title"]}"\nprice: "{p["price"]}"\nsummary: "{p["summary"]}"\n'
            f"tags: [{', '.join(p['tags'])}]\ncollections: [{', '.join(p['collections'])}]\n---\n\n"  # type: ignore[arg-type]
        )
        (posts / f"{p['id']}.md").write_text(front + str(p["description"]) + "\n", "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int, help="number of products")
    parser.add_argument("out", type=Path, help="the site folder to write")
    parser.add_argument("--hugo", type=Path, help="also write the products as a Hugo site here")
    args = parser.parse_args()
    make_catalog(args.count, args.out, args.hugo)
    print(f"wrote a shop of {args.count} products to {args.out}")


if __name__ == "__main__":
    main()
