"""A QR code drawn with text, so that a phone can open the preview straight from the terminal.

segno makes the matrix; this module only chooses the characters. On a colour terminal the code
is drawn black on white with explicit colours, so it reads the same on dark and light themes
(segno's own terminal output reverses the terminal's colours, which inverts the code on a light
theme). Without colours (a log file, NO_COLOR) light modules are drawn as ink, which is right for
the common dark terminal. When the output cannot encode Unicode half blocks, plain ASCII is used.
"""

from __future__ import annotations

import codecs
import os
from itertools import zip_longest
from typing import TextIO

import segno

#: Explicit black-on-white (30: black text, 107: bright white background), then back to normal.
INK_ON_PAPER, RESET = "\x1b[30;107m", "\x1b[0m"
#: Half blocks for (top, bottom) module pairs; True is a dark module. Drawn in ink (black).
HALF_BLOCKS = {(False, False): " ", (True, False): "\u2580", (False, True): "\u2584", (True, True): "\u2588"}


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR code of `text` with its quiet zone, one list per row, True for a dark module."""
    code = segno.make(text, error="m", micro=False)
    return [[bool(bit) for bit in row] for row in code.matrix_iter(scale=1, border=4)]


def render(matrix: list[list[bool]], *, unicode: bool, color: bool) -> str:
    """The matrix as lines of text. With `color` dark modules are black ink on a white
    background; without it the terminal's own foreground (usually light) draws the light ones."""
    ink = (lambda dark: dark) if color else (lambda dark: not dark)
    lines: list[str] = []
    if unicode:  # two rows per line: square modules at half the height
        pairs = zip_longest(matrix[0::2], matrix[1::2], fillvalue=[False] * len(matrix[0]))
        for top, bottom in pairs:
            lines.append("".join(HALF_BLOCKS[ink(a), ink(b)] for a, b in zip(top, bottom, strict=True)))
    else:  # two characters per module: about square in a terminal font
        for row in matrix:
            lines.append("".join("##" if ink(dark) else "  " for dark in row))
    if color:
        lines = [INK_ON_PAPER + line + RESET for line in lines]
    return "\n".join(lines) + "\n"


def can_encode(stream: TextIO, sample: str = "".join(HALF_BLOCKS.values())) -> bool:
    """Whether `stream` can write these characters (False for an ASCII or Latin-1 console)."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        codecs.lookup(encoding)
        sample.encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


def wants_color(stream: TextIO) -> bool:
    """Colours only on an interactive terminal, and not when NO_COLOR is set (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def terminal_qr(text: str, stream: TextIO) -> str:
    """The QR code of `text`, drawn for `stream`."""
    return render(qr_matrix(text), unicode=can_encode(stream), color=wants_color(stream))
