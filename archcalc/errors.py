"""The one exception family of archcalc and the single place that renders it.

Inner rules raise the bare fact (``kernel 7×7 is larger than the padded input 5×5``);
outer layers add where it happened (file, line, layer, key) with :meth:`ArchcalcError.at`,
so the message a user reads is compiler-style and one line long.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

#: Longest piece of user text (a name, a key, a value) quoted in a message; longer text is
#: cut with '…' so an error stays one readable line however long the spec's text is.
MAX_QUOTED = 200
#: Longest message printed; past it the message is cut with '…' (a value echoed whole
#: could otherwise fill the terminal).
MAX_MESSAGE = 2000

# control characters, line separators, and lone surrogates (a file name in bytes that are
# not UTF-8 arrives with them, and no terminal encoding can print one)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def one_line(text: Any) -> str:
    """``text`` with newlines and other control characters escaped (``\\n``), so that
    every message prints as exactly one line whatever user text it quotes."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


def quoted(text: Any, limit: int = MAX_QUOTED) -> str:
    """User text for a message: one line, at most ``limit`` characters."""
    line = one_line(text)
    return line if len(line) <= limit else line[:limit - 1] + "…"


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
        """``FILE:LINE: layer 'NAME': KEY: message`` on one line: user text in any part
        (a file name, a layer name, a key, a quoted value) has its newlines escaped."""
        where = ""
        if self.file:
            where = f"{quoted(self.file)}:{self.line}: " if self.line else f"{quoted(self.file)}: "
        elif self.line:
            where = f"line {self.line}: "
        who = f"layer '{quoted(self.layer)}': " if self.layer else ""
        what = f"{quoted(self.key)}: " if self.key else ""
        return quoted(f"{where}{who}{what}{self.message}", MAX_MESSAGE)

    def __str__(self) -> str:
        return self.render()


class SpecError(ArchcalcError):
    """The spec is malformed: YAML syntax, unknown keys, wrong value types."""


class ShapeError(ArchcalcError):
    """The spec is well formed but its shapes are impossible."""


#: Choices longer than this are not compared for a did-you-mean hint (difflib is quadratic).
MAX_HINT_WORD = 100


def did_you_mean(word: Any, choices: Iterable[Any]) -> str:
    """A ' (did you mean ...?)' hint, or '' when nothing is close.

    Any value is accepted (YAML may hand over a boolean or a number where a word was
    meant); everything is compared as text."""
    import difflib  # only when a name is wrong: a correct command never needs it

    word = str(word)
    if len(word) > MAX_HINT_WORD:
        return ""
    words = sorted({str(c) for c in choices if len(str(c)) <= MAX_HINT_WORD})
    close = difflib.get_close_matches(word, words, n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{quoted(c)}'" for c in close) + "?)"
