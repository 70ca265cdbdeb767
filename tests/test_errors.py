"""Bad input gives one clear line naming file, line and layer, and exit status 2."""
import pytest

from .helpers import run_cli, write_spec

HEAD = """
name: bad
input: [3, 32, 32]
layers:
"""


def check(capsys, path, *fragments, args=()):
    status, out, err = run_cli(capsys, "table", str(path), *args)
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("archcalc: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


CASES = {
    "yaml_syntax": (HEAD + "  - {name: c1, type: conv, filters: 8, kernel: 3\n", ["model.yaml:5:", "YAML syntax"]),
    "unknown_type": (HEAD + "  - {name: c1, type: convv, filters: 8, kernel: 3}\n",
                     ["model.yaml:4:", "layer 'c1'", "unknown layer type 'convv'", "did you mean 'conv'"]),
    "unknown_key": (HEAD + "  - {name: c1, type: conv, filters: 8, kernal: 3}\n",
                    ["model.yaml:4:", "layer 'c1'", "unknown key 'kernal'", "did you mean 'kernel'"]),
    "missing_key": (HEAD + "  - {name: c1, type: conv, filters: 8}\n",
                    ["model.yaml:4:", "layer 'c1'", "missing required key 'kernel'"]),
    "non_positive": (HEAD + "  - {name: c1, type: conv, filters: 0, kernel: 3}\n",
                     ["model.yaml:4:", "layer 'c1'", "filters", "≥ 1, got 0"]),
    "non_integer": (HEAD + "  - {name: c1, type: conv, filters: 8, kernel: 2.5}\n",
                    ["model.yaml:4:", "layer 'c1'", "kernel", "got float 2.5"]),
    "output_below_one": (HEAD + "  - {name: c1, type: conv, filters: 8, kernel: 5, stride: 1}\n"
                         "  - {name: c2, type: conv, filters: 8, kernel: 30}\n",
                         ["model.yaml:5:", "layer 'c2'", "kernel 30×30 is larger than the padded input 28×28"]),
    "groups": (HEAD + "  - {name: c1, type: conv, filters: 8, kernel: 3, groups: 2}\n",
               ["model.yaml:4:", "layer 'c1'", "input channels 3 are not divisible by groups 2"]),
    "table_index": (HEAD + "  - {name: c1, type: conv, filters: 2, kernel: 3, connection_table: [[0, 1], [2, 3]]}\n",
                    ["model.yaml:4:", "layer 'c1'", "input map 3", "only 3 maps"]),
    "concat_mismatch": (HEAD + """  - name: mix
    type: concat
    branches:
      - [{name: a, type: conv, filters: 4, kernel: 3}]
      - [{name: b, type: conv, filters: 4, kernel: 1}]
""", ["model.yaml:4:", "layer 'mix'", "cannot concatenate", "4×30×30", "4×32×32"]),
    "residual_mismatch": (HEAD + """  - name: res
    type: residual
    body:
      - {name: a, type: conv, filters: 4, kernel: 3, padding: 1}
""", ["model.yaml:4:", "layer 'res'", "mismatched shapes", "4×32×32", "3×32×32"]),
    "duplicate_name": (HEAD + "  - {name: c1, type: relu}\n  - {name: c1, type: relu}\n",
                       ["model.yaml:5:", "layer 'c1'", "duplicate layer name", "line 4"]),
    "python_tag": ("name: bad\ninput: !!python/object/apply:os.system ['true']\nlayers: []\n",
                   ["model.yaml:2:", "YAML tag '!!python/object/apply:os.system' is not allowed"]),
    "empty_file": ("", ["model.yaml:", "empty"]),
    "bad_input": ("name: bad\ninput: [3, 0, 32]\nlayers:\n  - {type: relu}\n",
                  ["model.yaml:2:", "input must be [C, L], [C, H, W] or [C, D, H, W]"]),
    "unknown_top_key": (HEAD.replace("name: bad", "nmae: bad") + "  - {type: relu}\n",
                        ["model.yaml:1:", "unknown top-level key 'nmae'", "did you mean 'name'"]),
    "bad_choice": (HEAD + "  - {name: c1, type: conv, filters: 8, kernel: 3, activation: rleu}\n",
                   ["model.yaml:4:", "layer 'c1'", "activation", "did you mean 'relu'"]),
    "dense_needs_fixed_features": (HEAD + "  - {name: fc, type: dense, units: 10, in_features: 100}\n",
                                   ["model.yaml:4:", "layer 'fc'", "expects 100 input features, got 3,072"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_spec_gives_one_line_and_status_2(capsys, tmp_path, case):
    """Every malformed spec is reported on one line with its file, line and layer."""
    text, fragments = CASES[case]
    check(capsys, write_spec(tmp_path, text), *fragments)


def test_block_errors_name_the_instance_path(capsys, tmp_path):
    """An error inside a block names the instance's /-joined path and the block's line."""
    path = write_spec(tmp_path, HEAD + """  - {name: stage1, block: pair, args: {width: 8}}
blocks:
  pair:
    params: {width: ~}
    layers:
      - {name: a, type: conv, filters: $width, kernel: 3}
      - {name: b, type: conv, filters: $width, kernel: 40}
""")
    check(capsys, path, "model.yaml:10:", "layer 'stage1/b'", "larger than the padded input")


def test_block_argument_errors(capsys, tmp_path):
    """Unknown and missing block arguments are named, with a suggestion."""
    body = """blocks:
  pair:
    params: {width: ~}
    layers:
      - {name: a, type: conv, filters: $width, kernel: 3}
"""
    unknown = write_spec(tmp_path, HEAD + "  - {name: s, block: pair, args: {widht: 8}}\n" + body, "u.yaml")
    check(capsys, unknown, "u.yaml:4:", "unknown argument 'widht'", "did you mean 'width'")
    missing = write_spec(tmp_path, HEAD + "  - {name: s, block: pair}\n" + body, "m.yaml")
    check(capsys, missing, "m.yaml:4:", "needs argument 'width'")
    undefined = write_spec(tmp_path, HEAD + "  - {name: s, block: pair, args: {width: 8}}\n"
                           + body.replace("$width", "$wdth"), "e.yaml")
    check(capsys, undefined, "e.yaml:9:", "layer 's/a'", "unknown argument '$wdth'")


def test_unknown_model_lists_close_matches(capsys):
    status, out, err = run_cli(capsys, "table", "vgg61")
    assert status == 2 and out == ""
    assert err.count("\n") == 1
    assert "unknown model 'vgg61'" in err and "'vgg16'" in err


def test_missing_file(capsys, tmp_path):
    status, _, err = run_cli(capsys, "table", str(tmp_path / "nope.yaml"))
    assert status == 2 and "no such spec file" in err and err.count("\n") == 1


@pytest.mark.parametrize("args, fragment", [
    (["table", "alexnet", "--formt", "json"], "--formt"),
    (["table", "alexnet", "--format", "xml"], "xml"),
    (["table", "alexnet", "--batch", "0"], "0"),
    (["table", "alexnet", "--input", "3,abc,227"], "--input"),
    (["table", "alexnet", "--input", "3,0,227"], "--input"),
    (["table", "alexnet", "--dtype", "float8"], "float8"),
    (["tabel", "alexnet"], "tabel"),
])
def test_bad_arguments(capsys, args, fragment):
    """Wrong flags and values: one line, status 2."""
    status, out, err = run_cli(capsys, *args)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("archcalc: error: ") and fragment in err


def test_input_that_breaks_the_dense_head(capsys):
    """AlexNet's fc6 was made for 6×6×256 features; a 198 input gives 5×5×256 (conv1 47,
    then Caffe's ceil-mode pools 23, 11, 5; 224 gives 6×6 and runs)."""
    status, _, err = run_cli(capsys, "table", "alexnet", "--input", "3,198,198")
    assert status == 2
    assert "layer 'fc6'" in err and "expects 9,216 input features, got 6,400" in err


# --- hostile YAML: refused on one line, before anything is built -------------------------

def _bomb(levels: int = 9, width: int = 10) -> str:
    """'Billion laughs': each anchor lists the previous one ``width`` times."""
    lines = ["name: bomb", "input: [3, 8, 8]", "layers: [{type: relu}]",
             "notes: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"x{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


HOSTILE_YAML = {
    "alias_bomb": (_bomb(), ["model.yaml:", "expands to more than"]),
    "recursive_alias": (HEAD + "  - &a {type: concat, branches: [[*a], []]}\n",
                        ["model.yaml:4:", "recursive YAML alias '*a'"]),
    "merge_key": (HEAD + "  - {<<: {type: relu}, name: r}\n", ["model.yaml:4:", "merge keys"]),
    "deep_flow": (HEAD + "  - {type: relu, name: " + "[" * 5000 + "]" * 5000 + "}\n",
                  ["model.yaml:4:"]),
    "deep_block": ("name: x\ninput: [3, 8, 8]\nlayers:\n"
                   + "".join("  " * i + "- \n" for i in range(1, 80)),
                   ["model.yaml:", "deeper than 64"]),
    "long_integer": (HEAD + "  - {type: conv, filters: " + "9" * 5000 + ", kernel: 1}\n",
                     ["model.yaml:4:", "integer of 5000 digits"]),
    "bad_bool": (HEAD + "  - {type: conv, filters: 4, kernel: 1, bias: !!bool maybe}\n",
                 ["model.yaml:4:", "cannot read 'maybe' as true or false"]),
    "control_char": (HEAD + "  - {type: relu}\x00\n", ["model.yaml:4:", "#x0000"]),
    "two_documents": (HEAD + "  - {type: relu}\n---\nname: again\n", ["model.yaml:5:", "single document"]),
    "unknown_tag": (HEAD + "  - !relu {type: relu}\n", ["model.yaml:4:", "YAML tag '!relu'"]),
    "list_key": (HEAD + "  - {[a]: 1}\n", ["model.yaml:4:", "keys must be plain words"]),
    "newline_in_type": (HEAD + '  - {type: "con\\nv"}\n', ["model.yaml:4:", "'con\\nv'"]),
    "newline_in_key": (HEAD + '  - {type: relu, "ke\\ny": 1}\n', ["unknown key 'ke\\ny'"]),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_YAML))
def test_hostile_yaml_gives_one_line(capsys, tmp_path, case):
    """Alias bombs, recursion, deep nesting, huge literals, tags and control characters:
    each is one located line and status 2 (no RecursionError, MemoryError or hang)."""
    text, fragments = HOSTILE_YAML[case]
    check(capsys, write_spec(tmp_path, text), *fragments)


@pytest.mark.parametrize("which", ["pure", "c"])
def test_both_loaders_keep_lines_and_refuse_duplicates(which):
    """The C loader and the pure one build the same LineDicts, with the same lines."""
    from archcalc.spec import loader as spec

    loader = spec.PureLoader if which == "pure" else spec.LOADER
    doc = spec.parse_yaml("a: 1\nb:\n  c: [1, 2]\n  d: x\n", "f.yaml", loader)
    assert doc == {"a": 1, "b": {"c": [1, 2], "d": "x"}}
    assert doc.line_of("b") == 2 and doc["b"].line_of("d") == 4
    with pytest.raises(spec.SpecError, match="duplicate key 'a' .first at line 1"):
        spec.parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml", loader)


def test_the_c_loader_is_used_when_available():
    import yaml

    from archcalc.spec import loader as spec

    assert not yaml.__with_libyaml__ or issubclass(spec.LOADER, yaml.CSafeLoader)


def test_keys_are_text_not_yaml_booleans(capsys, tmp_path):
    """`on:` and `yes:` are words (YAML 1.1 would make them booleans): an option named
    `on` works, and a misspelt one gets a hint instead of a crash."""
    text = ("name: m\ninput: [3, 8, 8]\noptions: {on: true, yes: 2}\nlayers:\n"
            "  - {name: r, type: relu, when: $on}\n  - {name: s, type: sigmoid}\n")
    path = write_spec(tmp_path, text)
    status, out, _ = run_cli(capsys, "table", str(path), "--option", "on=false", "--format", "csv")
    assert status == 0 and [row.split(",")[0] for row in out.splitlines()] == ["name", "s", "total"]
    check(capsys, path, "unknown option 'onn'", "did you mean 'on'", args=("--option", "onn=1"))


def test_spec_larger_than_the_cap(capsys, tmp_path):
    from archcalc.spec.loader import MAX_SPEC_BYTES

    path = tmp_path / "model.yaml"
    path.write_text(HEAD + "  - {type: relu}\n" + "#" * MAX_SPEC_BYTES + "\n", encoding="utf-8")
    check(capsys, path, "larger than")


# --- expressions: hostile text is a SpecError, never a TypeError or RecursionError -------

@pytest.mark.parametrize("text, fragment", [
    ("$k < $s", "not both integers or both strings: an integer and a string"),
    ("-$s", "negates a non-integer"),
    ("$s * 2", "arithmetic on a non-integer"),
    ("$k" + " + 1" * 200, "at most 500"),
    ("$k" + "+1" * 40, "nests deeper than 32"),
    ("-" * 40 + "$k", "nests deeper than 32"),
    ("(" * 220 + "$k" + ")" * 220, "cannot read expression"),
    ("$k * 10000000000 * 10000000000 * 10000000000", "beyond ±10^30"),
    ("$k + 1\x00", "cannot read expression '$k + 1\\x00'"),
    ("$k if $k else 2", "uses something other than"),
])
def test_rejected_expressions(text, fragment):
    """Each hostile expression is refused with a one-line SpecError saying why."""
    from archcalc.errors import SpecError
    from archcalc.spec.expr import evaluate

    with pytest.raises(SpecError) as info:
        evaluate(text, {"k": 3, "s": "x"})
    assert fragment in info.value.render() and "\n" not in info.value.render()


@pytest.mark.parametrize("text, value", [
    ("$k < 4 < 5", True), ("$s == 'x'", True), ("$s < 'y'", True), ("$k == $s", False),
    ("[$k, [$k * 2]]", [3, [6]]), ("$k * 10 ** 0", None),
])
def test_accepted_expressions(text, value):
    """Comparisons of like values, equality of any two, nested lists; ** stays refused."""
    from archcalc.errors import SpecError
    from archcalc.spec.expr import evaluate

    if value is None:
        with pytest.raises(SpecError):
            evaluate(text, {"k": 3, "s": "x"})
    else:
        assert evaluate(text, {"k": 3, "s": "x"}) == value


def test_when_comparing_a_string_is_located(capsys, tmp_path):
    """The issue's `when: "$k < $s"` with a string argument: one line naming the layer."""
    path = write_spec(tmp_path, HEAD + """  - {name: s, block: b, args: {k: 1, s: wide}}
blocks:
  b:
    params: {k: ~, s: ~}
    layers:
      - {name: r, type: relu, when: "$k < $s"}
""")
    check(capsys, path, "model.yaml:9:", "when: expression '$k < $s'", "not both integers")


# --- sizes, numbers and published figures past the caps ----------------------------------

@pytest.mark.parametrize("layer, fragments", [
    ("{name: c, type: conv, filters: 1000000001, kernel: 1}", ["filters", "≤ 10^9", "1,000,000,001"]),
    ("{name: c, type: conv, filters: $big, kernel: 1}", ["filters", "≤ 10^9"]),
    ("{name: n, type: lrn, alpha: .inf}", ["alpha", "finite number"]),
    ("{name: n, type: lrn, beta: .nan}", ["beta", "finite number"]),
    ("{name: c, type: conv, filters: [" + ", ".join(["7"] * 5000) + "], kernel: 1}",
     ["filters", "list [7, 7, 7, 7, 7, 7, ...]"]),
])
def test_values_past_the_caps(capsys, tmp_path, layer, fragments):
    """Sizes over 10^9 and non-finite numbers are refused; long values are cut in messages."""
    text = HEAD.replace("layers:", "options: {big: 2000000000}\nlayers:") + f"  - {layer}\n"
    line = check(capsys, write_spec(tmp_path, text), "layer '", *fragments)
    assert len(line) < 400


def test_published_figure_with_too_many_digits(capsys, tmp_path):
    text = HEAD + "  - {name: r, type: relu}\npublished:\n" \
        "  - {figure: params, value: '" + "1" * 5000 + "M', source: x}\n"
    check(capsys, write_spec(tmp_path, text), "model.yaml:6:", "5,000 digits")


# --- expansion caps (archcalc.spec.build.MAX_LAYERS, MAX_NESTING) -----------------------------

BLOCKS = """blocks:
  one:
    layers:
      - {name: r, type: relu}
  many:
    layers:
      - {name: x, block: one, repeat: 1000}
  quiet:
    layers:
      - {name: r, type: relu, when: false}
"""


@pytest.mark.parametrize("use, fragments", [
    ("{name: s, block: one, repeat: 0}", ["model.yaml:4:", "layer 's'", "repeat", "≥ 1, got 0"]),
    ("{name: s, block: one, repeat: 1000000000}", ["model.yaml:4:", "layer 's'", "more than 10,000"]),
    ("{name: s, block: many, repeat: 1000}", ["model.yaml:", "more than 10,000"]),
    ("{name: s, block: quiet, repeat: 100000000}", ["model.yaml:", "more than 10,000"]),
    ("{name: s, block: off}", ["model.yaml:4:", "got boolean false", "quote"]),
    ("{name: s, block: [one]}", ["model.yaml:4:", "'block' names a block, got list ['one']"]),
    ("{name: s, block: {a: 1}}", ["model.yaml:4:", "'block' names a block, got a mapping"]),
])
def test_expansion_is_capped_and_located(capsys, tmp_path, use, fragments):
    """repeat: 0 is located; huge or nested repeats stop at the cap at once (no hang,
    even when every repetition is switched off); a list is no block name (no TypeError)."""
    import time

    started = time.perf_counter()
    check(capsys, write_spec(tmp_path, HEAD + f"  - {use}\n" + BLOCKS), *fragments)
    assert time.perf_counter() - started < 5


def test_nesting_of_layer_lists_is_capped(capsys, tmp_path):
    """Blocks of nested residuals, 16 blocks deep, nest 80 layer lists: refused, not a
    RecursionError in a later pass."""
    blocks = "".join(f"""  b{i}:
    layers:
      - type: residual
        name: n1
        body:
          - type: residual
            name: n2
            body:
              - type: residual
                name: n3
                body:
                  - type: residual
                    name: n4
                    body:
                      - {{block: b{i + 1}}}
""" for i in range(15)) + "  b15:\n    layers:\n      - {type: relu}\n"
    check(capsys, write_spec(tmp_path, HEAD + "  - {block: b0}\nblocks:\n" + blocks),
          "model.yaml:", "nest deeper than 64")


def test_too_many_published_entries(capsys, tmp_path):
    """Each entry may cost an analysis of its own: more than 200 are refused at once."""
    entries = "".join(f"  - {{figure: params, value: {i}, source: s, input: [3, {32 + i}, 32]}}\n"
                      for i in range(201))
    text = HEAD + "  - {name: r, type: relu}\npublished:\n" + entries
    check(capsys, write_spec(tmp_path, text), "model.yaml:5:", "201 entries; at most 200")


@pytest.mark.parametrize("text, fragments", [
    ("name: 0\ninput: [3, 8, 8]\nlayers: [{type: relu}]\n", ["model.yaml:1:", "name: expected a string"]),
    ("name: x\ninput: [3, 8, 8]\ndescription: [1]\nlayers: [{type: relu}]\n",
     ["model.yaml:3:", "description: expected a string"]),
    ("name: x\ninput: [3, 8, 8]\nlayers: [{type: relu}, 5]\n", ["model.yaml:", "layer 2 must be a mapping"]),
])
def test_top_level_errors_name_the_key_that_failed(capsys, tmp_path, text, fragments):
    """A bad 'name' is reported at its own line, not at the first top-level key present."""
    check(capsys, write_spec(tmp_path, text), *fragments)


@pytest.mark.parametrize("value, fragment", [
    ("010", "reads 010 as the octal number 8"), ("1:30", "reads 1:30 as the base 60 number 90")])
def test_yaml_11_integers_that_misread(capsys, tmp_path, value, fragment):
    """`filters: 010` would silently be 8 filters and `1:30` 90: refused with the reason."""
    text = HEAD + f"  - {{name: c, type: conv, filters: {value}, kernel: 1}}\n"
    check(capsys, write_spec(tmp_path, text), "model.yaml:4:", fragment)


@pytest.mark.parametrize("expression, fragment", [
    ("2 ** 8", "reproduced_by: expression '2 ** 8' uses something other"),
    ("'x'", "reproduced_by: must compute an integer, got 'x'"),
])
def test_reproduced_by_is_checked_where_it_is_written(capsys, tmp_path, expression, fragment):
    """A reproduction that is not integer arithmetic is refused at its entry's line when
    the spec loads (it reached `check` unlocated, and a string would crash the errata page)."""
    text = HEAD + "  - {name: r, type: relu}\npublished:\n" \
        f"  - {{figure: params, value: 1, source: s, erratum: e, reproduced_by: \"{expression}\"}}\n"
    check(capsys, write_spec(tmp_path, text), "model.yaml:6:", fragment)


@pytest.mark.parametrize("value, fragment", [
    ("!!int {b: 1}", "YAML tag '!!int' cannot be put on a mapping"),
    ("!!int [1]", "YAML tag '!!int' cannot be put on a list"),
    ("!!map [1]", "YAML tag '!!map' cannot be put on a list"),
    ("!!seq {a: 1}", "expected a sequence node, but found mapping"),
    ("!!int ''", "cannot read '' as an integer"),
    ("!!float '-'", "cannot read '-' as a number"),
])
def test_plain_tags_on_the_wrong_node(capsys, tmp_path, value, fragment):
    """An explicit plain tag on the wrong kind of node: one line (it was an AttributeError
    or a TypeError inside the constructor)."""
    check(capsys, write_spec(tmp_path, HEAD + f"  - {{type: relu, name: {value}}}\n"),
          "model.yaml:4:", fragment)
