"""content/stores.yml: the shop's offline stores, for pickup and the stores page."""

from __future__ import annotations

from collections.abc import Callable

from .fields import Obj, SourceFile
from .model import Image, Store

STORES_FILE_KEYS = ("stores",)
STORE_KEYS = ("id", "name", "address", "hours", "phone", "map_url", "image", "pickup")


def _check_url(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip().startswith(("https://", "http://")):
        return "must be an http(s) link such as https://maps.example.com/..."
    return None


def parse_stores(src: SourceFile, image: Callable[[Obj, str], Image | None]) -> list[Store]:
    root = src.obj(src.doc.data, (), STORES_FILE_KEYS)
    if root is None:
        return []
    stores: list[Store] = []
    seen: dict[str, int] = {}
    for path, item in root.items("stores", required=True):
        obj = src.obj(item, path, STORE_KEYS)
        if obj is None:
            continue
        sid = obj.unique_slug("id", seen, "store")
        name = obj.text("name", required=True)
        address = obj.text("address", required=True)
        obj.check("map_url", _check_url)
        map_url = obj.text("map_url")
        store = Store(
            id=sid,
            name=name,
            address=address,
            hours=tuple(obj.texts("hours", allow_single=True)),
            phone=obj.text("phone"),
            map_url=map_url if _check_url(map_url) is None else "",
            image=image(obj, "image"),
            pickup=obj.boolean("pickup", True),
        )
        if sid and name and address:
            stores.append(store)
    return stores
