"""Published figures: parsing printed numbers, verdicts, `archcalc check`, docs/errata.md."""
import json
from fractions import Fraction
from pathlib import Path

import pytest

from archcalc import load
from archcalc.spec.catalog import bundled_names
from archcalc.analyses.check import check_model
from archcalc.errors import SpecError
from archcalc.spec.published import parse_printed
from archcalc.render.check import render_errata

from .helpers import run_cli, write_spec

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("printed, exact, agrees", [
    ("138M", 138_357_544, True),          # 138.36M rounds to 138M
    ("60 million", 60_965_224, False),    # 60.97M rounds to 61M
    ("61M", 60_965_224, True),
    ("1.8G", 1_814_073_344, True),        # ResNet-18's MACs, printed as 1.8 ×10^9
    ("1.8G", 1_860_000_000, False),       # ± 0.05G
    ("854M", 854_196_224, True),
    ("358M", 271_351_808, False),
    (156, 156, True),
    (156, 157, False),
    ("96MB", 96_400_000, True),
    ("24M", 15_238_608, False),
])
def test_printed_numbers_agree_at_their_precision(printed, exact, agrees):
    """A printed figure agrees when the exact one rounds to it at the printed precision."""
    assert parse_printed(printed).agrees(exact) is agrees


def test_printed_number_values():
    assert parse_printed("1.8G").value == 1_800_000_000
    assert parse_printed("1.8G").precision == 100_000_000
    assert parse_printed("96MB").value == 96_000_000
    assert parse_printed("2MiB").value == 2 * 2**20
    assert parse_printed("1,516").precision == 0
    assert parse_printed("138M", precision="exact").precision == 0
    assert parse_printed("0.5K").value == Fraction(500)
    with pytest.raises(SpecError, match="cannot read"):
        parse_printed("lots")


def test_bundled_check_passes_with_every_disagreement_explained(capsys):
    """`archcalc check` exits 0: each disagreement in the bundled specs is a marked erratum."""
    status, out, _ = run_cli(capsys, "check")
    assert status == 0
    assert "DISAGREE" not in out and "STALE" not in out
    assert "erratum" in out and "agree" in out


def test_inception_358m_erratum_is_reproduced():
    """The notes' 358M: the six listed products sum to 271,351,808; reading 128 channels
    at the 3×3 convolution gives 358,055,936, which prints as 358M."""
    (verdict,) = check_model(load("inception_bottleneck"))
    assert verdict.computed == 271_351_808
    assert not verdict.agrees and verdict.status == "erratum"
    assert verdict.reproduced == (2 * 28 * 28 * 64 * 256 + 28 * 28 * 128 * 256 + 28 * 28 * 192 * 9 * 128
                                  + 28 * 28 * 96 * 25 * 64 + 28 * 28 * 64 * 256) == 358_055_936
    assert verdict.reproduces is True


def test_seed_figures_are_covered():
    """The figures issue 6 names are checked: LeNet-5 layers, AlexNet 60M and 224 vs 227,
    every row of seed 003's AlexNet table incl. logits, seed 002's SAME conv1, VGG-16's
    138M and 24M/96MB, the Inception module's 854M and 358M."""
    labels = {(v.model, v.entry.label) for name in bundled_names() for v in check_model(load(name))}
    for needed in [("lenet5", "C3 connections"), ("alexnet", "total params"),
                   ("alexnet", "conv1 output @ 3×224×224"), ("alexnet", "fc8 params"),
                   ("alexnet_tf", "conv1 output"), ("vgg16", "total params"),
                   ("vgg16", "total activations_with_input"), ("inception_naive", "total macs"),
                   ("inception_bottleneck", "total macs")]:
        assert needed in labels
    seed_table = {v.entry.layer for v in check_model(load("alexnet")) if "seed 003" in v.entry.source}
    assert seed_table >= {"conv1", "pool1", "norm1", "conv2", "pool2", "conv3", "conv4", "conv5",
                          "pool5", "fc6", "fc7", "fc8"}


def test_vgg16_memory_sum_is_stated_exactly():
    """Input + conv/pool/fc outputs (ReLU in place) + softmax, per image: written out."""
    convs = 2 * 224 * 224 * 64 + 2 * 112 * 112 * 128 + 3 * 56 * 56 * 256 + 3 * 28 * 28 * 512 + 3 * 14 * 14 * 512
    pools = 112 * 112 * 64 + 56 * 56 * 128 + 28 * 28 * 256 + 14 * 14 * 512 + 7 * 7 * 512
    expected = 3 * 224 * 224 + convs + pools + 4096 + 4096 + 1000 + 1000
    verdicts = {v.entry.figure: v for v in check_model(load("vgg16"))}
    assert verdicts["activations_with_input"].computed == expected == 15_238_608
    assert verdicts["activation_bytes_with_input"].computed == 4 * expected


def spec_with(tmp_path, entry):
    return write_spec(tmp_path, """
    name: tiny
    input: [3, 8, 8]
    layers:
      - {name: c1, type: conv, filters: 4, kernel: 3}
    published:
    """ + entry)


def test_unexplained_disagreement_exits_1(capsys, tmp_path):
    path = spec_with(tmp_path, "  - {layer: c1, figure: params, value: 100, source: my notes}\n")
    status, out, _ = run_cli(capsys, "check", str(path))
    assert status == 1 and "DISAGREE" in out and str(3 * 3 * 3 * 4 + 4) in out


def test_erratum_that_agrees_is_stale(capsys, tmp_path):
    path = spec_with(tmp_path, "  - {layer: c1, figure: params, value: 112, source: x, erratum: wrong}\n")
    status, out, _ = run_cli(capsys, "check", str(path), "--format", "json")
    doc = json.loads(out)
    assert status == 1 and doc["ok"] is False
    assert doc["checks"][0]["status"] == "STALE ERRATUM" and doc["checks"][0]["computed"] == 112


@pytest.mark.parametrize("entry, fragment", [
    ("  - {layer: c1, figure: parms, value: 1, source: x}\n", "unknown figure 'parms'"),
    ("  - {layer: c9, figure: params, value: 1, source: x}\n", "layer 'c9'"),
    ("  - {layer: c1, figure: params, value: lots, source: x}\n", "cannot read 'lots'"),
    ("  - {layer: c1, figure: params, value: 1}\n", "needs 'source'"),
])
def test_bad_published_entries(capsys, tmp_path, entry, fragment):
    status, _, err = run_cli(capsys, "check", str(spec_with(tmp_path, entry)))
    assert status == 2 and fragment in err and "model.yaml:6:" in err and err.count("\n") == 1


def test_errata_doc_is_fresh():
    """docs/errata.md equals what the bundled specs generate (refresh: `archcalc docs`)."""
    verdicts = tuple(v for name in bundled_names() for v in check_model(load(name)))
    assert (ROOT / "docs" / "errata.md").read_text(encoding="utf-8") == render_errata(verdicts), \
        "docs/errata.md is stale: run `archcalc docs`"
