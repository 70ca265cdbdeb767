"""Other tools' counting conventions: hand arithmetic from each tool's documented rule, the
figures the tools printed for torchvision models, and the generated comparison doc."""
from pathlib import Path

import pytest

from archcalc import analyse, load
from archcalc.errors import ArchcalcError
from archcalc.conventions import CONVENTIONS, apply, row_figures, torchinfo_sizes
from archcalc.docgen.conventions import render
from archcalc.layers import REGISTRY

from .helpers import run_cli, write_spec

ROOT = Path(__file__).resolve().parent.parent

# C,H,W = 3,7,11.  Shapes by hand:
#   c1: kernel 3×5, padding 1×2 keeps 7×11 → 4×7×11 = 308 outputs; weights 4·3·3·5 = 180
#   bn: 4×7×11 = 308;  mp: kernel 2 stride 2 → ⌊5/2⌋+1 = 3, ⌊9/2⌋+1 = 5 → 4×3×5 = 60
#   ap: adaptive 3×5 → 2×3: 4×2×3 = 24 outputs; H windows [0,2) [1,3) = 2+2 = 4 taps,
#       W windows [0,2) [1,4) [3,5) = 2+3+2 = 7 taps → 4·4·7 = 112 taps in all
#   fc: 24 → 6 (144 weights + 6 biases);  sm: softmax over 6
TINY = """
name: tiny
input: [3, 7, 11]
layers:
  - {name: c1, type: conv, filters: 4, kernel: [3, 5], padding: [1, 2], activation: relu}
  - {name: bn, type: batchnorm}
  - {name: mp, type: maxpool, kernel: 2}
  - {name: ap, type: adaptive_avgpool, output: [2, 3]}
  - {name: fc, type: dense, units: 6, activation: relu}
  - {name: sm, type: softmax}
"""
N = 2  # batch 2 exposes rules that do not scale with the batch (ptflops' linear bias)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = write_spec(tmp_path_factory.mktemp("conv"), TINY)
    return analyse(load(str(path)), batch=N)


def totals(report, name):
    return apply(report, name).totals


def test_flopcounter_counts_two_per_mac_of_conv_and_linear_only(tiny):
    """torch.utils.flop_counter: conv_flop_count and addmm_flop = 2·N·weights·positions;
    batch norm, pools, relu and softmax have no formula (0); bias is ignored."""
    t = totals(tiny, "flopcounter")
    assert t.flops == 2 * N * (180 * 7 * 11 + 24 * 6) == 56_016
    assert t.macs == t.flops // 2


def test_fvcore_counts_one_per_fma_plus_bn_and_adaptive_pool(tiny):
    """fvcore: conv and linear 1 per multiply-add (no bias); batchnorm_flop_jit at inference
    2 per element with affine; adaptive_avg_pool2d 1 per input element; the rest 0.
    Its activation count is the outputs of conv and linear."""
    t = totals(tiny, "fvcore")
    expected = N * (180 * 77) + N * (24 * 6) + 2 * N * 308 + N * 60
    assert t.macs == t.flops == expected == 29_360
    assert t.activations == N * (308 + 6)


def test_thop_rules(tiny):
    """thop: conv (C_in/g)·kh·kw per output, linear in_features per output, no bias;
    BatchNorm 2·numel doubled for affine; AdaptiveAvgPool (15/6 adds + 1 divide) per
    output, truncated; softmax 3F − 1 per row; ReLU and MaxPool zero_ops."""
    t = totals(tiny, "thop")
    adaptive = int((15 / 6 + 1) * N * 24)  # 3.5 × 48 = 168
    expected = N * 180 * 77 + N * 24 * 6 + 4 * N * 308 + adaptive + N * (3 * 6 - 1)
    assert t.macs == expected == 30_674
    assert t.flops == 2 * t.macs


def test_ptflops_rules(tiny):
    """ptflops (pytorch backend): conv + bias per output; relu 1 per output; every pool 1
    per input element; BN 2 per element (affine); linear N·in·out + out, the bias term
    not multiplied by the batch; softmax unmapped (0)."""
    t = totals(tiny, "ptflops")
    conv = N * 180 * 77 + N * 308
    relu = N * 308 + N * 6
    bn = 2 * N * 308
    pools = N * 308 + N * 60  # max pool reads c1's 308, adaptive pool reads mp's 60
    linear = N * 24 * 6 + 6
    assert t.macs == conv + relu + bn + pools + linear == 31_226


def test_torchinfo_rules(tiny):
    """torchinfo: Conv adds (weights + biases)·N·H_out·W_out, other modules N·params
    (BatchNorm N·2C, Linear N·(in·out + out)); forward/backward = 2 × outputs of the
    modules with parameters."""
    t = totals(tiny, "torchinfo")
    assert t.macs == N * 184 * 77 + N * 8 + N * 150 == 28_652
    assert t.activations == 2 * N * (308 + 308 + 6)
    assert t.activation_bytes == 4 * t.activations


def test_netscope_rules(tiny):
    """Netscope: conv macc kh·kw·C_in·C_out per position, params without bias; ReLU comp
    1/elem and its own activation blob; BN add + div per element; MAX pool comp kh·kw
    per output; inner product macc in·out; softmax exp, add, div per element."""
    report = apply(tiny, "netscope")
    t = report.totals
    assert t.macs == N * 180 * 77 + N * 144 == 28_008
    comps = N * 308 + 4 * N * 60 + N * 6        # relu after c1, max pool, relu after fc
    adds = N * 308 + N * 112 + N * 6            # bn, adaptive pool (as AVE), softmax
    divs = N * 308 + N * 6                      # bn, softmax
    exps = N * 6                                # softmax
    assert t.flops == 2 * t.macs + comps + adds + divs + exps == 58_616
    assert t.params == 180 + 8 + 144
    assert t.activations == 2 * N * 308 + N * 308 + N * 60 + N * 24 + 2 * N * 6 + N * 6


def test_netscope_ignores_groups():
    """Netscope's Convolution rule has no ``group`` term: Caffe AlexNet's conv2 (group 2)
    counts 5·5·96·256·27·27, twice its true MACs."""
    rows = {r.name: r for r in apply(analyse(load("alexnet")), "netscope").layers}
    assert rows["conv2"].macs == 5 * 5 * 96 * 256 * 27 * 27
    assert rows["conv2"].params == 5 * 5 * 96 * 256


def test_archcalc_convention_is_identity(tiny):
    """The default convention returns the report unchanged."""
    assert apply(tiny, "archcalc") is tiny


def test_rows_add_up_under_every_convention(tiny):
    """Totals are the sums of the rows whatever the convention."""
    for name in CONVENTIONS:
        r = apply(tiny, name)
        assert r.totals.macs == sum(x.macs for x in r.layers)
        assert r.totals.flops == sum(x.flops for x in r.layers)


@pytest.mark.parametrize("name", [n for n, c in CONVENTIONS.items() if c.rules is not None])
def test_every_layer_type_has_a_rule_or_a_reason(name):
    """Each tool's module lists every registered layer type exactly once: in RULES, or in
    IGNORED with the reason the tool gives it nothing; and no stale type lingers."""
    rules = CONVENTIONS[name].rules
    assert set(rules.RULES) | set(rules.IGNORED) == set(REGISTRY)
    assert not set(rules.RULES) & set(rules.IGNORED)
    assert all(isinstance(why, str) and why for why in rules.IGNORED.values())


def test_tool_modules_load_on_first_use():
    """archcalc's own figures load no tool's rules; asking for a tool's rules loads that
    tool's module (and what every tool shares), no other."""
    import subprocess
    import sys

    code = ("import sys; from archcalc.conventions import CONVENTIONS, apply\n"
            "loaded = lambda: sorted(m.rsplit('.', 1)[1] for m in sys.modules\n"
            "                        if m.startswith('archcalc.conventions.'))\n"
            "assert CONVENTIONS['archcalc'].rules is None; print(loaded())\n"
            "print(CONVENTIONS['fvcore'].rules.__name__, loaded())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT)})
    assert done.stdout.splitlines() == ["[]", "archcalc.conventions.fvcore ['common', 'fvcore']"], \
        done.stderr


def test_a_type_without_a_rule_is_an_error_not_zero(monkeypatch):
    """A row whose type a tool's tables do not know raises, naming the tool and the type."""
    from archcalc.conventions import torchinfo as rules

    monkeypatch.delitem(rules.IGNORED, "relu")
    report = analyse(load("resnet18"))
    relu = next(r for r in report.layers if r.type == "relu")
    with pytest.raises(ArchcalcError, match="torchinfo.*relu"):
        row_figures("torchinfo", relu, 1)


# --- figures the tools printed ------------------------------------------------------------

def test_torchinfo_alexnet_summary():
    """torchinfo on torchvision alexnet, 1×3×224×224: 'Total mult-adds (M): 714.68',
    input 0.60, forward/backward 3.95, params 244.40, total 248.96 (MB)."""
    r = apply(analyse(load("alexnet_torchvision")), "torchinfo")
    assert f"{r.totals.macs / 1e6:.2f}" == "714.68"
    sizes = {k: f"{v / 1e6:.2f}" for k, v in torchinfo_sizes(r).items()}
    assert sizes == {"input": "0.60", "forward/backward pass": "3.95", "params": "244.40",
                     "estimated total": "248.96"}


def test_torchinfo_vgg16_summary():
    """torchinfo on torchvision vgg16: 'Total mult-adds (G): 15.48', forward/backward
    108.45, params 553.43, total 662.49 (MB)."""
    r = apply(analyse(load("vgg16")), "torchinfo")
    assert f"{r.totals.macs / 1e9:.2f}" == "15.48"
    sizes = [f"{v / 1e6:.2f}" for v in torchinfo_sizes(r).values()]
    assert sizes == ["0.60", "108.45", "553.43", "662.49"]


def test_fvcore_alexnet_total():
    """fvcore FlopCountAnalysis(torchvision alexnet).total() printed 714197696."""
    assert totals(analyse(load("alexnet_torchvision")), "fvcore").flops == 714_197_696


def test_ptflops_alexnet_and_vgg_readme():
    """ptflops printed '715.56 MMac' for alexnet; its README lists 0.72 GMac for alexnet
    and 7.63 / 11.34 / 15.5 / 19.67 GMac for vgg11 / 13 / 16 / 19."""
    alex = totals(analyse(load("alexnet_torchvision")), "ptflops").macs
    assert f"{alex / 1e6:.2f}" == "715.56" and round(alex / 1e9, 2) == 0.72
    for name, gmac in (("vgg11", 7.63), ("vgg13", 11.34), ("vgg16", 15.5), ("vgg19", 19.67)):
        assert round(totals(analyse(load(name)), "ptflops").macs / 1e9, 2) == gmac, name


def test_resnet50_published():
    """torchvision resnet50 (v1.5, stride on the 3×3: the resnet50_torchvision spec):
    ptflops README 4.12 GMac; torchinfo 'Total mult-adds (G): 4.09' and forward/backward
    177.83 MB."""
    report = analyse(load("resnet50_torchvision"))
    assert round(totals(report, "ptflops").macs / 1e9, 2) == 4.12
    ti = apply(report, "torchinfo")
    assert f"{ti.totals.macs / 1e9:.2f}" == "4.09"
    assert f"{ti.totals.activation_bytes / 1e6:.2f}" == "177.83"


# --- CLI and doc --------------------------------------------------------------------------

def test_cli_convention_header_and_json(capsys):
    """--convention names itself in the text header and adds "convention" to JSON."""
    status, out, _ = run_cli(capsys, "table", "alexnet_torchvision", "--convention", "fvcore")
    assert status == 0 and "convention fvcore" in out.splitlines()[2]
    status, out, _ = run_cli(capsys, "table", "alexnet_torchvision", "--convention", "fvcore",
                             "--format", "json")
    import json

    doc = json.loads(out)
    assert doc["convention"] == "fvcore" and doc["totals"]["flops"] == 714_197_696


def test_cli_unknown_convention(capsys):
    """An unknown convention is one line and exit 2."""
    status, _, err = run_cli(capsys, "table", "lenet5", "--convention", "fvcor")
    assert status == 2 and err.count("\n") == 1 and "fvcore" in err


def test_conventions_doc_is_fresh():
    """docs/conventions-compared.md equals archcalc.docgen.conventions.render()."""
    text = (ROOT / "docs" / "conventions-compared.md").read_text(encoding="utf-8")
    assert text == render(), "docs/conventions-compared.md is stale: run `archcalc docs`"


# --- the newer layer types under every tool ---------------------------------------------------

# C,H,W = 6,5,7: every row keeps 6×5×7 = 210 outputs per sample (420 for the batch of 2);
# c1: 1×1 conv 6→6 with bias, 36 weights per position, 35 positions
MODERN = """
name: modern
input: [6, 5, 7]
layers:
  - {name: c1, type: conv, filters: 6, kernel: 1, activation: gelu}
  - {name: ln, type: layernorm}
  - {name: gn, type: groupnorm, groups: 3}
  - {name: inorm, type: instancenorm}
  - {name: pr, type: prelu, slopes: per_channel}
  - {name: lk, type: leaky_relu, slope: 0.1}
  - {name: sh, type: channel_shuffle, groups: 2}
  - {name: ls, type: layer_scale}
  - {name: sd, type: drop_path, rate: 0.1}
  - {name: ident, type: identity}
  - {name: si, type: silu}
  - {name: el, type: elu}
  - {name: hs, type: hardswish}
"""
E = N * 210  # elements of one row's output, for the batch


@pytest.fixture(scope="module")
def modern(tmp_path_factory):
    path = write_spec(tmp_path_factory.mktemp("modern"), MODERN)
    return analyse(load(str(path)), batch=N)


def test_new_types_under_fvcore(modern):
    """conv 36·35 per sample; aten::layer_norm and group_norm (affine) 5 per element,
    instance_norm without affine 4; every activation, shuffle, mul: 0.  Its activations are
    the conv's outputs."""
    t = totals(modern, "fvcore")
    assert t.macs == t.flops == N * 36 * 35 + 5 * E + 5 * E + 4 * E == 8_400
    assert t.activations == E


def test_new_types_under_thop(modern):
    """count_normalization: LayerNorm 2 × 2 (elementwise_affine), InstanceNorm 2 (no
    affine); count_prelu 1 per element; GroupNorm, SiLU, ELU, Hardswish, GELU have no hook
    and LeakyReLU's count_relu gives 0."""
    t = totals(modern, "thop")
    assert t.macs == N * 36 * 35 + 4 * E + 2 * E + E == 5_460


def test_new_types_under_ptflops(modern):
    """conv + its bias + the folded GELU module (relu hook, 1 per output); LayerNorm 1 per
    element (it has no ``affine`` attribute), GroupNorm 2 (affine), InstanceNorm 1, PReLU,
    LeakyReLU, ELU 1 each; SiLU and Hardswish unmapped."""
    t = totals(modern, "ptflops")
    assert t.macs == (N * 36 * 35 + E + E) + E + 2 * E + E + E + E + E == 6_300


def test_new_types_under_torchinfo(modern):
    """Conv: (36 + 6) · N · 35; LayerNorm and GroupNorm N · 12; PReLU N · 6; InstanceNorm
    without affine holds nothing; pass size 2 × outputs of c1, ln, gn, pr."""
    t = totals(modern, "torchinfo")
    assert t.macs == 42 * N * 35 + N * 12 + N * 12 + N * 6 == 3_000
    assert t.activations == 2 * 4 * E


def test_new_types_under_flopcounter(modern):
    """Only the convolution has a formula: 2 · N · 36 · 35."""
    assert totals(modern, "flopcounter").flops == 2 * N * 36 * 35 == 5_040


def test_new_types_under_netscope(modern):
    """Convolution macc 1·1·6·6·35 per sample and Scale (layer_scale) 1 per element; the
    leaky ReLU is Caffe's ReLU: comp 1 per element; every layer's output blob (the folded
    GELU's too), but identity and drop_path are not Caffe layers: no blob; params: the
    conv's weights only (Scale's and the rule-less layers' are not counted)."""
    report = apply(modern, "netscope")
    t = report.totals
    assert t.macs == N * 36 * 35 + E == 2_940
    assert t.flops == 2 * t.macs + E == 6_300
    assert t.params == 36
    # c1 and its GELU blob (2), then ln gn inorm pr lk sh ls si el hs (10): 12 blobs of E
    assert t.activations == (2 + 10) * E
