"""Hostile and careless input never gives a traceback, a hang, a memory blow-up or a
multi-line error (issue #15).

The first part checks the closed forms that replaced per-element loops against those
loops.  The harness below mutates the bundled specs, writes hostile YAML and mutates
command lines, and runs each case in-process through ``archcalc.cli.main`` under a time
and a memory limit.  A case passes when the CLI exits 0 or 1 with output, or 2 with
exactly one stderr line starting ``archcalc: error:``.
"""
from __future__ import annotations

import contextlib
import copy
import io
import os
import shlex
import signal
import sys
import tempfile
import traceback
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archcalc.cli import main
from archcalc.core.shapes import ceildiv
from archcalc.layers import REGISTRY
from archcalc.spec.fields import spec_fields

# --- closed forms of what were loops over a user-given size ------------------------------

spans = st.integers(1, 300)


@given(spans, spans)
def test_adaptive_window_total_is_the_sum_of_its_windows(size, out):
    """size + out − gcd(size, out) = Σᵢ ⌈(i+1)·size/out⌉ − ⌊i·size/out⌋ (PyTorch's bins)."""
    from archcalc.layers.pool import adaptive_window_total

    assert adaptive_window_total(size, out) == sum(
        ceildiv((i + 1) * size, out) - (i * size) // out for i in range(out))


@given(spans, spans)
def test_largest_adaptive_bin_is_the_max_of_its_windows(size, out):
    """The receptive field's largest adaptive bin equals the largest window, by brute force."""
    from archcalc.layers.pool import largest_adaptive_window as _largest_bin

    assert _largest_bin(size, out) == max(
        ceildiv((i + 1) * size, out) - (i * size) // out for i in range(out))


@given(spans, st.integers(0, 40).map(lambda n: 2 * n + 1))
def test_lrn_window_total_is_the_sum_of_clipped_windows(channels, size):
    """The closed form equals Σ_c of the window [c − h, c + h] clipped to 0..C−1."""
    from archcalc.layers.norm import lrn_window_total

    half = size // 2
    assert lrn_window_total(channels, size) == sum(
        min(channels - 1, c + half) - max(0, c - half) + 1 for c in range(channels))


def test_closed_forms_take_no_time_on_huge_sizes():
    """10⁹ channels or bins: answered at once (they were loops of 10⁹ steps)."""
    import time

    from archcalc.layers.norm import lrn_window_total
    from archcalc.layers.pool import adaptive_window_total
    from archcalc.layers.pool import largest_adaptive_window as _largest_bin

    started = time.perf_counter()
    assert adaptive_window_total(10**9, 10**9 - 1) == 2 * 10**9 - 2
    assert _largest_bin(10**9, 3) == ceildiv(10**9 + 2, 3)
    assert lrn_window_total(10**9, 5) == 5 * 10**9 - 6
    assert time.perf_counter() - started < 0.1


# --- the harness: one case = one in-process run of the CLI under limits --------------------
#
# CI runs a modest, derandomized number of cases (HYPOTHESIS_PROFILE=ci).  A longer run:
#
#     ARCHCALC_FUZZ_EXAMPLES=2000 HYPOTHESIS_PROFILE=dev python -m pytest -q tests/test_fuzz.py
#
# (README.md, "Fuzzing").  ARCHCALC_FUZZ_SECONDS and ARCHCALC_FUZZ_MIB change the per-case
# time and memory limits.


SPECS = Path(__file__).resolve().parent.parent / "specs"
BUNDLED = tuple(sorted(p.stem for p in SPECS.glob("*.yaml")))
#: bundled models small enough to verify, scan and run symbolically in a fraction of a second
SMALL = ("lenet5", "lenet5_relu", "stack3x3", "conv7x7", "inception_naive",
         "inception_bottleneck", "nin", "alexnet", "zfnet", "squeezenet1_1")

EXAMPLES = int(os.environ.get("ARCHCALC_FUZZ_EXAMPLES", "0")) or None
SECONDS = float(os.environ.get("ARCHCALC_FUZZ_SECONDS", "20"))
MEMORY = int(os.environ.get("ARCHCALC_FUZZ_MIB", "512")) * 2**20
#: the address space a case may add before allocation fails outright (a backstop behind
#: the traced-memory limit, which sees a blow-up only after it happened)
BACKSTOP = 4 * 2**30


def fuzz_settings(ci_examples: int):
    """``ci_examples`` cases per test unless ARCHCALC_FUZZ_EXAMPLES says otherwise; the
    loaded profile decides derandomization (ci: derandomized)."""
    return settings(max_examples=EXAMPLES or ci_examples, deadline=None,
                    suppress_health_check=list(HealthCheck))


class CaseTimeout(BaseException):
    """Raised by the alarm inside a case that runs past its time limit (a BaseException,
    so no ``except Exception`` in the code under test can swallow it)."""


@dataclass
class Outcome:
    argv: list
    status: object = None
    out: str = ""
    err: str = ""
    crash: str = ""       # traceback of an exception that escaped main()
    peak: int = 0         # traced bytes at the peak
    spec: str = ""        # the spec text, for the reproducer

    def problem(self) -> str:
        """'' when the case passes, else what went wrong."""
        if self.crash:
            return f"exception escaped main():\n{self.crash}"
        if self.peak > MEMORY:
            return f"traced memory peaked at {self.peak / 2**20:.0f} MiB (limit {MEMORY / 2**20:.0f} MiB)"
        if self.status in (0, 1):
            return "" if (self.out or self.err) else f"exit {self.status} with no output"
        if self.status == 2:
            lines = self.err.splitlines()
            if len(lines) != 1 or not self.err.endswith("\n") or \
                    not lines[0].startswith("archcalc: error: "):
                return f"exit 2 without exactly one 'archcalc: error:' line:\n{self.err[:3000]}"
            return ""
        return f"exit status {self.status!r}"

    def reproducer(self) -> str:
        text = f"archcalc {shlex.join(str(a) for a in self.argv)}"
        if self.spec:
            shown = self.spec if len(self.spec) < 4000 else self.spec[:4000] + "\n… (cut)"
            text += f"\n--- spec ---\n{shown}\n--- end ---"
        return text


@contextlib.contextmanager
def _alarm(seconds: float):
    def ring(signum, frame):
        raise CaseTimeout(f"the case ran past {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _address_space(extra: int):
    """Lower the soft RLIMIT_AS to what the process maps now plus ``extra`` (Linux)."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = mapped + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_case(argv: list, spec: str = "", workdir: Path | None = None) -> Outcome:
    """Run ``archcalc ARGV`` in-process under the time and memory limits."""
    import archcalc.numeric.verify

    outcome = Outcome(list(argv), spec=spec)
    out, err = io.StringIO(), io.StringIO()
    traced = "verify" not in argv  # verify traces memory itself; tracing it twice skews it
    budget = archcalc.numeric.verify.available_memory
    archcalc.numeric.verify.available_memory = lambda *a, **k: MEMORY  # the machine, as far as verify knows
    cwd = os.getcwd()
    if traced:
        tracemalloc.start()
        tracemalloc.reset_peak()
    try:
        os.chdir(workdir or tempfile.gettempdir())
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                _address_space(BACKSTOP), _alarm(SECONDS):
            outcome.status = main([str(a) for a in argv])
    except BaseException:  # noqa: BLE001 - any escape is the finding, timeouts included
        outcome.crash = traceback.format_exc(limit=-12)
    finally:
        os.chdir(cwd)
        archcalc.numeric.verify.available_memory = budget
        if traced:
            outcome.peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    outcome.out, outcome.err = out.getvalue(), err.getvalue()
    return outcome


def assert_clean(outcome: Outcome) -> None:
    problem = outcome.problem()
    assert not problem, f"{problem}\nreproduce with:\n{outcome.reproducer()}"


@pytest.fixture(scope="module")
def workdir():
    """A scratch folder the cases run in (so `archcalc docs` finds no project there)."""
    with tempfile.TemporaryDirectory(prefix="archcalc-fuzz-") as folder:
        yield Path(folder)


def _spec_case(workdir: Path, text: str, argv_tail: list, name: str = "fuzzed.yaml") -> Outcome:
    path = workdir / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    command, *rest = argv_tail
    return run_case([command, str(path), *rest], spec=text, workdir=workdir)


def test_the_harness_sees_each_kind_of_failure(workdir, monkeypatch):
    """An escaped exception, a hang, a memory blow-up, a two-line error and a silent exit
    each fail the check: the harness would catch what it is meant to catch."""
    import archcalc.cli as cli

    def run_with(command):
        monkeypatch.setattr(cli, "cli", command)
        return run_case(["anything"], workdir=workdir).problem()

    class FakeCli:
        def __init__(self, body):
            self.body = body

        def main(self, **kwargs):
            return self.body()

    def crash():
        return {}["missing"]

    def hang():
        while True:
            pass

    def hog():
        blob = bytearray(MEMORY + 2**20)
        return len(blob) * 0

    def two_lines():
        print("archcalc: error: one\nand two", file=sys.stderr)
        return 2

    def silent():
        return 0

    assert "KeyError" in run_with(FakeCli(crash))
    assert "traced memory peaked" in run_with(FakeCli(hog))
    assert "exactly one" in run_with(FakeCli(two_lines))
    assert "no output" in run_with(FakeCli(silent))
    monkeypatch.setattr(f"{__name__}.SECONDS", 0.5)
    assert "CaseTimeout" in run_with(FakeCli(hang))


# --- strategies: hostile values, layers, mutations of the bundled specs ---------------------


NUMBERS = [0, -1, 1, 2, 3, 5, 7, 224, 10**9, 10**9 + 1, 2**31, 2**63, 10**29, -10**9,
           0.5, 2.5, 1e308, -0.0, float("inf"), float("nan")]
WORDS = ["", " ", "on", "yes", "no", "off", "null", "~", "same", "valid", "relu", "concat",
         "residual", "side", "block", "exact", "1.5M", "138M", "9" * 31 + "G", "a\nb", "tab\there",
         "x" * 300, "é✓", "a/b", "$", "$nope", "$k < $s", "$a * $a", "-$a", "[$a, $a]",
         "$a // 0", "$a " + "+ 1" * 80, "(" * 210 + "$a" + ")" * 210, "\x00", "\u2028"]
LISTS = [[], [[]], [1], [1, 2], [0, 0], [2, 3, 4], [[1, 2], [3, 4]], [[0, 1], [2]],
         [3, 10**9, 10**9], [3, 0, 7], ["a", 1], [[[[[[[[1]]]]]]]], [{"type": "relu"}]]
MAPS = [{}, {"type": "relu"}, {"a": 1}, {"type": "conv", "filters": 4, "kernel": 3},
        {"on": True}, {"block": "x"}, {"figure": "params", "value": 1, "source": "s"}]

hostile_values = st.one_of(
    # copies: a case mutates what it inserts, and the constants must stay as they are
    st.sampled_from(NUMBERS + WORDS + LISTS + MAPS + [None, True, False]).map(copy.deepcopy),
    st.integers(-10, 10**10),
    st.text(max_size=12),
    st.lists(st.integers(-1, 12), max_size=4),
    st.builds(lambda op, n: f"$a {op} {n}", st.sampled_from(["+", "*", "//", "%", "<", "=="]),
              st.integers(-3, 10**12)),
)

LAYER_TYPES = sorted(REGISTRY) + ["concat", "residual", "side", "convv", ""]
ATTRS = sorted({name for cls in REGISTRY.values() for name in spec_fields(cls)}
               | {"name", "when", "branches", "body", "shortcut", "layers", "repeat", "args"})
SIZES = st.one_of(st.integers(1, 12), st.sampled_from([1, 2, 3, 64, 10**9]),
                  st.lists(st.integers(0, 9), min_size=2, max_size=2))
SIZE_LIKE = st.one_of(st.integers(1, 8), st.sampled_from([0, 10**9, 10**9 - 1, 3 * 10**8]),
                      st.lists(st.integers(0, 9), min_size=2, max_size=2), hostile_values)


@st.composite
def layers(draw):
    """A layer mapping of any type with a few attributes, plausible or hostile."""
    layer = {"type": draw(st.sampled_from(LAYER_TYPES))}
    for key in draw(st.lists(st.sampled_from(ATTRS), max_size=4, unique=True)):
        layer[key] = draw(SIZE_LIKE)
    if layer["type"] == "concat" and draw(st.booleans()):
        layer["branches"] = [[], [{"type": "relu"}]]
    return layer


def _paths(node, path=()):
    """Every (path, value) in a parsed spec, containers included."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, path + (i,))


def _parent(doc, path):
    for step in path[:-1]:
        doc = doc[step]
    return doc


@st.composite
def mutated_specs(draw):
    """(base name, spec text): a bundled spec with one to three structural mutations —
    a value replaced, a key dropped, renamed or added, a layer inserted, a list item
    repeated or dropped — dumped back to YAML, sometimes with a text-level edit on top."""
    name = draw(st.sampled_from(BUNDLED))
    doc = yaml.safe_load((SPECS / f"{name}.yaml").read_text(encoding="utf-8"))
    if draw(st.booleans()):
        # gentle: one integer becomes another size, so the model often stays valid and
        # reaches the engine, the receptive fields, the formulas and the forward pass
        paths = [p for p, v in _paths(doc) if p and type(v) is int]
        if paths:
            path = draw(st.sampled_from(paths))
            _parent(doc, path)[path[-1]] = draw(st.sampled_from([1, 2, 3, 4, 7, 16, 64, 1000]))
            return name, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10**6)
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        paths = [p for p, _ in _paths(doc) if p]
        path = draw(st.sampled_from(paths))
        parent, last = _parent(doc, path), path[-1]
        op = draw(st.sampled_from(["size", "size", "size", "size", "value", "value", "drop",
                                   "rename", "add", "layer", "repeat_item"]))
        if op == "size" and isinstance(parent[last], (int, list)) and \
                not isinstance(parent[last], bool):
            # a plausible-looking size keeps the spec valid often enough to reach the engine
            parent[last] = draw(SIZES)
        elif op in ("size", "value"):
            parent[last] = draw(hostile_values)
        elif op == "drop":
            del parent[last]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(ATTRS + ["on", "yes", "a\nb", "published", "options"]))] = \
                parent.pop(last)
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(ATTRS + ["repeat", "first_args", "precision"]))] = \
                draw(SIZE_LIKE)
        elif op == "layer" and isinstance(parent, list):
            parent.insert(last, draw(layers()))
        elif op == "repeat_item" and isinstance(parent, list):
            parent.insert(last, parent[last])
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10**6)
    return name, draw(text_edits(text))


SNIPPETS = ["  - &a {type: relu}\n", "<<: *a\n", "\t", "!!python/none ", "? [a]\n: 1\n",
            "%YAML 1.1\n", "---\n", "...\n", "*undefined ", "&x ", "{", "[", "]", '"', "'",
            "\x00", "\x85", "\ufeff", "\r", "  - {type: relu}\n", "layers: []\n", "!!binary aGk=",
            "!!set {a}", "!!omap [a: 1]", "2001-02-30", "0x1F", "1_000", "0o17", "1:30", ".inf",
            "!!int ", "!!map ", "!!seq ", "!!str ", "!!float ", "!!bool ", "!!null ", "010"]


@st.composite
def text_edits(draw, text):
    """``text`` unchanged (mostly), or with a snippet inserted, a span cut, a line
    repeated, or the end truncated."""
    op = draw(st.sampled_from(["none"] * 6 + ["insert", "cut", "line", "truncate"]))
    if not text or op == "none":
        return text
    at = draw(st.integers(0, len(text)))
    if op == "insert":
        return text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
    if op == "cut":
        return text[:at] + text[at + draw(st.integers(1, 40)):]
    if op == "truncate":
        return text[:at]
    lines = text.splitlines(keepends=True)
    i = draw(st.integers(0, len(lines) - 1))
    return "".join(lines[:i + 1] + lines[i:])


def commands(base: str):
    """The command run on a fuzzed spec: tables in every format and mode, receptive
    fields, size scans, published-figure checks, and NumPy verification for the small."""
    small = base in SMALL
    options = [["table"], ["table", "--format", "json"], ["table", "--format", "markdown"],
               ["table", "--format", "csv"], ["table", "--format", "latex"], ["table", "--rf"],
               *[["table", "--convention", c] for c in ("torchinfo", "fvcore", "thop", "ptflops",
                                                         "flopcounter", "netscope")],
               ["table", "--columns", "name,comparisons,additions,multiplications,divisions,exponentials"],
               ["table", "--batch", "1000000000", "--dtype", "float64"], ["rf", "--format", "json"],
               ["rf"], ["check"], ["sizes", "--min", "20", "--max", "40"],
               ["table", "--depth", "1"], ["table", "--depth", "2", "--format", "json"],
               ["table", "--summary"], ["compare"], ["compare", "--format", "json"],
               ["graph"], ["graph", "--format", "dot", "--depth", "1"],
               ["sweep", "--input", "3,16..64..16", "--batch", "1,2"],
               ["html", "-o", "page.html"]]
    if small:
        options += [["table", "--symbolic"], ["verify"], ["sizes", "--max", "64"]]
    return st.sampled_from(options)


# --- the fuzz tests ----------------------------------------------------------------------

@fuzz_settings(ci_examples=150)
@given(spec=mutated_specs(), data=st.data())
def test_mutated_bundled_specs(workdir, spec, data):
    """Any mutation of any bundled spec, under any command: a clean exit or one error line."""
    base, text = spec
    argv = data.draw(commands(base), label="command")
    assert_clean(_spec_case(workdir, text, argv))


def _bomb(field: str, levels: int, width: int) -> str:
    anchors = "".join(f"_{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]\n"
                      for i in range(1, levels + 1))
    return (f"name: bomb\ninput: [3, 8, 8]\nlayers: [{{type: relu}}]\n_0: &l0 [lol, lol]\n"
            + anchors + f"{field}: *l{levels}\n")


@st.composite
def hostile_documents(draw):
    """Whole hostile specs: alias bombs aimed at a field, deep nesting, recursive aliases,
    repeats and nested repeats, huge sizes through layers that loop per element, huge
    literals, bad tags and bytes."""
    kind = draw(st.sampled_from(["bomb", "deep_flow", "deep_block", "recursive", "repeat",
                                 "nested_repeat", "huge_layer", "literal", "expression",
                                 "strided", "tags"]))
    head = "name: h\ninput: [3, 16, 16]\n"
    if kind == "bomb":
        field = draw(st.sampled_from(["notes", "input", "layers", "options", "published", "name",
                                      "blocks", "description"]))
        return _bomb(field, draw(st.integers(1, 9)), draw(st.integers(2, 12)))
    if kind == "deep_flow":
        n = draw(st.sampled_from([30, 63, 64, 65, 200, 5000, 100000]))
        return head + "layers: [{type: relu, name: " + "[" * n + "]" * n + "}]\n"
    if kind == "deep_block":
        n = draw(st.sampled_from([20, 62, 63, 64, 65, 300]))
        return head + "layers:\n" + "".join("  " * i + "-\n" for i in range(1, n))
    if kind == "recursive":
        return head + draw(st.sampled_from([
            "layers: &a [{type: concat, branches: [*a, []]}]\n",
            "layers:\n  - &r {type: residual, body: [*r]}\n",
            "options: &o {x: *o}\nlayers: [{type: relu}]\n"]))
    if kind in ("repeat", "nested_repeat"):
        outer = draw(st.sampled_from([0, 1, 3, 999, 3333, 10**6, 10**9, 10**12, "$n", "'7'"]))
        inner = draw(st.sampled_from([1, 2, 100, 10**4]))
        use = "{block: b, repeat: %s}" % (inner if kind == "nested_repeat" else 1)
        return (head + f"options: {{n: {draw(st.sampled_from([2, 10**9]))}}}\n"
                f"layers: [{{block: a, repeat: {outer}}}]\nblocks:\n"
                f"  a: {{layers: [{use}]}}\n  b: {{layers: [{{type: relu}}]}}\n")
    if kind == "huge_layer":
        big = draw(st.sampled_from([10**9, 10**9 - 1, 12345678, 10**30, 2**40]))
        layer = draw(st.sampled_from([
            f"{{type: adaptive_avgpool, output: {big}}}", f"{{type: adaptive_avgpool, output: [1, {big}]}}",
            f"{{type: conv, filters: {big}, kernel: 1}}", f"{{type: lrn, size: 5}}",
            f"{{type: dense, units: {big}}}", f"{{type: maxpool, kernel: 2, stride: {big}}}",
            f"{{type: conv, filters: 2, kernel: 3, padding: {big}}}",
            f"{{type: conv, filters: 2, kernel: 3, dilation: {big}}}"]))
        shape = draw(st.sampled_from(["[3, 16, 16]", f"[{big}, 4, 4]", f"[3, {big}, 2]",
                                      f"[{big}, {big}, {big}]"]))
        return f"name: h\ninput: {shape}\nlayers: [{layer}]\n"
    if kind == "strided":  # long chains of windows: nested formulas, growing jumps
        window = draw(st.sampled_from([
            "{type: maxpool, kernel: 1, stride: 1000000000, padding: same}",
            "{type: maxpool, kernel: 1, stride: [1, 3], ceil_mode: true}",
            "{type: avgpool, kernel: 1, stride: 2, padding: same}",
            "{type: conv, filters: 1, kernel: 1, stride: 2}",
            "{type: maxpool, kernel: 3, stride: 2, padding: 1}",
            "{type: adaptive_avgpool, output: 1000000000}"]))
        n = draw(st.sampled_from([1, 2, 3, 4, 5, 8, 33, 300, 600, 4999]))
        return (f"name: s\ninput: [1, {draw(st.sampled_from([16, 1000000]))}, 16]\n"
                f"layers: [{{block: b, repeat: {n}}}]\nblocks:\n  b: {{layers: [{window}]}}\n")
    if kind == "tags":  # an explicit plain tag on every kind of node
        tag = draw(st.sampled_from(["int", "float", "bool", "null", "str", "seq", "map",
                                    "timestamp", "binary", "set", "omap", "pairs", "merge"]))
        node = draw(st.sampled_from(["1", "x", "[1, 2]", "{a: 1}", "''", "2001-02-30", "~"]))
        where = draw(st.sampled_from(["input", "layers", "name", "options", "notes"]))
        return head.replace("input: [3, 16, 16]\n", "") + \
            f"input: [3, 16, 16]\nlayers: [{{type: relu}}]\n".replace(f"{where}: ", f"{where}: !!{tag} {node} #") \
            if where in ("input", "layers") else head + f"layers: [{{type: relu}}]\n{where}: !!{tag} {node}\n"
    if kind == "literal":
        digits = draw(st.sampled_from([29, 30, 31, 4300, 5000, 100000]))
        return head + f"layers: [{{type: conv, filters: {'7' * digits}, kernel: 1}}]\n"
    n = draw(st.sampled_from([10, 31, 32, 33, 120, 400, 10000]))
    expr = draw(st.sampled_from(["$a" + " + 1" * n, "-" * n + "$a", "(" * n + "$a" + ")" * n,
                                 "$a" + " * $a" * n, "not " * n + "$a"]))
    return head + f"options: {{a: 3}}\nlayers: [{{type: conv, filters: '{expr}', kernel: 1}}]\n"


@fuzz_settings(ci_examples=100)
@given(text=hostile_documents(), command=st.sampled_from(
    [["table"], ["table", "--format", "json"], ["rf"], ["sizes", "--max", "32"],
     ["table", "--symbolic"], ["check"], ["verify"]]))
def test_hostile_yaml(workdir, text, command):
    """Alias bombs, deep nesting, recursion, huge repeats, sizes and literals: no crash,
    hang or blow-up, whichever command reads them."""
    assert_clean(_spec_case(workdir, text, command))


FLAG_VALUES = ["", "0", "-1", "1", "3", "8", "1000000001", "9" * 50, "3,224", "3,32,32",
               "1,28,28", "3,0,8", "3,8,8,8", "x", "3x16x16", "3×20×20", "1:4", "4:1", "0:3",
               "1:1000000", "a\nb", "--", "relu", "name,macs", "bogus", "on=1", "aux_logits=true",
               "aux_logits=7", "=", "k=", "float16", "json", "3,8..64..8", "1..3", "2,4",
               "3,20..10", "aux_logits=true,false", "mermaid", "dot"]


@st.composite
def command_lines(draw):
    """A command, a model (bundled, missing, a folder or a device) and a few flags whose
    values are plausible, wrong or hostile."""
    command = draw(st.sampled_from(["table", "table", "rf", "sizes", "check", "verify",
                                    "docs", "list", "tabel", "--version", "--help", "plot",
                                    "compare", "sweep", "graph", "html"]))
    heavy = command in ("sizes", "verify", "sweep")
    pool = ["lenet5", "stack3x3", "inception_naive"] if command == "plot" else \
        SMALL if heavy else BUNDLED
    models = list(pool) + ["nope", "specs/none.yaml", ".", "/dev/null", "/", "-", "a\nb", "vgg61"]
    argv = [command]
    if command not in ("docs", "list", "--version", "--help"):
        argv.append(draw(st.sampled_from(models)))
    flags = {"table": ["--format", "--input", "--batch", "--dtype", "--option", "--convention",
                       "--columns", "--symbolic", "--rf"],
             "rf": ["--input", "--option", "--format"],
             "sizes": ["--min", "--max", "--height", "--width", "--option", "--format"],
             "check": ["--format"], "verify": ["--seed", "--batch", "--input", "--option",
                                              "--format", "--dtype"],
             "docs": ["--check", "--out"],
             "plot": ["--input", "--batch", "--depth"],
             "compare": ["--input", "--batch", "--format", "--columns", "--convention"],
             "sweep": ["--input", "--batch", "--option", "--format", "--quiet"],
             "graph": ["--format", "--depth", "--input", "--option"],
             "html": ["--input", "--batch", "--depth", "--option"]}.get(
                 command, ["--help", "--bogus"])
    if command == "table":
        flags = flags + ["--depth", "--summary", "--wide"]
    for flag in draw(st.lists(st.sampled_from(flags), max_size=4)):
        argv.append(flag)
        if flag in ("--symbolic", "--rf", "--check", "--help", "--summary", "--wide", "--quiet"):
            continue
        if flag == "--out":
            argv.append(draw(st.sampled_from(["nowhere", "/nonexistent/docs"])))
            continue
        argv.append(draw(st.sampled_from(FLAG_VALUES)))
    if command == "plot":  # relative paths only: the cases run in a scratch folder
        argv += ["-o", draw(st.sampled_from(["out.svg", "out.png", "out.pdf", "a/b/out.svg",
                                             ".", "out"]))]
    if command == "html":
        argv += ["-o", draw(st.sampled_from(["out.html", "out.txt", "a/b/out.html", "."]))]
    if command == "docs" and "--check" not in argv:
        argv.append("--check")  # writing every page takes half a minute: check instead
    if command == "sizes" and "--max" not in argv and "--height" not in argv:
        argv += ["--max", "48"]  # keep the default scan (1..512) out of the CI budget
    if command == "verify" and "--batch" in argv:
        argv[argv.index("--batch") + 1] = draw(st.sampled_from(["1", "2", "0", "x"]))
    return argv


@fuzz_settings(ci_examples=150)
@given(argv=command_lines())
def test_command_lines(workdir, argv):
    """Any mix of commands, models and flag values: a clean exit or one error line."""
    assert_clean(run_case(argv, workdir=workdir))


@fuzz_settings(ci_examples=60)
@given(text=st.one_of(hostile_documents(), mutated_specs().map(lambda spec: spec[1])))
def test_both_yaml_loaders_agree(text):
    """The pure-Python fallback loader and the C loader each either read a text or refuse
    it with a one-line SpecError (never another exception), and read the same data when
    both accept it.  (They may differ on what they accept: libyaml takes a byte-order
    mark in mid-stream, PyYAML does not.)"""
    from archcalc.spec import loader as spec
    from archcalc.errors import SpecError

    results = []
    for loader in (spec.PureLoader, spec.LOADER):
        try:
            results.append(("ok", spec.parse_yaml(text, "f.yaml", loader)))
        except SpecError as err:
            assert "\n" not in err.render()
            results.append(("error", None))
    if results[0][0] == results[1][0] == "ok":
        assert results[0] == results[1]
