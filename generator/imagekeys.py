"""The cache key of a drawing, fast: what `cache.key_of` computes, without building a plain
tree and walking it again in json.dumps.

A build of 10,000 products keys some 50,000 drawings (a card, two posters and a QR code per
product, and every photo's sizes), and `cache.key_of` spends about 50 µs on each. Here the
JSON text is written directly, and the JSON of the objects every picture of a shop shares
(the fonts, the palette, the logo, a product's photo) is written once.

The text must be exactly the one `cache.key_of` hashes: keys name the cached images and are
part of every published image URL (?v=), so another text would redraw every image and change
every page. tests/test_image_keys.py compares the two. (This module is not in
cache.DRAWING_MODULES: changing how a key is computed must not change any key.)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from .cache import code_version

#: The keyed field names of each dataclass, sorted, each with its JSON key and colon.
_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}
#: The JSON of frozen dataclass instances seen lately, by id (holding the instance, so that
#: the id stays its own).
_SEEN: dict[int, tuple[object, str]] = {}
_SEEN_MAX = 4096
_string = json.encoder.encode_basestring  # what json.dumps writes for a str with ensure_ascii=False


def key_of(spec: object) -> str:
    """The sha256 of a drawing's inputs, as `cache.key_of` computes it."""
    body = _encode_fields(spec) if dataclasses.is_dataclass(spec) else _encode(spec)  # the spec is not kept
    text = f'{{"class":{_string(type(spec).__qualname__)},"code":"{code_version()}","spec":{body}}}'
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _keyed_fields(cls: type) -> tuple[tuple[str, str], ...]:
    """(field name, its JSON key and colon) of a dataclass's keyed fields (see cache.key_of), sorted."""
    names = _FIELDS.get(cls)
    if names is None:
        found = sorted(f.name for f in dataclasses.fields(cls) if f.metadata.get("key", True) and f.init)
        names = _FIELDS[cls] = tuple((name, _string(name) + ":") for name in found)
    return names


def _encode_fields(value: Any) -> str:
    """A dataclass instance's keyed fields as a JSON object (string fields, the most common,
    written without a call of `_encode` each)."""
    parts = []
    for name, key in _keyed_fields(type(value)):
        field = getattr(value, name)
        parts.append(key + (_string(field) if type(field) is str else _encode(field)))
    return "{" + ",".join(parts) + "}"


def _encode(value: Any) -> str:
    """`value` as json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":")) writes
    cache._plain(value)."""
    cls = type(value)
    if cls is str:
        return _string(value)
    if cls in _FIELDS or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        seen = _SEEN.get(id(value))
        if seen is not None and seen[0] is value:
            return seen[1]
        text = _encode_fields(value)
        if cls.__dataclass_params__.frozen:
            if len(_SEEN) > _SEEN_MAX:
                _SEEN.clear()
            _SEEN[id(value)] = (value, text)
        return text
    if isinstance(value, (list, tuple)):
        return "[" + ",".join([_encode(v) for v in value]) + "]"
    if value is None:
        return "null"
    if isinstance(value, dict):
        items = {str(k): v for k, v in value.items()}
        return "{" + ",".join([_string(k) + ":" + _encode(items[k]) for k in sorted(items)]) + "}"
    if isinstance(value, str):
        return _string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return json.dumps(float(value))
    raise TypeError(f"cannot key a {type(value).__name__}")
