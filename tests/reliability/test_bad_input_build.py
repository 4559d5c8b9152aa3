"""B5-B7: hostile and broken shop content against the loaders and the build.

Plan criteria, not loosened:
- B5: only the loader's own error (YamlError: line, message; and as a Problem: file, line, field)
  is raised for any input, never another exception; duplicates -> error; ambiguous scalars -> error
  or a documented string; Python tags -> error; a 350-byte alias bomb rejected in < 1 s with RSS
  < 200 MB; 0 files written to the output dir on error. Hypothesis for 60 s here; atheris for 10
  minutes in the extended tier (tests/reliability/fuzz_yaml.py).
- B6: 30 broken sites: exit code 1, relative path, line:column (checked against the file), field path,
  "did you mean" for typos, no traceback, the pinned (golden) message, < 2 s each (the slowest is
  printed); valid sites exit 0.
- B7: every Markdown document renders in < 1 s with RSS < 200 MB (2,000 Hypothesis documents and a
  DoS corpus); front matter over 1 MB is rejected with an error. (The 1,000-product build time is
  measured by bench/build_large.py, not asserted here: the project times things in bench/.)
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MINI_SITE, write_site
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from support import EXTENDED, count

from generator.build import build
from generator.cli import main
from generator.errors import ContentError
from generator.markup import (
    MAX_ANGLE_BRACKETS,
    MAX_BRACKETS,
    MAX_EMPHASIS_MARKS,
    MAX_INDENT,
    markdown_problem,
    render_markdown,
)
from generator.yamlsafe import YamlError, decode, parse_yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from test_validation import CASES as PINNED  # noqa: E402  (the 27 cases already pinned there)

FUZZ_SECONDS = 600 if EXTENDED else 60
#: A child's peak RSS in MB. VmHWM starts afresh at exec; getrusage's ru_maxrss would carry over
#: the peak of the pytest process it was forked from.
PEAK_RSS = "int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])/1024"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- B5: the YAML loader ---------------------------------------------------------------------------

TOKENS = [
    "products:", "- ", "id: ", "title: ", "price: ", "  ", "    ", "\n", "\t", ": ", "&a ", "*a", "&b ", "*b",
    "<<: *a", "!!python/object/apply:os.system ['true']", "!!binary aGk=", "!!set {a}", "!!float ", "!ruby ",
    "[", "]", "{", "}", ",", '"', "'", "|", ">", "#", "---", "...", "%YAML 1.1", "NO", "yes", "~", "null",
    ".inf", "-.INF", ".NaN", "nan", "0x1F", "0o17", "012", "1_000", "1e3", "19.999", "12:30", "2026-04-31",
    "2026-04-02T10:00:00Z", "? ", "\\u0000", "\ufeff", "\u2028", "é", "価格", "\x00", "\x85", "\r\n",
]  # fmt: skip
yaml_texts = st.lists(st.sampled_from(TOKENS) | st.text(max_size=6), max_size=40).map("".join)


def only_yaml_errors(raw: bytes) -> None:
    try:
        parse_yaml(decode(raw))
    except YamlError as exc:
        assert exc.line >= 1 and exc.column >= 1 and exc.message


@pytest.mark.timeout(FUZZ_SECONDS + 120)
def test_B5_yaml_loader_fuzz() -> None:
    """B5: Hypothesis for 60 s (600 s extended): only YamlError, with a line, for any bytes or YAML-ish
    text. Hypothesis has no wall-clock budget, so it runs in seeded batches of 500 until the time is up
    (each batch is reproducible from its seed). It found `&a [*a]` and `date: 2026-02-30` escaping as
    RecursionError and ValueError; both are YamlErrors now."""
    started = time.monotonic()
    n = [0]
    batch = 0
    while time.monotonic() - started < FUZZ_SECONDS and batch < 10_000:

        @seed(batch)
        @settings(max_examples=500, derandomize=False)
        @given(yaml_texts.map(lambda t: t.encode("utf-8", "surrogatepass")) | st.binary(max_size=200))
        def run(raw: bytes) -> None:
            n[0] += 1
            only_yaml_errors(raw)

        run()
        batch += 1
    print(f"B5: {n[0]} YAML inputs in {time.monotonic() - started:.0f} s ({batch} batches), only YamlError")


def test_B5_fixed_cases() -> None:
    """B5: duplicates, the Norway problem, decimals, .inf/nan, dates, Python tags, a 350-byte alias bomb,
    10 MB of scalars."""
    with pytest.raises(YamlError, match="duplicate key 'price'"):
        parse_yaml("price: 1\nprice: 2\n")
    assert parse_yaml("country: NO\nok: yes\n").data == {"country": "NO", "ok": "yes"}  # documented: words
    assert str(parse_yaml("price: 19.999\n").data["price"]) == "19.999"  # a Decimal; the price check says too many
    for bad in ("price: .inf\n", "price: -.Inf\n", "price: .nan\n"):
        with pytest.raises(YamlError, match="not a usable number"):
            parse_yaml(bad)
    assert parse_yaml("price: nan\n").data == {"price": "nan"}  # a word, refused later as "not a price"
    assert str(parse_yaml("date: 2026-04-02\n").data["date"]) == "2026-04-02"
    with pytest.raises(YamlError, match="'2026-02-30' is not a valid date"):  # was a bare ValueError
        parse_yaml("date: 2026-02-30\n")
    for tag in ("!!python/object/apply:os.system ['touch /tmp/pwned']", "!!python/name:os.system", "!!binary aGk="):
        with pytest.raises(YamlError, match="is not allowed in shop content"):
            parse_yaml(f"x: {tag}\n")
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join(["*" + chr(97 + i)] * 9) + "]\n" for i in range(8)
    )
    assert len(bomb) < 400
    code = ("import resource,sys,time;from generator.yamlsafe import parse_yaml,YamlError;t=sys.stdin.read();"
            "s=time.perf_counter()\ntry: parse_yaml(t)\nexcept YamlError as e: print(e.message)\n"
            "print(time.perf_counter()-s, " + PEAK_RSS + ")")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], input=bomb, capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})  # fmt: skip
    message, numbers = proc.stdout.splitlines()
    bomb_s, bomb_rss = map(float, numbers.split())
    assert "alias bomb" in message and bomb_s < 1 and bomb_rss < 200, proc.stdout
    for recursive in ("a: &a [*a]\n", "a: &a {b: *a}\n", "[" * 5000 + "]" * 5000):
        with pytest.raises(YamlError):
            parse_yaml(recursive)
    scalars = "items:\n" + "".join(f"  - value number {i} with some words\n" for i in range(300_000))
    assert len(scalars) > 10_000_000
    started = time.perf_counter()
    doc = parse_yaml(scalars)
    big_s = time.perf_counter() - started
    assert len(doc.data["items"]) == 300_000
    print(f"B5: {len(bomb)}-byte alias bomb refused in {bomb_s * 1000:.0f} ms, RSS {bomb_rss:.0f} MB; "
          f"10 MB of scalars parsed in {big_s:.1f} s")  # fmt: skip


def test_B5_no_output_written_on_error(tmp_path: Path) -> None:
    """B5: a build that fails on content writes nothing into the output folder."""
    site = write_site(tmp_path / "site", {**MINI_SITE, "content/catalog/tea.yml": "products:\n  - id: a\n  - id: a\n"})
    out = tmp_path / "public"
    with pytest.raises(ContentError):
        build(site, out)
    assert not out.exists() or list(out.rglob("*")) == []


# -- B6: the golden corpus of broken sites ---------------------------------------------------------

SITE_YML = MINI_SITE["site.yml"]
assert SITE_YML is not None
TEA = "products:\n  - id: green\n    title: Green\n    price: 1\n"

NEW_CASES: dict[str, tuple[dict[str, str | None], list[str]]] = {
    "typo in a field name": (
        {"content/catalog/tea.yml": TEA + "  - id: a\n    title: A\n    prcie: 5\n"},
        ["content/catalog/tea.yml:5:5: products[1].price: is required",
         "content/catalog/tea.yml:7:5: products[1].prcie: unknown field (did you mean 'price'?)"],
    ),
    "missing price": (
        {"content/catalog/tea.yml": TEA + "  - id: a\n    title: A\n"},
        ["content/catalog/tea.yml:5:5: products[1].price: is required"],
    ),
    "negative stock": (
        {"content/catalog/tea.yml": TEA + "  - id: a\n    title: A\n    price: 5\n    stock: -3\n"},
        ["content/catalog/tea.yml:8:12: products[1].stock: must be 0 or more, got -3"],
    ),
    "same id in two files": (
        {"content/catalog/more.yml": "products:\n  - id: green\n    title: Again\n    price: 2\n"},
        ["content/catalog/tea.yml:6:9: products[0].id: duplicate product id 'green' (first defined at "
         "content/catalog/more.yml:2:9)"],
    ),
    "same SKU in two files": (
        {"content/catalog/tea.yml": TEA + "    sku: CT-1\n",
         "content/catalog/more.yml": "products:\n  - id: b\n    title: B\n    price: 2\n    sku: CT-1\n"},
        ["content/catalog/tea.yml:5:10: products[0].sku: duplicate sku 'CT-1' (first used at "
         "content/catalog/more.yml:5:10)"],
    ),
    "same SKU on a variant of another product": (
        {"content/catalog/tea.yml": TEA + "    sku: CT-1\n  - id: b\n    title: B\n    price: 2\n    sku: CT-2\n"
                                    "    options: {size: [S, M]}\n    variants:\n"
                                    "      - {id: s, options: {size: S}, sku: CT-2}\n"
                                    "      - {id: m, options: {size: M}, sku: CT-1}\n"},
        ["content/catalog/tea.yml:13:42: products[1].variants[1].sku: duplicate sku 'CT-1' (first used at "
         "content/catalog/tea.yml:5:10)"],
    ),
    "tab indentation": (
        {"content/catalog/tea.yml": "products:\n\t- id: a\n"},
        ["content/catalog/tea.yml:2:1: a tab cannot indent YAML: use spaces"],
    ),
    "unterminated quote": (
        {"content/catalog/tea.yml": 'products:\n  - id: green\n    title: "Green\n    price: 1\n'},
        ["content/catalog/tea.yml:5:1: YAML syntax error: found unexpected end of stream, while scanning a quoted "
         "scalar at line 3, column 12"],
    ),
    "typo in a site.yml key": (
        {"site.yml": SITE_YML.replace("tagline:", "tagln:")},
        ["site.yml:2:1: tagln: unknown field (did you mean 'tagline'?)"],
    ),
    "typo in a theme name": (
        {"site.yml": SITE_YML + "theme: defualt\n"},
        ["site.yml:17:8: theme: unknown theme 'defualt' (did you mean 'default'?) (available: default, editorial)"],
    ),
    "typo in front matter": (
        {"content/pages/about.md": "---\ntitle: About us\nordr: 1\n---\nWe are small.\n"},
        ["content/pages/about.md:3:1: ordr: unknown field (did you mean 'order'?)"],
    ),
    "wrong type in front matter, lines counted in the whole file": (
        {"content/pages/about.md": "---\ntitle: About us\nsummary: Who we are\norder: first\n---\nHi\n"},
        ["content/pages/about.md:4:8: order: must be a whole number, got text"],
    ),
    "YAML syntax error in front matter": (
        {"content/stories/harvest.md": "---\ntitle: T\ndate: 2026-01-01\nsummary: 'Picking\n---\nText\n"},
        ["content/stories/harvest.md:4:18: YAML syntax error: found unexpected end of stream, while scanning a "
         "quoted scalar at line 4, column 10"],
    ),
    "include cycle (a theme that extends itself)": (
        {"site.yml": SITE_YML + "theme: a\n",
         "themes/a/theme.yml": "extends: b\n", "themes/a/templates/.keep": "",
         "themes/b/theme.yml": "extends: a\n", "themes/b/templates/.keep": ""},
        ["site.yml:17:8: theme: theme 'a' extends itself: a -> b -> a"],
    ),
    "BOM before a wrong value": (
        {"content/catalog/tea.yml": "\ufeff" + TEA + "  - id: a\n    title: A\n    price: 5\n    stock: many\n"},
        ["content/catalog/tea.yml:8:12: products[1].stock: must be a whole number, got text"],
    ),
    "invalid UTF-8 in the middle of a line": (
        {"content/catalog/tea.yml": "replaced below by bytes that are not UTF-8"},
        ["content/catalog/tea.yml:3:14: file is not valid UTF-8 text"],
    ),
    "typo in a variant's field": (
        {"content/catalog/tea.yml": TEA + "  - id: a\n    title: A\n    price: 5\n    options: {size: [S, M]}\n"
                                    "    variants:\n      - id: s\n        options: {size: S}\n        stok: 3\n"},
        ["content/catalog/tea.yml:12:9: products[1].variants[0].stok: unknown field (did you mean 'stock'?)"],
    ),
    "wrong value on the line below its key": (
        {"content/catalog/tea.yml": TEA + "  - id: a\n    title: A\n    price:\n      -5\n"},
        ["content/catalog/tea.yml:8:7: products[1].price: must not be negative"],
    ),
    "field missing from a nested mapping": (
        {"content/catalog/tea.yml": TEA + "    group_buy:\n      ends: 2026-12-01\n"},
        ["content/catalog/tea.yml:6:7: products[0].group_buy.min_orders: is required (how many orders make the "
         "group buy go ahead)"],
    ),
}  # fmt: skip
CORPUS = {**PINNED, **NEW_CASES}
#: Cases whose broken file is bytes that no text can hold; written over the file make_site wrote.
RAW_BYTES: dict[str, dict[str, bytes]] = {
    "not UTF-8": {"content/pages/about.md": b"---\ntitle: Caf\xe9\n---\n"},
    "invalid UTF-8 in the middle of a line": {
        "content/catalog/tea.yml": b"products:\n  - id: green\n    title: Gr\xfcn tea\n    price: 1\n"
    },
}
#: `path:line:column: ...`: what editors and terminals open at the spot. Every problem located in a
#: YAML file, front matter or a story's text carries both numbers.
LOCATION = re.compile(r"^(?P<path>(?:site\.yml|content/[\w./-]+)):(?P<line>\d+):(?P<column>\d+): (?P<rest>.+)$")
#: Problems with a file's name or existence, not its text: they have no line to point at.
WHOLE_FILE = re.compile(r"^(?P<path>content/[\w./-]+): (the page name|image is too large|path must stay)")
#: Messages about a key itself (unknown, misspelt): the column is the key's, not its value's.
KEY_MESSAGES = ("unknown field", "duplicate key", "is not an option of this product")
#: The kinds of broken site the plan names for B6, each with its cases in the corpus.
PLAN_KINDS: dict[str, tuple[str, ...]] = {
    "missing price": ("missing price",),
    "negative stock": ("negative stock",),
    "the same SKU in two files": ("same SKU in two files", "same id in two files"),
    "typo `prcie`": ("typo in a field name", "unknown product field"),
    "wrong type": ("wrong type",),
    "BOM or invalid UTF-8": ("not UTF-8", "invalid UTF-8 in the middle of a line", "BOM before a wrong value"),
    "tab indentation": ("tab indentation",),
    "unterminated quote": ("unterminated quote", "YAML syntax error in front matter"),
    "missing image": ("missing image file",),
    "unknown theme": ("unknown theme", "typo in a theme name"),
    "include cycle": ("include cycle (a theme that extends itself)",),
}
#: Seconds each case took, for the closing report of the slowest.
B6_SECONDS: dict[str, float] = {}


def check_column(site: Path, match: re.Match[str]) -> None:
    """The column points into the line: at the key for a key's problem, at the value (or the
    mapping a field is missing from) otherwise; past the end only where the parser stopped there."""
    raw = (site / match["path"]).read_bytes().replace(b"\xef\xbb\xbf", b"", 1)
    lines = raw.decode("utf-8", "replace").split("\n")
    line, column, rest = int(match["line"]), int(match["column"]), match["rest"]
    assert 1 <= line <= len(lines) and column >= 1, (line, column)
    text = lines[line - 1]
    assert column <= len(text) + 1, (text, column)
    here = text[column - 1 :]
    field = rest.split(": ", 1)[0] if ": " in rest and not rest.startswith(("YAML", "a tab")) else ""
    if any(m in rest for m in KEY_MESSAGES) and field:
        key = re.split(r"[.\[]", field)[-1]
        assert here.startswith(key), (text, column, key)
    elif rest.startswith("a tab cannot indent"):
        assert here.startswith("\t"), (text, column)
    elif "syntax error" in rest:
        assert here == "" or not here[0].isspace(), (text, column)  # where the parser gave up
    else:
        assert here and not here[0].isspace(), (text, column)  # a value, a key, a shortcode, a bad byte


@pytest.mark.parametrize("name", list(CORPUS))
def test_B6_broken_site_golden_corpus(name: str, make_site: Callable[..., Path]) -> None:
    """B6: exit 1; every line `relative/path:line:column: field: message` as pinned, the column
    checked against the file; no traceback; < 2 s."""
    files, expected = CORPUS[name]
    site = make_site(files)
    for rel, raw in RAW_BYTES.get(name, {}).items():
        (site / rel).write_bytes(raw)
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["check", str(site)])
    elapsed = time.perf_counter() - started
    B6_SECONDS[name] = elapsed
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines == [*expected, f"{len(expected)} error" + ("s" if len(expected) != 1 else "")]
    for line in expected:
        match = LOCATION.match(line)
        if match:
            check_column(site, match)
        else:
            match = WHOLE_FILE.match(line)
        assert match and (site / match["path"]).exists(), line
        assert str(site) not in line  # relative, never the machine's absolute path
    if "typo" in name:
        assert any("did you mean" in line for line in expected)
    print(f"B6 {name}: {elapsed * 1000:.0f} ms")
    assert elapsed < 2, elapsed


def test_B6_corpus_size_and_valid_sites_exit_0(make_site: Callable[..., Path], tmp_path: Path) -> None:
    """B6: at least 30 broken sites in the corpus, covering every kind the plan names; valid sites
    (with a BOM, Windows line ends and `NO` as a tag) exit 0; the real process exits 1 with no
    traceback on a broken one."""
    assert len(CORPUS) >= 30, len(CORPUS)
    assert {kind: [c for c in cases if c not in CORPUS] for kind, cases in PLAN_KINDS.items()} == {
        kind: [] for kind in PLAN_KINDS
    }
    assert any("prcie: unknown field (did you mean 'price'?)" in line for line in CORPUS["typo in a field name"][1])
    if B6_SECONDS:  # the corpus ran in this session: the slowest case against the 2 s criterion
        slowest = max(B6_SECONDS, key=B6_SECONDS.__getitem__)
        print(f"B6: {len(B6_SECONDS)} of {len(CORPUS)} broken sites checked, slowest {B6_SECONDS[slowest]:.2f} s "
              f"({slowest}); criterion < 2 s")  # fmt: skip
    site = make_site()
    tea = textwrap.dedent(MINI_SITE["content/catalog/tea.yml"] or "").replace("tags: [green]", "tags: [green, NO]")
    (site / "content/catalog/tea.yml").write_bytes(b"\xef\xbb\xbf" + tea.replace("\n", "\r\n").encode())
    result = CliRunner().invoke(main, ["check", str(site)])
    assert result.exit_code == 0, result.stderr
    (site / "content/catalog/tea.yml").write_text(TEA + "  - id: a\n    title: A\n    prcie: 5\n", "utf-8")
    proc = subprocess.run([sys.executable, "-m", "generator", "check", str(site)], capture_output=True, text=True,
                          timeout=60, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "did you mean 'price'" in proc.stderr


# -- B7: Markdown ----------------------------------------------------------------------------------

MD_TOKENS = [
    "*", "_", "**", "[", "]", "(", ")", "<", ">", "`", "```", "#", "- ", "1. ", "> ", "\n", "\n\n", "    ", "|",
    "---", "![", "](", "javascript:alert(1)", "mailto:", "<script>", "&#x", ";", "\\", "~~", "http://x",
]  # fmt: skip
markdown_docs = st.lists(st.sampled_from(MD_TOKENS) | st.text(max_size=5), max_size=200).map("".join)


def timed_render(text: str) -> float:
    started = time.perf_counter()
    html = render_markdown(text)
    elapsed = time.perf_counter() - started
    assert "<script" not in html.lower()
    return elapsed


def test_B7_markdown_fuzz() -> None:
    """B7: 2,000 Hypothesis Markdown documents each render in < 1 s, RSS < 200 MB, no raw <script>."""
    worst = [0.0]
    n = [0]
    rss_before = peak_rss_mb()

    @settings(max_examples=count(2_000, 2_000))
    @given(markdown_docs)
    def run(text: str) -> None:
        n[0] += 1
        worst[0] = max(worst[0], timed_render(text))
        assert worst[0] < 1

    run()
    grown = peak_rss_mb() - rss_before  # the test process's peak; the DoS corpus measures a fresh child
    assert grown < 200, grown
    print(f"B7: {n[0]} documents, slowest {worst[0] * 1000:.1f} ms, peak RSS +{grown:.0f} MB")


DOS = {
    "10k nested >": "> " * 10_000 + "deep",
    "10k nested [": "[" * 10_000 + "x" + "]" * 10_000,
    "deeply nested lists": "".join("  " * i + "- item\n" for i in range(700)),
    "1 MB of *": "*" * 1_000_000,
    "1 MB of _": "_" * 1_000_000,
    "1 MB of *a": "*a" * 500_000,
    "50k mailto:": "mailto:" * 50_000,
    "50k <mailto:": "<mailto:a@b.c " * 50_000,
    "malformed HTML": "<div><span><a href='javascript:x'>" * 20_000,
    "link refs": "[a]: /u\n" * 20_000 + "[a] " * 20_000,
    "backticks": "`" * 100_000 + "x",
    "emphasis ladder": "".join("*" * i + "a" for i in range(1, 1_000)),
    "malformed HTML in 200 KB": "<div><span><a href='javascript:x'>" * 5_800,
    "*a in 200 KB": "*a" * 99_000,
    # the worst shapes just under the limits, which are parsed as Markdown
    "mailto: at the size limit": "mailto:" * 28_000,
    "*a at the limit": "*a" * (MAX_EMPHASIS_MARKS // 2),
    "ladder at the limit": "".join("*" * i + "a" for i in range(1, 199)),
    "[ at the limit": "[" * MAX_BRACKETS,
    "[* at the limit": "[*" * MAX_BRACKETS + "a" + "*]" * MAX_BRACKETS,
    "links at the limit": "[a]: /u\n" * 10 + "[a] " * (MAX_BRACKETS - 10),
    "< at the limit": "<mailto:a@b.c " * MAX_ANGLE_BRACKETS,
    "indent at the limit": "".join(" " * i + "- item\n" for i in range(0, MAX_INDENT, 2)),
    "200 KB of prose": ("The tea grows on the hill above the lake, picked by hand. " * 17 + "\n\n") * 200,
}


@pytest.mark.parametrize("name", list(DOS))
def test_B7_markdown_dos_corpus(name: str, make_site: Callable[..., Path]) -> None:
    """B7: each DoS document renders in < 1 s with the process's RSS < 200 MB (measured in a child);
    those past a limit are refused by the loader with an error naming the file and line."""
    text = DOS[name]
    code = ("import resource,sys,time;from generator.markup import render_markdown;t=sys.stdin.read();"
            "s=time.perf_counter();render_markdown(t);e=time.perf_counter()-s;"
            "print(e, " + PEAK_RSS + ")")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-500:]
    seconds, rss = map(float, proc.stdout.split())
    assert seconds < 1 and rss < 200, (seconds, rss)
    problem = markdown_problem(text)
    if "limit" in name or "prose" in name:
        assert problem is None  # parsed as Markdown, within the limits
    elif problem is not None:
        site = make_site({"content/pages/about.md": "---\ntitle: About\n---\n" + text})
        result = CliRunner().invoke(main, ["check", str(site)])
        assert result.exit_code == 1 and f"content/pages/about.md:4:1: text {problem}" in result.stderr
    print(f"B7 {name}: {seconds * 1000:.0f} ms, RSS {rss:.0f} MB, {problem or 'rendered'}")


def test_B7_front_matter_over_1_mb_is_refused(make_site: Callable[..., Path]) -> None:
    """B7: a page whose front matter is 10 MB is refused with an error (not parsed), quickly."""
    big = "---\ntitle: Big\n" + "".join(f"k{i}: {'v' * 30}\n" for i in range(300_000)) + "---\nText\n"
    site = make_site({"content/pages/about.md": big})
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["check", str(site)])
    assert result.exit_code == 1
    assert "content/pages/about.md:2:1: front matter is larger than 1 MB" in result.stderr
    assert time.perf_counter() - started < 5


@pytest.mark.timeout(900)
def test_B5_atheris_extended(tmp_path: Path) -> None:
    """B5 (extended tier): atheris, coverage-guided, on the YAML and Markdown loaders for 10 minutes:
    no input raises anything but YamlError. Skipped in CI (atheris is not a CI dependency)."""
    if not EXTENDED:
        pytest.skip("extended tier only (MICROMALL_EXTENDED=1)")
    pytest.importorskip("atheris", reason="atheris is not installed (pip install atheris)")
    script = Path(__file__).with_name("fuzz_loaders.py")
    proc = subprocess.run([sys.executable, str(script), "-max_total_time=600", f"-artifact_prefix={tmp_path}/"],
                          capture_output=True, text=True, timeout=800,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})  # fmt: skip
    tail = proc.stderr[-3000:]
    assert proc.returncode == 0 and "Done" in tail, tail
    assert list(tmp_path.glob("crash-*")) == []
    print("B5 atheris:", [line for line in tail.splitlines() if line.startswith("Done")])
