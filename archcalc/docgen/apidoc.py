"""docs/api.md's examples, run: every ```python block in order, in one namespace, in a
scratch folder; what a block prints is the ```text block right after it.

:func:`refresh` rewrites those output blocks from a fresh run (``archcalc docs``), so the
figures the page shows are archcalc's, and ``docs --check`` (and tests/test_docs.py) fail
when they are stale; :func:`run` gives each block's code and output (tests/test_api_docs.py
checks every block runs and prints what the page shows).
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile

#: A python block, then, after at most one blank line, the text block of its output.
_EXAMPLE = re.compile(r"```python\n(?P<code>.*?)```\n(?P<out>\n?```text\n.*?```\n)?", re.S)


def examples(text: str) -> list[str]:
    """The code of every python block of a page, in order."""
    return [m["code"] for m in _EXAMPLE.finditer(text)]


def run(text: str) -> list[tuple[str, str]]:
    """(code, printed output) of each python block of ``text``, run in order in one
    namespace, in a temporary working folder."""
    namespace: dict = {"__name__": "__api_docs__"}
    results = []
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            for code in examples(text):
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    exec(compile(code, "docs/api.md", "exec"), namespace)  # noqa: S102 - our page
                results.append((code, out.getvalue()))
        finally:
            os.chdir(here)
    return results


def refresh(text: str) -> str:
    """``text`` with each python block followed by the text block of what it prints
    (none when it prints nothing)."""
    outputs = iter(out for _, out in run(text))

    def block(match) -> str:
        printed = next(outputs)
        if printed and not printed.endswith("\n"):
            printed += "\n"
        tail = f"\n```text\n{printed}```\n" if printed else ""
        return f"```python\n{match['code']}```\n{tail}"
    return _EXAMPLE.sub(block, text)
