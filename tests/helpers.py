"""Small helpers shared by tests: run the CLI in-process, write a spec to a temp file."""
from __future__ import annotations

import textwrap
from pathlib import Path

from archcalc.cli import main


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``archcalc ARGS`` through the real entry point; return (status, stdout, stderr)."""
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def write_spec(tmp_path: Path, text: str, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path
