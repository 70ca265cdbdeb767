"""Other tools' rules for conv_transpose, upsample and pad: hand arithmetic from each
tool's source (archcalc/conventions/*), and the figures the tools printed in their issue
trackers for the same layers."""
import pytest

from archcalc import analyse
from archcalc.conventions import apply
from archcalc.spec.build import build_model

N = 3  # a batch that exposes the rules that do not scale with it (ptflops)


def report(layers, input_, batch=N):
    return analyse(build_model({"name": "m", "input": input_, "layers": layers}), batch=batch)


def row(rep, name, convention):
    return next(r for r in apply(rep, convention).layers if r.name == name)


def test_ptflops_issue_149_prints_208():
    """ptflops issue #149: ConvTranspose2d(3, 1, (2, 2), stride=(2, 2)) on 3×2×2 prints
    "208.0 Mac": output positions 16 × (2·2·3·1) + the bias on 16 outputs = 192 + 16.
    The products it performs are 12 input elements × 1 × 4 taps = 48 (archcalc, fvcore,
    and torch's flop counter, which prints 2 × 48)."""
    rep = report([{"name": "up", "type": "conv_transpose", "filters": 1, "kernel": 2, "stride": 2}],
                 [3, 2, 2], batch=1)
    assert row(rep, "up", "ptflops").macs == 208
    assert row(rep, "up", "archcalc").macs == row(rep, "up", "fvcore").macs == 48
    assert row(rep, "up", "flopcounter").flops == 96
    # torchinfo: (12 weights + 1 bias) × 16 output positions; thop: 16·1 outputs × 3·4
    assert row(rep, "up", "torchinfo").macs == 13 * 16 == 208
    assert row(rep, "up", "thop").macs == 16 * 3 * 4 == 192
    # Netscope: C_in·C_out·Π(out·k/s) = 3·1·(4·2/2)² = 48, params 2·2·3·1 = 12 (no bias)
    assert (row(rep, "up", "netscope").macs, row(rep, "up", "netscope").params) == (48, 12)


def test_fvcore_issue_78_transposed_counts_the_input():
    """fvcore issue #78: ConvTranspose2d(32, 1, 3×3) on 32×1×1 should count 32·3·3 = 288
    (the revision read counts prod(w_shape) × the input's positions: 32·1·9 × 1)."""
    rep = report([{"name": "up", "type": "conv_transpose", "filters": 1, "kernel": 3}], [32, 1, 1], batch=1)
    assert row(rep, "up", "fvcore").macs == 288 == row(rep, "up", "archcalc").macs


def test_transposed_rules_at_a_batch_with_groups_and_cropping():
    """4 → 6 maps in 2 groups, kernel 3, stride 2, padding 1, output_padding 1 on 4×5:
    out 8×10 = 80 positions; products = 4·20 inputs × 3 maps/group × 9 taps = 2,160 per
    sample.  Per batch of 3: fvcore and archcalc 6,480; ptflops 3·80·(9·4·3) + 3·6·80
    (bias) = 25,920 + 1,440 = 27,360; thop 3·6·80·(4/2)·9 = 25,920; torchinfo
    3·(108 + 6)·80 = 27,360; Netscope ignores groups and cropping's effect on its own size
    s(n − 1) + k − 2p: 7×9, macc 3·4·6·(7·3/2)·(9·3/2) = 72·141.75 = 10,206."""
    layers = [{"name": "up", "type": "conv_transpose", "filters": 6, "kernel": 3, "stride": 2,
               "padding": 1, "output_padding": 1, "groups": 2}]
    rep = report(layers, [4, 4, 5])
    assert rep.layers[0].out_shape.spatial == (8, 10)
    assert row(rep, "up", "archcalc").macs == row(rep, "up", "fvcore").macs == 6_480
    assert row(rep, "up", "ptflops").macs == 27_360
    assert row(rep, "up", "thop").macs == 25_920
    assert row(rep, "up", "torchinfo").macs == 27_360
    assert row(rep, "up", "netscope").macs == 10_206 and row(rep, "up", "netscope").params == 216


def test_netscope_fractional_macc_is_rounded():
    """Netscope's (k/s) factors: 1 → 1 map, k 3, s 2 on 2 cells: its size 2·1 + 3 = 5,
    macc 5·3/2 = 7.5, printed as the nearest integer (ties to even): 8; on 3 cells
    7·3/2 = 10.5 → 10."""
    for n, macc in ((2, 8), (3, 10)):
        rep = report([{"name": "up", "type": "conv_transpose", "filters": 1, "kernel": 3, "stride": 2}],
                     [1, n], batch=1)
        assert row(rep, "up", "netscope").macs == macc


@pytest.mark.parametrize("mode, input_, fvcore, thop", [
    ("nearest", [2, 3, 4], 1, 1),
    ("bilinear", [2, 3, 4], 4, 11),
    ("nearest", [2, 5], 0, 1),          # upsample_nearest1d has no fvcore handler
    ("linear", [2, 5], 0, 5),
    ("trilinear", [2, 2, 3, 4], 0, 0),  # not in thop's count_upsample modes
])
def test_upsample_rules_per_output(mode, input_, fvcore, thop):
    """Per output element: fvcore 1 (nearest2d) or 4 (bilinear2d), 0 in 1-D and 3-D;
    thop 1, 5, 11 (nearest, linear, bilinear), trilinear 0; ptflops one sample's output
    elements whatever the batch and mode; torchinfo and torch's flop counter nothing."""
    rep = report([{"name": "up", "type": "upsample", "scale": 2, "mode": mode}], input_)
    outputs = rep.layers[0].out_shape.numel  # per sample
    assert row(rep, "up", "fvcore").macs == fvcore * N * outputs
    assert row(rep, "up", "thop").macs == thop * N * outputs
    assert row(rep, "up", "ptflops").macs == outputs
    assert row(rep, "up", "torchinfo").macs == row(rep, "up", "flopcounter").macs == 0
    assert row(rep, "up", "netscope").macs == 0


def test_pad_counts_nothing_anywhere():
    """No tool counts padding: fvcore (aten::pad, no handler), thop (ZeroPad2d zero_ops,
    the rest no hook), ptflops, torchinfo, torch's flop counter, Netscope (no Caffe layer,
    only its output memory)."""
    rep = report([{"name": "p", "type": "pad", "padding": 2, "mode": "reflect"},
                  {"name": "c", "type": "conv", "filters": 1, "kernel": 3}], [1, 6, 6])
    for convention in ("fvcore", "thop", "ptflops", "torchinfo", "flopcounter", "netscope"):
        assert row(rep, "p", convention).macs == 0, convention
    assert row(rep, "p", "netscope").activations == N * 10 * 10
