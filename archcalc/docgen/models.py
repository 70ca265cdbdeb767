"""docs/models.md, generated from the bundled specs so that its figures cannot go stale.

:func:`render_models_md` returns the page: an index of every bundled model (input, depth,
params, MACs, activations at its declared input, batch 1, default options) and one section
per paper-vs-framework pair, whose prose is a template filled with computed figures.
``archcalc docs`` writes it; ``archcalc docs --check`` (and a test) fail when it differs.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..spec.catalog import bundled_names, load
from ..core.report import Report, analyse
from .zoo import zoo_sections

MODELS_MD = "models.md"

#: Layer types counted by "depth": the layers that apply trainable weights to features.
DEPTH_TYPES = ("conv", "dense")


@lru_cache(maxsize=None)
def _report(name: str) -> Report:
    return analyse(load(name))


def _base_type(row) -> str:
    return row.type.split("+")[0]


def weighted_rows(report: Report) -> list:
    """The rows that count towards depth: convolutions and dense layers, in order."""
    return [r for r in report.layers if _base_type(r) in DEPTH_TYPES]


def depth(report: Report) -> int:
    return len(weighted_rows(report))


def _n(value: int) -> str:
    return f"{value:,}"


def _signed(value: int) -> str:
    return f"{value:+,}"


def _percent(new: int, old: int) -> str:
    return f"{100 * (new - old) / old:+.1f}%"


def _table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    align = ["---:" if i in numeric else ":---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _shape(shape) -> str:
    return "×".join(str(d) for d in shape.dims)


def index_table() -> str:
    rows = []
    for name in bundled_names():
        rep = _report(name)
        t = rep.totals
        rows.append([f"`{name}`", _shape(rep.input_shape), str(depth(rep)), _n(t.params),
                     _n(t.macs), _n(t.activations)])
    return _table(["model", "input", "depth", "params", "MACs", "activations"], rows,
                  {2, 3, 4, 5})


def _totals_table(*names: str) -> str:
    rows = []
    for name in names:
        t = _report(name).totals
        rows.append([f"`{name}`", _n(t.params), _n(t.macs), _n(t.activations)])
    return _table(["model", "params", "MACs", "activations"], rows, {1, 2, 3})


def _sum(report: Report, field: str, pick) -> int:
    return sum(getattr(r, field) for r in report.layers if pick(r))


@dataclass(frozen=True)
class _Pair:
    paper: Report
    framework: Report

    def delta(self, field: str) -> tuple[str, str]:
        a, b = getattr(self.paper.totals, field), getattr(self.framework.totals, field)
        return _signed(b - a), _percent(b, a)


def alexnet_section() -> str:
    pair = _Pair(_report("alexnet"), _report("alexnet_torchvision"))
    p, f = pair.paper, pair.framework
    rows = []
    for a, b in zip(weighted_rows(p), weighted_rows(f)):
        rows.append([f"`{a.name}`", _shape(a.out_shape), _n(a.params), _n(a.macs),
                     f"`{b.name}`", _shape(b.out_shape), _n(b.params), _n(b.macs)])
    table = _table(["alexnet", "output", "params", "MACs", "alexnet_torchvision", "output",
                    "params", "MACs"], rows, {2, 3, 6, 7})
    grouped = [r for r in p.layers if r.name in ("conv2", "conv4", "conv5")]
    grouped_weights = sum(r.params - r.out_shape.channels for r in grouped)
    lrn_flops = _sum(p, "flops", lambda r: r.type == "lrn")
    dparams, pparams = pair.delta("params")
    dmacs, pmacs = pair.delta("macs")
    return f"""## AlexNet: two grouped towers (`alexnet`) vs torchvision's single tower

{_totals_table("alexnet", "alexnet_torchvision")}
torchvision minus paper: {dparams} params ({pparams}), {dmacs} MACs ({pmacs}).

- **Towers.** The paper splits conv2, conv4 and conv5 over two GPUs: `groups: 2`, each
  filter reading half the input maps. Those three layers hold {_n(grouped_weights)} weights;
  as single-tower layers of the same width they would hold twice as many. torchvision has
  no groups.
- **Widths.** torchvision's convolutions have 64, 192, 384, 256, 256 filters where the
  paper has 96, 256, 384, 384, 256 — the layout of Krizhevsky's 2014 "one weird trick"
  paper.
- **Input and padding.** The paper's network (as Caffe runs it) takes 227×227 with an
  unpadded conv1; torchvision takes 224×224 and pads conv1 by 2. Both give 55×55.
- **LRN.** The paper normalises after conv1 and conv2 ({_n(lrn_flops)} FLOPs, no params,
  no MACs); torchvision has no LRN.
- **Classifier input.** torchvision adds an adaptive average pool to 6×6 (the identity at
  224×224) so that other input sizes reach the same 9,216 classifier features.

{table}"""


def googlenet_section() -> str:
    pair = _Pair(_report("googlenet"), _report("googlenet_torchvision"))
    p, f = pair.paper, pair.framework
    five = [r for r in p.layers if r.name.endswith("/5x5")]
    three = [r for r in f.layers if r.name.endswith("/branch3.1/conv")]
    five_w = sum(r.params - r.out_shape.channels for r in five)
    three_w = sum(r.params for r in three)
    five_m, three_m = sum(r.macs for r in five), sum(r.macs for r in three)
    biases = sum(r.out_shape.channels for r in weighted_rows(p) if _base_type(r) == "conv")
    bn = _sum(f, "params", lambda r: r.type == "batchnorm")
    lrn_flops = _sum(p, "flops", lambda r: r.type == "lrn")
    dparams, pparams = pair.delta("params")
    dmacs, pmacs = pair.delta("macs")
    aux_p = analyse(load("googlenet", options={"aux_logits": True})).totals.params
    aux_f = analyse(load("googlenet_torchvision", options={"aux_logits": True})).totals.params
    return f"""## GoogLeNet: the paper (`googlenet`) vs torchvision (`googlenet_torchvision`)

{_totals_table("googlenet", "googlenet_torchvision")}
torchvision minus paper: {dparams} params ({pparams}), {dmacs} MACs ({pmacs}).

- **The "5×5" branch is 3×3 in torchvision.** The nine Inception modules' 5×5
  convolutions hold {_n(five_w)} weights and {_n(five_m)} MACs in the paper; torchvision's
  3×3 convolutions in their place hold {_n(three_w)} weights and {_n(three_m)} MACs
  (9/25 of them): {_signed(three_m - five_m)} MACs, against a total MAC difference of
  {dmacs}.
- **Batch norm instead of conv biases.** torchvision's convolutions have no bias
  (the paper's have {_n(biases)}) and each is followed by batch norm ({_n(bn)} params γ, β;
  no MACs).
- **No LRN.** The paper normalises after pool1 and conv2 ({_n(lrn_flops)} FLOPs).
- **Pools.** Both pool in ceil mode; torchvision's pool before inception5a is 2×2 where
  the paper's is 3×3 (both give 7×7), and an adaptive average pool to 1×1 replaces the
  7×7 one. Dropout 0.2 instead of 0.4 (no effect on counts).
- **Auxiliary classifiers** (`--option aux_logits=true`, off by default in both specs):
  {_n(aux_p)} params for the paper's network with them, {_n(aux_f)} for torchvision's.
- Table 1 of the paper and the exact counts differ in some rows; the spec's notes list
  every row.
"""


def resnet_section() -> str:
    rows = []
    for d in (50, 101, 152):
        v1, v15 = _report(f"resnet{d}"), _report(f"resnet{d}_torchvision")
        rows.append([f"ResNet-{d}", _n(v1.totals.params), _n(v15.totals.params),
                     _n(v1.totals.macs), _n(v15.totals.macs),
                     f"{_signed(v15.totals.macs - v1.totals.macs)} "
                     f"({_percent(v15.totals.macs, v1.totals.macs)})"])
    table = _table(["depth", "params v1", "params v1.5", "MACs v1", "MACs v1.5",
                    "v1.5 − v1"], rows, {1, 2, 3, 4, 5})
    v1, v15 = _report("resnet50"), _report("resnet50_torchvision")
    by15 = {r.name: r for r in v15.layers}
    changed = []
    for r in v1.layers:
        other = by15[r.name]
        if r.macs != other.macs or r.in_shape != other.in_shape:
            changed.append([f"`{r.name}`", _shape(r.in_shape), _shape(other.in_shape),
                            _n(r.macs), _n(other.macs)])
    detail = _table(["layer", "input v1", "input v1.5", "MACs v1", "MACs v1.5"], changed,
                    {3, 4})
    return f"""## ResNet: the paper's v1 (`resnetN`) vs torchvision's v1.5 (`resnetN_torchvision`)

In the bottleneck block that starts stages 2 to 4, the paper strides by 2 in the first
1×1 convolution; torchvision ("v1.5") strides in the 3×3 instead. The weights are the
same, so are the parameters; but in v1.5 the first 1×1 convolution (and the batch norm
and ReLU after it) works on the block's full-size input, so v1.5 needs more MACs and
more activation memory. The 3×3 convolution's output has the same size in both.
ResNet-18 and -34 (basic blocks) are the same in both.

{table}
The layers of ResNet-50 whose input or MACs differ:

{detail}"""


def render_models_md() -> str:
    """The text of docs/models.md."""
    return f"""# Bundled models

Generated by `archcalc docs` from the specs in `specs/`; do not edit by hand (a test
fails when this page is stale). Each spec's `source:` names the paper or framework
definition it follows and its `notes:` explain every choice.

Figures are per sample at the model's declared input, with default options (auxiliary
classifiers off). **Depth** is the number of convolution and dense layers (every layer
that applies trainable weights to features, projection shortcuts and auxiliary heads
included when present; batch norm, pooling and LeNet-5's RBF output not counted), so it
can differ from a network's name: ResNet-50 counts {depth(_report("resnet50"))} (its 4 projection shortcuts and the
classifier included). **MACs** are multiply-accumulates with weights; **activations** are
the output elements that layers newly allocate (views such as flatten count 0).

{index_table()}
{alexnet_section()}
{googlenet_section()}
{resnet_section()}
{zoo_sections()}"""
