"""Coverage-guided fuzzing of the YAML and Markdown loaders with atheris (extended tier only).

Run by test_B5_atheris_extended when MICROMALL_EXTENDED=1, or by hand:
    python tests/reliability/fuzz_loaders.py -max_total_time=600 [corpus-dir]
Anything but the loaders' own errors (YamlError) is a crash; atheris saves the input.
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from generator.markup import markdown_problem, render_markdown
    from generator.yamlsafe import YamlError, decode, parse_yaml


def one_input(data: bytes) -> None:
    if not data:
        return
    if data[0] % 2:
        with contextlib.suppress(YamlError):
            parse_yaml(decode(data[1:]))
    else:
        text = data[1:].decode("utf-8", "replace")
        html = render_markdown(text)
        if markdown_problem(text) is None:
            assert "<script" not in html.lower()


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
