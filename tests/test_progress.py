"""Progress on stderr for long commands: shown on a terminal, silent otherwise or --quiet."""
import io

import pytest

import archcalc.terminal as terminal
from archcalc.terminal import Progress

from .helpers import run_cli


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_line_is_redrawn_and_erased(monkeypatch):
    monkeypatch.setattr(terminal, "REDRAW", 0)
    stream = Tty()
    with Progress("sweep x", stream=stream) as bar:
        bar.update(1, 4)
        bar.update(3)
    text = stream.getvalue()
    assert "\rsweep x  1/4 (25%)" in text and "\rsweep x  4/4 (100%)" in text
    assert text.endswith("\r" + " " * len("sweep x  4/4 (100%)") + "\r")


def test_nothing_when_not_a_terminal():
    stream = io.StringIO()
    with Progress("sweep x", 10, stream=stream) as bar:
        bar.update(10)
    assert stream.getvalue() == "" and bar.done == 10


@pytest.mark.parametrize("args", [
    ["sweep", "resnet18", "--input", "3,64..80"],
    ["sizes", "lenet5", "--min", "20", "--max", "40"],
    ["verify", "lenet5"],
])
def test_long_commands_show_progress_on_a_terminal_only(capsys, monkeypatch, args):
    """On a terminal stderr holds a progress line (and nothing is left of it on stdout);
    with --quiet, or when stderr is a pipe (the test's default), stderr stays empty."""
    first = (lambda text: text.splitlines()[0]) if args[0] == "verify" else (lambda text: text)
    status, quiet_out, err = run_cli(capsys, *args)  # verify's timings vary: its first line
    quiet_out = first(quiet_out)
    assert status == 0 and err == ""
    monkeypatch.setattr(terminal, "_is_terminal", lambda stream: True)
    monkeypatch.setattr(terminal, "REDRAW", 0)
    status, out, err = run_cli(capsys, *args)
    assert status == 0 and first(out) == quiet_out
    assert f"\r{args[0]} " in err and "(100%)" in err
    status, out, err = run_cli(capsys, *args, "--quiet")
    assert status == 0 and err == "" and first(out) == quiet_out
