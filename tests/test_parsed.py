"""The store of parsed bundled specs (archcalc.spec.parsed): current, exactly the loader's
documents, lines included, and never used for a file that differs from the recorded one."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archcalc import analyse
from archcalc.errors import ArchcalcError
from archcalc.spec import catalog, parsed
from archcalc.spec.document import from_plain, to_plain
from archcalc.spec.loader import parse_yaml, read_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = catalog.specs_dir()
REGENERATE = "run `python -m archcalc.spec.parsed`"


def assert_same(a, b, where="document"):
    """Equal values of the same types (True is not 1), keys in the same order, and the
    same line for every mapping and every key."""
    assert type(a) is type(b), (where, a, b)
    if isinstance(a, dict):
        assert list(a) == list(b) and a.line == b.line and a.key_lines == b.key_lines, where
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@pytest.mark.parametrize("name", catalog.bundled_names())
def test_store_holds_every_bundled_spec_as_the_loader_reads_it(name):
    """Each bundled spec's entry records its file's current bytes and the very document
    the YAML loader makes of them."""
    path = SPECS / f"{name}.yaml"
    stored = parsed.document(path)
    assert stored is not None, f"specs/{name}.yaml is not in the store as it is: {REGENERATE}"
    assert_same(stored, read_spec(path, path.name))


def test_store_lists_no_spec_that_is_gone():
    assert sorted(parsed._entries(SPECS)) == list(catalog.bundled_names()), REGENERATE


def test_plain_form_keeps_types_lines_and_order():
    text = ("b: 1\na:\n  - true\n  - 1\n  - 1.5\n  - null\n  - {z: x, y: '2'}\nc: [[1], []]\n")
    doc = parse_yaml(text, "t.yaml")
    assert_same(from_plain(to_plain(doc)), doc)
    assert doc["a"][4].line_of("y") == 7 and from_plain(to_plain(doc))["a"][4].line_of("y") == 7


def test_each_document_is_built_anew():
    """Changing one loaded document changes no later one."""
    path = SPECS / "vgg16.yaml"
    first = parsed.document(path)
    first["layers"][0]["filters"] = 1
    assert parsed.document(path)["layers"][0]["filters"] == 64


def test_shared_nodes_are_left_to_the_yaml_loader(tmp_path):
    """A document with a YAML alias is not stored (copies would not share the node);
    loading it reads the YAML."""
    shared = "name: a\ninput: [3, 8, 8]\nlayers:\n  - &r {type: relu}\n  - *r\n"
    doc = parse_yaml(shared, "a.yaml")
    with pytest.raises(ValueError, match="shares a node"):
        to_plain(doc)
    (tmp_path / "a.yaml").write_text(shared, encoding="utf-8")
    shutil.copy(SPECS / "lenet5.yaml", tmp_path)
    (tmp_path / parsed.STORE).write_bytes(parsed.build(tmp_path))
    assert parsed.document(tmp_path / "a.yaml") is None
    assert parsed.document(tmp_path / "lenet5.yaml") is not None


def test_an_edited_bundled_spec_is_read_from_its_yaml(tmp_path, monkeypatch):
    """The store answers only for the recorded bytes: after an edit, loading the model
    gives the edited figures, and errors name the edited file's lines."""
    shutil.copy(SPECS / "vgg16.yaml", tmp_path)
    (tmp_path / parsed.STORE).write_bytes(parsed.build(tmp_path))
    monkeypatch.setattr(catalog, "specs_dir", lambda: tmp_path)
    path = tmp_path / "vgg16.yaml"
    assert parsed.document(path) is not None
    assert analyse(catalog.load("vgg16")).totals.params == 138_357_544

    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("filters: 64,", "filters: 32,", 1), encoding="utf-8")
    assert parsed.document(path) is None
    assert analyse(catalog.load("vgg16")).totals.params != 138_357_544

    path.write_text("\n" + text.replace("kernel: 3, padding: 1", "kernel: 0, padding: 1", 1),
                    encoding="utf-8")
    line = 1 + next(i for i, row in enumerate(text.splitlines(), 1) if "conv1_1" in row)
    with pytest.raises(ArchcalcError, match=f"specs/vgg16.yaml:{line}: layer 'conv1_1'"):
        catalog.load("vgg16")


def test_an_unreadable_store_is_ignored(tmp_path):
    shutil.copy(SPECS / "lenet5.yaml", tmp_path)
    (tmp_path / parsed.STORE).write_bytes(b"not a store")
    assert parsed.document(tmp_path / "lenet5.yaml") is None


def test_table_of_a_bundled_model_imports_no_yaml():
    code = ("import sys, io, contextlib; from archcalc.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): rc = main(['table', 'vgg16'])\n"
            "print('yaml' in sys.modules, rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT)})
    assert done.stdout.split() == ["False", "0"], done.stderr
