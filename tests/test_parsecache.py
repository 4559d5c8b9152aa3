"""The parse cache on disk (generator/parsecache.py, catalog_codec.py): a catalog file parsed once
is read back as the same products in a new process; anything in the cache folder that is not
what the codec writes (corrupt, stale or planted) means the file is parsed again, never a crash,
never other output."""

from __future__ import annotations

import copy
import json
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import generator.load
from generator import catalog_codec, parsecache
from generator.load import load_site
from generator.markup import could_be_rendered, render_markdown
from generator.model import Site, content_print

RICH = {
    "content/catalog/tea.yml": """\
        collection:
          id: tea
          title: Tea
          description: "Leaves from **the hills**, see [our farm](https://farm.example.com/?a=1&b=2 \\"Farm\\")."
          image: images/black.jpg
        products:
          - id: green
            title: Green tea
            price: 128
            compare_at_price: 158
            sku: GT-1
            summary: Fresh and sweet.
            description: |
              A **spring** tea with <b>no</b> HTML & "quotes".

              | cup | time |
              |:----|-----:|
              | 1   | 2 min |

              ```text
              steep <3 min
              ```
            images: [images/green.jpg, images/black.jpg]
            tags: [green, spring, green]
            collections: [coming]
            featured: true
          - id: black
            title: Black tea
            price: 19.90
            images: [images/black.jpg]
            options:
              size: [50 g, 100 g]
              pack: [tin, bag]
            variants:
              - id: small
                options: {size: 50 g, pack: tin}
                sku: BT-S
                stock: 3
                image: images/green.jpg
              - id: large
                options: {size: 100 g, pack: bag}
                price: 35
                compare_at_price: 40
                stock: 0
          - id: pu-er
            title: Pu-er cake
            price: 300
            group_buy: {min_orders: 5, ends: 2026-12-01 20:00+08:00}
            options:
              size: [S, M]
          - id: hidden
            title: Not yet
            price: 1
            published: false
        """,
    # a file with a warning, which must be reported on every build
    "content/catalog/coming.yml": """\
        collection:
          id: coming
          title: Coming soon
        products: []
        """,
}


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Path]:
    parsecache.forget()
    yield tmp_path / "cache"
    parsecache.forget()


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The catalog files parsed (not read back from the cache), in order."""
    done: list[str] = []
    real = generator.load.parse_catalog
    monkeypatch.setattr(generator.load, "parse_catalog", lambda src, *a: done.append(src.rel) or real(src, *a))
    return done


def shown(site: Site) -> list[Any]:
    """Everything a build reads from the loaded products and collections."""
    out: list[Any] = []
    for p in site.products:
        out.append((
            repr(p), str(p.description_html), [repr(i) for i in p.images], [repr(v) for v in p.variants],
            [repr(v.image) for v in p.variants], [c.id for c in p.collections], [r.id for r in p.related],
            [s.slug for s in p.stories], p.price, p.compare_at_price, p.sold_out,
        ))  # fmt: skip
    for c in site.collections:
        out.append((repr(c), str(c.description_html), repr(c.image), [p.id for p in c.products]))
    return out


def entries(cache: Path) -> list[Path]:
    return sorted((cache / parsecache.FOLDER).glob("*.json"))


def catalog_entry(cache: Path, rel: str) -> Path:
    return next(e for e in entries(cache) if json.loads(e.read_bytes()).get("rel") == rel)


def test_a_new_process_reads_each_file_back_as_parsed_with_its_warnings(
    make_site: Callable[..., Path], cache: Path, parsed: list[str]
) -> None:
    site = make_site(RICH)
    first, warnings = load_site(site, cache)
    assert parsed == ["content/catalog/coming.yml", "content/catalog/tea.yml"]
    assert [str(w) for w in warnings] == ["content/catalog/coming.yml:4:11: warning: products: the list is empty"]
    assert len(entries(cache)) == 3  # two files and the related products

    parsecache.forget()  # a new process: only the cache folder is left
    again, warnings_again = load_site(site, cache)
    assert parsed == ["content/catalog/coming.yml", "content/catalog/tea.yml"], "read back, not parsed"
    assert warnings_again == warnings
    assert shown(again) == shown(first)
    green = next(p for p in again.products if p.id == "green")
    assert "<table>" in green.description_html and "&lt;b&gt;" in green.description_html
    assert green.tags == ("green", "spring", "green")
    assert next(p for p in again.products if p.id == "pu-er").group_buy.ends.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]


def test_the_codec_round_trip_keeps_every_field(make_site: Callable[..., Path], cache: Path) -> None:
    site = make_site(RICH)
    load_site(site, cache)
    kept = [v for v in parsecache._KEPT.values() if isinstance(v, catalog_codec.Parsed)]
    tea = next(k for k in kept if k.catalog.src.rel == "content/catalog/tea.yml")
    loader = generator.load.Loader(site)
    back = catalog_codec.decode(
        json.loads(json.dumps(catalog_codec.encode(tea))), tea.catalog.src.rel, "CNY", loader._outcome
    )
    assert [repr(p) for p in back.catalog.products] == [repr(p) for p in tea.catalog.products]
    # each product's print is read back, and is the hash of its repr as it is read back
    assert [p._print for p in back.catalog.products] == [[content_print(p)] for p in tea.catalog.products]
    for product in back.catalog.products:
        fresh = copy.copy(product)
        object.__setattr__(fresh, "_print", [])
        assert content_print(fresh) == product._print[0]
    assert [(repr(v), repr(v.image)) for p in back.catalog.products for v in p.variants] == [
        (repr(v), repr(v.image)) for p in tea.catalog.products for v in p.variants
    ]
    assert repr(back.catalog.collection) == repr(tea.catalog.collection)
    assert back.catalog.src.doc.marks == tea.catalog.src.doc.marks
    assert back.catalog.id_paths == tea.catalog.id_paths and back.catalog.skus == tea.catalog.skus
    assert back.catalog.collection_refs == tea.catalog.collection_refs
    assert back.problems == tea.problems
    assert back.related_print == tea.related_print


def test_resolve_reports_at_the_right_place_from_a_file_read_back(make_site: Callable[..., Path], cache: Path) -> None:
    """Duplicate ids and unknown collections are found across files, after the cache: their
    `path:line:col: field: message` must be the same as from a parse (B6)."""
    site = make_site({
        **RICH,
        "content/catalog/more.yml": "products:\n  - id: green\n    title: Again\n    price: 1\n    sku: GT-1\n"
        "    collections: [nope]\n",
    })  # fmt: skip
    with pytest.raises(generator.errors.ContentError) as first:
        load_site(site, cache)
    parsecache.forget()
    with pytest.raises(generator.errors.ContentError) as again:
        load_site(site, cache)
    assert [str(p) for p in again.value.problems] == [str(p) for p in first.value.problems]
    assert [str(p) for p in first.value.problems] == [
        "content/catalog/coming.yml:4:11: warning: products: the list is empty",
        "content/catalog/more.yml:6:19: products[0].collections[0]: unknown collection 'nope'",
        "content/catalog/tea.yml:7:9: products[0].id: duplicate product id 'green'"
        " (first defined at content/catalog/more.yml:2:9)",
        "content/catalog/tea.yml:11:10: products[0].sku: duplicate sku 'GT-1'"
        " (first used at content/catalog/more.yml:5:10)",
    ]


def _mutations() -> list[tuple[str, Callable[[dict[str, Any]], object]]]:
    def product(data: dict[str, Any]) -> list[Any]:
        return data["products"][0]  # type: ignore[no-any-return]

    def setitem(target: Any, key: Any, value: Any) -> None:
        target[key] = value

    return [
        ("an id that is a path", lambda d: setitem(product(d), 0, "../../etc")),
        ("a script in a description", lambda d: setitem(product(d), 6, "<p>hi</p><script>alert(1)</script>")),
        ("a javascript: link", lambda d: setitem(product(d), 6, '<p><a href="javascript:alert(1)">x</a></p>')),
        ("an event attribute", lambda d: setitem(product(d), 6, '<p><img src="x.png" alt="" onerror="x"></p>')),
        ("a price that is text", lambda d: setitem(product(d), 2, "12800")),
        ("a negative price", lambda d: setitem(product(d), 2, -1)),
        ("a price that is true", lambda d: setitem(product(d), 2, True)),
        ("a price as a float", lambda d: setitem(product(d), 2, 128.5)),
        ("an image out of range", lambda d: setitem(product(d), 7, [99])),
        ("an image that was a problem", lambda d: setitem(d["images"][0], 1, "file not found")),
        ("an image of another size", lambda d: setitem(d["images"][0][1], 2, 4000)),
        ("an image path the shop does not name", lambda d: setitem(d["images"][0], 0, "../../secret.jpg")),
        ("a missing field", lambda d: product(d).pop()),
        ("an extra field", lambda d: product(d).append(1)),
        ("a row that is a mapping", lambda d: setitem(d["products"], 0, {"id": "green"})),
        ("a row that is text", lambda d: setitem(d["products"], 0, "green tea with seventeen characters")),
        ("another format", lambda d: setitem(d, "format", catalog_codec.FORMAT + 1)),
        ("another file", lambda d: setitem(d, "rel", "content/catalog/other.yml")),
        ("an unknown key", lambda d: setitem(d, "code", "import os")),
        ("a variant option the product lacks", lambda d: setitem(d["products"][1][11][0][2], "size", "1 kg")),
        ("a group buy without its zone", lambda d: setitem(d["products"][2][14], 1, "2026-12-01T20:00:00")),
        ("a group buy of one", lambda d: setitem(d["products"][2][14], 0, 1)),
        ("a problem of no severity", lambda d: setitem(d, "problems", [[1, 1, "", "x", "fatal"]])),
        ("a product twice", lambda d: d["products"].append(d["products"][0])),
        ("a place that is no path", lambda d: setitem(product(d)[15], 0, [{"a": 1}])),
        ("a tag that is a number", lambda d: setitem(product(d), 8, [1])),
        ("a print that is text", lambda d: setitem(product(d), 17, "12")),
        ("a negative print", lambda d: setitem(product(d), 17, -1)),
        ("a print of more than 64 bits", lambda d: setitem(product(d), 17, 1 << 64)),
    ]


@pytest.mark.parametrize("name,mutate", _mutations(), ids=[m[0] for m in _mutations()])
def test_an_entry_that_is_not_what_the_codec_writes_means_parse_again(
    make_site: Callable[..., Path],
    cache: Path,
    parsed: list[str],
    name: str,
    mutate: Callable[[dict[str, Any]], object],
) -> None:
    site = make_site(RICH)
    first, warnings = load_site(site, cache)
    entry = catalog_entry(cache, "content/catalog/tea.yml")
    data = json.loads(entry.read_bytes())
    mutate(data)
    entry.write_text(json.dumps(data), "utf-8")
    parsecache.forget()
    again, warnings_again = load_site(site, cache)
    assert parsed.count("content/catalog/tea.yml") == 2, f"{name}: the file is parsed again"
    assert shown(again) == shown(first) and warnings_again == warnings
    parsecache.forget()
    load_site(site, cache)
    assert parsed.count("content/catalog/tea.yml") == 2, "the entry written again is read back"


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"\xff\xfe not utf-8", b"[" * 100_000, b"null", b'{"format": 1}', b"1" * 5000, b"NaN"],
    ids=["empty", "truncated", "not UTF-8", "nested deep", "null", "a stub", "a huge number", "NaN"],
)
def test_an_entry_that_is_not_json_means_parse_again(
    make_site: Callable[..., Path], cache: Path, parsed: list[str], raw: bytes
) -> None:
    site = make_site(RICH)
    first, _ = load_site(site, cache)
    for entry in entries(cache):
        entry.write_bytes(raw)
    parsecache.forget()
    again, _ = load_site(site, cache)
    assert parsed.count("content/catalog/tea.yml") == 2
    assert shown(again) == shown(first)


def test_a_planted_pickle_cannot_run_code(make_site: Callable[..., Path], cache: Path, tmp_path: Path) -> None:
    site = make_site(RICH)
    first, _ = load_site(site, cache)
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str, str]]:
            return (open, (str(marker), "w"))

    for entry in entries(cache):
        entry.write_bytes(pickle.dumps(Exploit()))
    parsecache.forget()
    again, _ = load_site(site, cache)
    assert not marker.exists()
    assert shown(again) == shown(first)


def test_a_changed_image_parses_the_files_that_use_it_again(
    make_site: Callable[..., Path], cache: Path, parsed: list[str]
) -> None:
    site = make_site(RICH)
    load_site(site, cache)
    Image.new("RGB", (64, 48), (10, 20, 30)).save(site / "content/images/green.jpg")
    parsecache.forget()
    again, _ = load_site(site, cache)
    assert parsed.count("content/catalog/tea.yml") == 2 and parsed.count("content/catalog/coming.yml") == 1
    green = next(p for p in again.products if p.id == "green")
    assert (green.images[0].width, green.images[0].height) == (64, 48)
    small = next(p for p in again.products if p.id == "black").variants[0]
    assert small.image is not None and small.image.width == 64


def test_entries_a_build_did_not_use_are_deleted(make_site: Callable[..., Path], cache: Path) -> None:
    site = make_site(RICH)
    load_site(site, cache)
    before = entries(cache)
    folder = cache / parsecache.FOLDER
    (folder / ".tmp-left-by-a-stopped-build").write_text("{", "utf-8")
    os.utime(folder / ".tmp-left-by-a-stopped-build", (0, 0))
    (folder / ".tmp-being-written").write_text("{", "utf-8")
    (folder / "notes.txt").write_text("not ours", "utf-8")
    tea = site / "content/catalog/tea.yml"
    tea.write_text(tea.read_text("utf-8").replace("title: Green tea", "title: Green tea, spring"), "utf-8")
    load_site(site, cache)
    after = entries(cache)
    assert len(after) == len(before) == 3
    # coming.yml's entry stays, and the related links' (a title is not what they depend on)
    assert len(set(after) & set(before)) == 2
    assert catalog_entry(cache, "content/catalog/tea.yml") not in before
    assert sorted(p.name for p in folder.iterdir() if p.suffix != ".json") == [".tmp-being-written", "notes.txt"]


def test_a_preview_reload_shares_no_list_with_the_last_load(make_site: Callable[..., Path], cache: Path) -> None:
    """Kept parses are reused without copying them whole: each load must still get its own
    products and collections, whose cross-link lists the build fills."""
    site = make_site(RICH)
    first, _ = load_site(site, cache)
    again, _ = load_site(site, cache)
    assert shown(again) == shown(first)
    for a, b in zip(first.products, again.products, strict=True):
        assert a is not b and a.description_html is b.description_html
        for name in ("collections", "related", "stories", "_share"):
            assert getattr(a, name) is not getattr(b, name)
    for ca, cb in zip(first.collections, again.collections, strict=True):
        assert ca is not cb and ca.products is not cb.products
    first.products[0].related.clear()
    first.collections[0].products.clear()
    assert shown(load_site(site, cache)[0]) == shown(again)


def test_an_edited_file_in_the_preview_renders_only_the_markdown_that_changed(
    make_site: Callable[..., Path], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(RICH)
    load_site(site, cache)
    rendered: list[str] = []
    real = generator.load.render_markdown
    monkeypatch.setattr(generator.load, "render_markdown", lambda text: rendered.append(text) or real(text))
    tea = site / "content/catalog/tea.yml"
    tea.write_text(tea.read_text("utf-8").replace("A **spring** tea", "A **summer** tea"), "utf-8")
    again, _ = load_site(site, cache)
    assert len(rendered) == 1 and "summer" in rendered[0]
    assert "<strong>summer</strong>" in next(p for p in again.products if p.id == "green").description_html


MARKDOWN = st.lists(
    st.sampled_from([
        "# Title", "## Sub", "*em*", "**strong**", "~~gone~~", "`code`", "[link](https://x.example/?a=1&b=\"2\")",
        "[bad](javascript:alert(1))", "![pic](images/a.jpg \"T\")", "![data](data:image/png;base64,AAAA)",
        "<script>alert(1)</script>", "<b onclick=x>", "&amp; &lt; & < > \"", "> quote", "- item", "1. one",
        "3. three", "```js\"><x>\nif (a < b) {}\n```", "    indented <code>", "| a | b |\n|:-|-:|\n| 1 | 2 |",
        "---", "line  \nbreak", "<http://auto.example/>", "<mailto:a@b.example>", "\\<escaped>", "text",
        "[ref][r]\n\n[r]: https://r.example/ 'Ref'", "*", "_", "[", "]", "(", "\n", "\n\n",
    ]),
    max_size=12,
).map(" ".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(MARKDOWN)
def test_what_markdown_it_writes_passes_the_html_check(text: str) -> None:
    """A description read back from the cache must pass the check when markdown-it wrote it
    (else every build would parse it again)."""
    assert could_be_rendered(str(render_markdown(text)))


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<p onclick="x">hi</p>',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="jav&#x61;script:alert(1)">x</a>',
        '<a href="JAVASCRIPT:alert(1)">x</a>',
        '<img src="x.png" alt="" onerror="alert(1)">',
        '<img src="data:text/html,<script>" alt="">',
        '<a title="t" href="javascript:1">x</a>',
        "<p>fine</p><iframe src=x>",
        "<p>fine</p><",
        '<code class="language-x" onmouseover="y">',
        '<td style="background:url(javascript:x)">',
        "<svg/onload=alert(1)>",
    ],
)
def test_html_that_markdown_it_does_not_write_fails_the_check(html: str) -> None:
    assert not could_be_rendered(html)
