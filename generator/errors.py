"""Problems found in a shop's content, and the few exceptions the CLI maps to exit codes.

A content mistake is data (a `Problem`), not an exception: loaders collect every problem they
find so that a shop owner sees all of them in one run. Only the phase boundary raises, once.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in the content, located as precisely as the loader knows."""

    path: str  # relative to the site directory, with forward slashes
    line: int  # 1-based; 0 when the problem concerns the whole file
    # 1-based, in characters; 0 when unknown (a template's line). Keyword-only so that the
    # many `Problem(path, line, field, message)` calls stay as they are, but compared right
    # after the line: problems on one line are listed left to right.
    column: int = dataclasses.field(default=0, kw_only=True)
    field: str  # dotted field path such as products[3].price; "" when none applies
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        # path:line:column is the form editors and terminals turn into a link to the spot
        where = self.path
        if self.line:
            where += f":{self.line}:{self.column}" if self.column else f":{self.line}"
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        if self.field:
            return f"{where}: {prefix}{self.field}: {self.message}"
        return f"{where}: {prefix}{self.message}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' suffix for a misspelt key or id, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def count_line(problems: Iterable[Problem]) -> str:
    """'2 errors, 1 warning': the closing line of a problem report."""
    problems = list(problems)
    errors = sum(1 for p in problems if p.severity is Severity.ERROR)
    warnings = len(problems) - errors

    def plural(n: int, word: str) -> str:
        return f"{n} {word}" if n == 1 else f"{n} {word}s"

    parts = [plural(errors, "error")]
    if warnings:
        parts.append(plural(warnings, "warning"))
    return ", ".join(parts)


class MicromallError(Exception):
    """Base of the errors that are the user's to fix; the CLI prints them without a traceback."""

    exit_code = 1


class ContentError(MicromallError):
    """The content has errors; the build stops before writing anything."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__(count_line(self.problems))


class UsageError(MicromallError):
    """The command was called wrongly (a missing site directory, a bad option)."""

    exit_code = 2
