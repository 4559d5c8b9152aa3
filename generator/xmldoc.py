"""XML documents as bytes with a declaration: one place for the sitemap and the feeds."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def xml_text(value: str) -> str:
    """Element text escaped as ElementTree writes it: for documents written as text, line by
    line in ElementTree's layout, where building a tree of ten thousand elements costs more."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
