"""The one exception family of archcalc and the single place that renders it.

Inner rules raise the bare fact (``kernel 7×7 is larger than the padded input 5×5``);
outer layers add where it happened (file, line, layer, key) with :meth:`ArchcalcError.at`,
so the message a user reads is compiler-style and one line long.
"""
from __future__ import annotations

import difflib
from typing import Iterable


class ArchcalcError(Exception):
    """A user-facing error: bad spec, impossible shape, bad argument.

    The CLI prints :meth:`render` and exits with status 2.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 layer: str | None = None, key: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.layer = layer
        self.key = key

    def at(self, *, file: str | None = None, line: int | None = None,
           layer: str | None = None, key: str | None = None) -> "ArchcalcError":
        """Return a copy with missing location fields filled in (inner facts win)."""
        return type(self)(
            self.message,
            file=self.file or file,
            line=self.line or line,
            layer=self.layer or layer,
            key=self.key or key,
        )

    def render(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        elif self.line:
            where = f"line {self.line}: "
        who = f"layer '{self.layer}': " if self.layer else ""
        what = f"{self.key}: " if self.key else ""
        return f"{where}{who}{what}{self.message}"

    def __str__(self) -> str:
        return self.render()


class SpecError(ArchcalcError):
    """The spec is malformed: YAML syntax, unknown keys, wrong value types."""


class ShapeError(ArchcalcError):
    """The spec is well formed but its shapes are impossible."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean ...?)' hint, or '' when nothing is close."""
    close = difflib.get_close_matches(word, sorted(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"
