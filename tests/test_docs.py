"""docs/models.md is generated from the bundled specs and kept in sync by a test."""
from pathlib import Path

from archcalc.cli import main
from archcalc.docgen import depth, render_models_md
from archcalc.catalog import load
from archcalc.report import analyse

REPO_DOC = Path(__file__).resolve().parent.parent / "docs" / "models.md"


def test_docs_models_md_is_up_to_date():
    """The committed page equals freshly generated output."""
    assert REPO_DOC.read_text(encoding="utf-8") == render_models_md(), \
        "docs/models.md is stale: run `archcalc docs`"


def test_depth_counts_conv_and_dense_layers():
    """VGG-16: 13 convolutions + 3 dense = 16; ResNet-50: 1 + 16·3 + 4 projections + fc = 54;
    DenseNet-121: 1 + 58·2 + 3 transitions + fc = 121."""
    assert depth(analyse(load("vgg16"))) == 16
    assert depth(analyse(load("resnet50"))) == 1 + 16 * 3 + 4 + 1
    assert depth(analyse(load("densenet121"))) == 1 + 58 * 2 + 3 + 1


def test_index_lists_every_bundled_model_with_its_params():
    """One index row per bundled model, params written with thousands separators."""
    text = render_models_md()
    assert "| `resnet50_torchvision` | 3×224×224 | 54 | 25,557,032 |" in text
    assert "| `googlenet_torchvision` | 3×224×224 |" in text
    for heading in ("## AlexNet", "## GoogLeNet", "## ResNet"):
        assert heading in text


def test_cli_docs_writes_then_checks(tmp_path, capsys):
    """`archcalc docs --out DIR` writes DIR/models.md; --check exits 0 when fresh and 1,
    naming the file, when stale or missing."""
    out = tmp_path / "d"
    assert main(["docs", "--out", str(out), "--check"]) == 1
    assert "models.md is stale; run `archcalc docs`" in capsys.readouterr().err
    assert main(["docs", "--out", str(out)]) == 0
    assert (out / "models.md").read_text(encoding="utf-8") == render_models_md()
    assert main(["docs", "--out", str(out), "--check"]) == 0
    (out / "models.md").write_text("old\n", encoding="utf-8")
    assert main(["docs", "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert str(out / "models.md") in err and err.count("\n") == 1
