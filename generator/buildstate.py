"""What a build hands to the next one (see depends.py), and how it is kept in the cache folder.

The state of a 10,000-product shop holds some 200,000 dependency keys and 40,000 price
records, and a build with nothing changed must read it in a fraction of a second. So the
saved form is compact, and read only as far as a build needs it:

- dependency keys are written once, in a table, and each page lists the indexes of its own;
- what each product page states about prices, and what the data files state, stay JSON text
  until a build needs them (one that renders a page again, or whose data files changed):
  the pages not rendered again carry their text over to the next save unread;
- a build that changes nothing does not write the file again.

JSON, never pickle: the cache folder sits in the shop's folder and may come with a shop
someone else made, so reading it must not be able to run code (docs/security.md). A torn,
foreign or hand-made file, or one with any value of the wrong type, is ignored: it only
means that every page is rendered.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .truth import DataOffers, Offer, Offers

#: Raise when the saved form changes: older saved states are then ignored.
STATE_VERSION = 3

PageOffers = dict[str, Offers]  # what one product page states, by where on the page (truth.py)
Stamp = tuple[int, int]  # a file's size and modification time (ns)


@dataclass
class BuildState:
    """What a build reuses from the build before it (see depends.py): the keys each page
    depends on, their fingerprints, and a fingerprint of each page's own metadata; what each
    product page states about prices (for the truth check of a page not rendered again); the
    size and time of each file as written (a page changed by hand is rendered again); and
    fingerprints of everything every page may show (`inputs`: templates, theme, code, ...)
    and of what the data files show (`data`).

    The preview server keeps it in memory; every build also saves it in the cache folder, so
    that a build with nothing changed renders nothing. Page offers and data offers read from
    the file stay JSON text (`offers_json`, `data_offers_json`) until asked for."""

    deps: dict[str, frozenset[str]]
    prints: dict[str, int]
    metas: dict[str, int]
    offers: dict[str, PageOffers] = field(default_factory=dict)
    stamps: dict[str, Stamp] = field(default_factory=dict)
    inputs: int = 0
    data: int = 0
    data_offers: DataOffers | None = None  # what the data files state (truth.py)
    offers_json: dict[str, str] = field(default_factory=dict)  # page offers not read yet
    data_offers_json: str | None = None  # data offers not read yet
    saved: Stamp | None = field(default=None, compare=False)  # the state file as this state was read or written

    def has_offers(self, page: str) -> bool:
        return page in self.offers or page in self.offers_json

    def page_offers(self, page: str) -> PageOffers | None:
        """What a product page states, read from its JSON text the first time it is asked for;
        None when unknown or unreadable (the page is then read back from the output)."""
        found = self.offers.get(page)
        if found is None and page in self.offers_json:
            try:
                found = _page_offers(json.loads(self.offers_json[page]))
            except (ValueError, TypeError, AttributeError):
                return None
            self.offers[page] = found
            del self.offers_json[page]
        return found

    def carry_offers(self, page: str, previous: BuildState) -> None:
        """Keep what the last build knew of a page it rendered and this one did not, as read or unread."""
        if page in previous.offers:
            self.offers[page] = previous.offers[page]
        elif page in previous.offers_json:
            self.offers_json[page] = previous.offers_json[page]

    def known_data_offers(self) -> DataOffers | None:
        """What the data files stated at the last build, read from its JSON text when needed."""
        if self.data_offers is None and self.data_offers_json is not None:
            try:
                self.data_offers = _data_offers(json.loads(self.data_offers_json))
            except (ValueError, TypeError, AttributeError, KeyError):
                self.data_offers = None
            self.data_offers_json = None
        return self.data_offers


def _offer(value: Any) -> Offer:
    minor, currency, in_stock = value
    if not (minor is None or type(minor) is int) or type(currency) is not str or type(in_stock) is not bool:
        raise ValueError("not an offer")
    return (minor, currency, in_stock)


def _offers(raw: dict[str, list[Any]]) -> Offers:
    return {str(k): _offer(v) for k, v in raw.items()}


def _page_offers(raw: dict[str, dict[str, list[Any]]]) -> PageOffers:
    return {str(where): _offers(by) for where, by in raw.items()}


def _data_offers(raw: dict[str, Any]) -> DataOffers:
    return DataOffers(
        {str(pid): _offers(by) for pid, by in raw["reference"].items()},
        {str(name): {str(pid): _offers(by) for pid, by in feed.items()} for name, feed in raw["feeds"].items()},
    )


def _offers_text(offers: PageOffers | Offers | dict[str, Any]) -> str:
    return json.dumps(offers, separators=(",", ":"), ensure_ascii=False)


def _data_offers_text(data: DataOffers) -> str:
    return _offers_text({"reference": data.reference, "feeds": data.feeds})


def file_stamp(file: Path | str) -> Stamp | None:
    try:
        st = os.stat(file)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def to_json(state: BuildState) -> dict[str, Any]:
    """The saved form: a table of dependency keys, and each page's record by its output path:
    [metadata fingerprint, [dependency key indexes], offers as JSON text or null]."""
    index: dict[str, int] = {}
    for key in state.prints:
        index.setdefault(key, len(index))
    pages: dict[str, list[Any]] = {}
    for page, meta in state.metas.items():
        deps = state.deps.get(page)
        if deps is None:
            continue  # not rendered (a failed build saves no state; a page without deps is rendered again)
        offers = state.offers.get(page)
        text = _offers_text(offers) if offers is not None else state.offers_json.get(page)
        pages[page] = [meta, [index[k] if k in index else index.setdefault(k, len(index)) for k in deps], text]
    prints = state.prints
    data = state.data_offers
    return {
        "keys": list(index),
        "prints": [prints.get(k) for k in index],
        "pages": pages,
        "stamps": {path: list(stamp) for path, stamp in state.stamps.items()},
        "inputs": state.inputs,
        "data": state.data,
        "data_offers": _data_offers_text(data) if data is not None else state.data_offers_json,
    }


def _int(value: Any) -> int:
    if type(value) is not int:
        raise ValueError("not a fingerprint")
    return value


def from_json(raw: dict[str, Any]) -> BuildState:
    """A saved state read back; any value of the wrong type raises (the state is then ignored).
    The offers are checked when they are read (`page_offers`, `known_data_offers`)."""
    keys = raw["keys"]
    if type(keys) is not list or not all(type(k) is str for k in keys):
        raise ValueError("not a key table")
    prints = {k: _int(p) for k, p in zip(keys, raw["prints"], strict=True) if p is not None}
    take = keys.__getitem__
    deps: dict[str, frozenset[str]] = {}
    metas: dict[str, int] = {}
    offers_json: dict[str, str] = {}
    for page, (meta, indexes, offers) in raw["pages"].items():
        metas[page] = _int(meta)
        if not all(type(n) is int and n >= 0 for n in indexes):
            raise ValueError("not a key index")
        deps[page] = frozenset(map(take, indexes))
        if offers is not None:
            if type(offers) is not str:
                raise ValueError("not offers")
            offers_json[page] = offers
    stamps = {path: (_int(size), _int(time)) for path, (size, time) in raw["stamps"].items()}
    data = raw["data_offers"]
    if data is not None and type(data) is not str:
        raise ValueError("not offers")
    return BuildState(
        deps=deps, prints=prints, metas=metas, stamps=stamps, inputs=_int(raw["inputs"]), data=_int(raw["data"]),
        offers_json=offers_json, data_offers_json=data,
    )  # fmt: skip


def load_state(file: Path) -> BuildState | None:
    """The saved state, or None when there is none, it is unreadable, or of another version."""
    try:
        with open(file, "rb") as fh:
            stamp = os.fstat(fh.fileno())
            saved = json.loads(fh.read())
        if saved.get("version") != STATE_VERSION:
            return None
        state = from_json(saved["state"])
    except Exception:  # a torn, foreign or hand-made file only means a full render
        return None
    state.saved = (stamp.st_size, stamp.st_mtime_ns)
    return state


def save_state(file: Path, state: BuildState, previous: BuildState | None = None) -> None:
    """Write the state, unless it is the one `previous` was read as and the file still holds it."""
    if previous is not None and previous.saved is not None and state == previous and file_stamp(file) == previous.saved:
        state.saved = previous.saved
        return
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    body = {"version": STATE_VERSION, "state": to_json(state)}
    tmp.write_text(json.dumps(body, separators=(",", ":"), ensure_ascii=False), "utf-8")
    os.replace(tmp, file)
    state.saved = file_stamp(file)
