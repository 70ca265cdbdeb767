"""docs/models.md is generated from the bundled specs and kept in sync by a test."""
from pathlib import Path

from archcalc.cli import main
from archcalc.docgen.models import depth, render_models_md
from archcalc.spec.catalog import load
from archcalc.core.report import analyse

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
    """`archcalc docs --out DIR` writes DIR/models.md (with every other page); --check exits
    0 when fresh and 1, naming the stale pages, when stale or missing."""
    out = tmp_path / "d"
    out.mkdir()
    assert main(["docs", "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert "stale: models.md, errata.md" in err and "run `archcalc docs`" in err
    assert main(["docs", "--out", str(out)]) == 0
    assert (out / "models.md").read_text(encoding="utf-8") == render_models_md()
    assert main(["docs", "--out", str(out), "--check"]) == 0
    (out / "models.md").write_text("old\n", encoding="utf-8")
    assert main(["docs", "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert "stale: models.md; run `archcalc docs`" in err and err.count("\n") == 1


def test_pair_sections_carry_hand_checked_figures():
    """The templated prose states figures that hand arithmetic reproduces:
    AlexNet's grouped conv2/4/5 weights 256·48·25 + 384·192·9 + 256·192·9 = 1,413,120;
    GoogLeNet's 5×5 branches Σ c5r·c5 = 23,808 → ·25 = 595,200 weights (paper) and ·9 =
    214,272 (torchvision's 3×3); ResNet-50 v1.5 − v1 = 3 · 77,070,336 MACs."""
    text = render_models_md()
    assert f"hold {256 * 48 * 25 + 384 * 192 * 9 + 256 * 192 * 9:,} weights" in text
    c5 = [(16, 32), (32, 96), (16, 48), (24, 64), (24, 64), (32, 64), (32, 128), (32, 128),
          (48, 128)]
    total = sum(r * c for r, c in c5)
    assert total == 23_808
    assert f"hold {total * 25:,} weights" in text and f"hold {total * 9:,} weights" in text
    assert f"+{3 * 77_070_336:,} (+6.0%)" in text


def test_model_pages_carry_sizes_fields_and_formulas_checked_by_hand():
    """The per-model pages' extra sections hold figures worked out by hand:
    AlexNet (Caffe): (227 − 11)/4 + 1 = 55 is whole, so 227 tiles exactly, as every
    s = 4k + 3 from 199 to 227 does (ceil-mode pools read every row); with the dense head
    pinned to 256·6·6 the valid sizes are 199..230 (pool5, ⌈(n − 3)/2⌉ + 1, stays 6×6 from
    conv1 (199 − 11)//4 + 1 = 48, pools 24, 12, 6, to 230: 55, 27, 13, 6; 231 gives 56, 28,
    14, 7); pool5's field is 195 at
    jump 32; conv1 gives floor((H − 11)/4) + 1 rows and 11·11·3 = 363 MACs per output of
    its 96 maps (34,848 per position).  VGG-16: pool5 field 212, jump 32."""
    from archcalc.docgen.site import model_page

    alexnet = model_page("alexnet")
    assert "- **sizes that tile exactly:** 199, 203, 207, 211, 215, 219, 223, 227\n" in alexnet
    assert "- **valid sizes in 195–259:** 199–230\n" in alexnet
    assert "- the declared 227×227 tiles exactly" in alexnet
    assert "| pool5 | 195 | 32 | 33 |" in alexnet
    assert "| conv1 | 96×(floor((H - 11)/4) + 1)×(floor((W - 11)/4) + 1) | " \
           "34848·(floor((H - 11)/4) + 1)·(floor((W - 11)/4) + 1) |" in alexnet
    assert "| pool5 | 212 | 32 |" in model_page("vgg16")
