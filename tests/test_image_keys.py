"""imagekeys.key_of writes the JSON of a drawing's inputs itself, for speed; the keys name the
cached images and are part of every published image URL, so they must be exactly those of
cache.key_of (json.dumps of the plain tree)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from markupsafe import Markup

from generator.cache import key_of as reference_key
from generator.cards import CardSpec
from generator.draw import Fonts, Palette, SourceFile
from generator.imagekeys import key_of
from generator.qr import QrSpec


@dataclass(frozen=True)
class Inner:
    name: str
    size: tuple[int, int]
    skipped: str = field(default="path", metadata={"key": False})


@dataclass
class Mixed:
    text: str
    number: int
    ratio: float
    flag: bool
    nothing: None
    inner: Inner
    items: list[object]
    table: dict[object, object]
    markup: Markup
    later: int = field(default=0, init=False)


ODD_TEXTS = ['"quoted" \\ back', "tab\tnew\nline\x00\x1f", "中文 – ü ☕ 😀", "\u2028\u2029", ""]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_keys_equal_those_of_json_dumps_for_every_kind_of_value(text: str) -> None:
    inner = Inner(text, (3, -4))
    spec = Mixed(
        text=text,
        number=-12345678901234567890,
        ratio=0.1 + 0.2,
        flag=True,
        nothing=None,
        inner=inner,
        items=[inner, (1.5, False), [], {"b": 1, "a": [None]}, float("inf"), float("nan"), -0.0],
        table={2: "two", "10": inner, "1": {}, "z": text},
        markup=Markup(f"<b>{text}</b>"),
    )
    assert key_of(spec) == reference_key(spec)
    assert key_of(spec) == key_of(spec)  # the shared parts written once are written the same


def test_keys_of_real_drawings_are_unchanged() -> None:
    fonts = Fonts((), (("Noto", 2),))
    photo = SourceFile("/a/b.jpg", "ab" * 32)
    card = CardSpec(fonts=fonts, photo=photo, logo=None, palette=Palette(), title="Tea – 茶", subtitle="x\ny")
    for spec in (card, QrSpec("https://example.com/p/?ref=A&b=1")):
        assert key_of(spec) == reference_key(spec)


def test_a_key_follows_every_keyed_field_but_not_the_others() -> None:
    a = Inner("x", (1, 2), skipped="one")
    assert key_of(a) == key_of(Inner("x", (1, 2), skipped="two"))
    assert key_of(a) != key_of(Inner("x", (1, 3)))
    assert key_of(a) != key_of(Inner("y", (1, 2)))


def test_what_cannot_be_keyed_is_refused() -> None:
    with pytest.raises(TypeError):
        key_of(Mixed("", 0, 0.0, False, None, Inner("", (0, 0)), [object()], {}, Markup("")))
