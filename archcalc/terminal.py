"""What the CLI asks of the terminal: its width, and a progress line on stderr.

Only the CLI imports this module.  Progress shows only when stderr is a terminal (and
not ``--quiet``): a pipe, a file or a test sees nothing of it.
"""
from __future__ import annotations

import os
import sys
import time

#: The width text tables fit when the output is not a terminal, and the least they take.
DEFAULT_WIDTH = 100
MIN_WIDTH = 20
#: Seconds between two redraws of a progress line.
REDRAW = 0.1


def terminal_width() -> int:
    """Columns a text table may use: $COLUMNS, else the terminal's width, else (output
    not a terminal) 100."""
    env = os.environ.get("COLUMNS", "").strip()
    if env.isascii() and env.isdigit() and 0 < len(env) <= 6:
        return max(int(env), MIN_WIDTH)
    if sys.stdout.isatty():
        import shutil

        return max(shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns, MIN_WIDTH)
    return DEFAULT_WIDTH


class Progress:
    """``label  done/total (percent)`` redrawn in place on stderr, at most every
    :data:`REDRAW` seconds, erased at the end.  A no-op unless ``shown``."""

    def __init__(self, label: str, total: int | None = None, shown: bool | None = None,
                 stream=None):
        self.stream = stream or sys.stderr
        self.shown = _is_terminal(self.stream) if shown is None else shown
        self.label, self.total, self.done = label, total, 0
        self._drawn, self._width = 0.0, 0

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> bool:
        if self.shown and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
        return False

    def update(self, n: int = 1, total: int | None = None) -> None:
        """``n`` more steps done (``total``, when given, sets how many there are)."""
        self.done += n
        if total is not None:
            self.total = total
        if not self.shown:
            return
        now = time.monotonic()
        if now - self._drawn < REDRAW and self.done != self.total:
            return
        self._drawn = now
        if self.total:
            text = f"{self.label}  {self.done:,}/{self.total:,} ({100 * self.done // self.total}%)"
        else:
            text = f"{self.label}  {self.done:,}"
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)


def progress(label: str, total: int | None = None, quiet: bool = False) -> Progress:
    """A :class:`Progress` on stderr, shown when stderr is a terminal and not ``quiet``."""
    return Progress(label, total, shown=False if quiet else None)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False
