"""docs/models.md, second part: the paper-vs-framework differences of the second-wave zoo.

One section per family (EfficientNet, MobileNetV3, ConvNeXt, RegNet, ResNeXt and Wide
ResNet, ShuffleNet V2, Inception-v3, MnasNet, U-Net, VGG's torchvision option). Each is a template
filled with figures computed from the bundled specs (their options included) and the
verdicts of their ``published:`` entries, so none can go stale.
"""
from __future__ import annotations

from functools import lru_cache

from ..analyses.check import check_model
from ..core.report import Report, analyse
from ..core.shapes import Shape
from ..spec.catalog import load


@lru_cache(maxsize=None)
def _report(name: str, options: tuple = (), size: int | None = None) -> Report:
    model = load(name, options=dict(options) or None)
    shape = Shape.of(model.input_shape.channels, size, size) if size else None
    return analyse(model, shape)


def _n(value: int) -> str:
    return f"{value:,}"


def _m(value: int) -> str:
    """Millions to two decimals (5,288,548 → 5.29M); billions past 10⁹ (1.83G)."""
    return f"{value / 1e9:.2f}G" if value >= 10**9 else f"{value / 1e6:.2f}M"


def _table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    align = ["---:" if i in numeric else ":---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _short(source: str) -> str:
    """The source of a published entry, to its first comma or parenthesis."""
    if source.startswith("torchvision"):
        return "torchvision metadata"
    head = source.split(",")[0].split("(")[0].strip()
    return head


def published_table(*names: str) -> str:
    """Every published total of the models: who printed it, the value, the exact figure and
    the verdict (an erratum's explanation is in the spec and in docs/errata.md)."""
    rows = []
    for name in names:
        for v in check_model(load(name)):
            if v.entry.layer or v.entry.figure not in ("params", "macs"):
                continue
            at = f" at {v.entry.input_shape}" if v.entry.input_shape else ""
            rows.append([f"`{name}`", v.entry.figure + at, _short(v.entry.source),
                         v.entry.printed, _n(v.computed), v.status])
    return _table(["model", "figure", "printed by", "printed", "exact", "verdict"], rows,
                  {3, 4})


def _outputs_table(name: str) -> str:
    """The published output shapes of a model's layers against the exact ones."""
    rows = [[f"`{v.entry.layer}`", v.entry.printed, "×".join(str(d) for d in v.computed), v.status]
            for v in check_model(load(name)) if v.entry.figure == "output"]
    return _table(["layer", "Fig. 1", "exact", "verdict"], rows, set())


def _totals(rows: list[tuple[str, Report]]) -> str:
    body = [[label, "×".join(str(d) for d in rep.input_shape.dims), _n(rep.totals.params),
             _n(rep.totals.macs)] for label, rep in rows]
    return _table(["model", "input", "params", "MACs"], body, {2, 3})


def _bn_params(rep: Report) -> int:
    return sum(r.params for r in rep.layers if r.type == "batchnorm")


def efficientnet_section() -> str:
    names = [f"efficientnet_b{i}" for i in range(4)]
    b1, b2 = _report("efficientnet_b1"), _report("efficientnet_b2")
    b2_288 = _report("efficientnet_b2", size=288)
    return f"""## EfficientNet B0–B3 (`efficientnet_b0` … `efficientnet_b3`)

torchvision's EfficientNets are the paper's networks: Table 1's B0 with each width
multiplied and rounded to a multiple of 8 as the reference code's `round_filters` does
(torchvision's `_make_divisible`), each stage's repeats multiplied and rounded up, SE
squeezing to a quarter of a block's input channels, SiLU throughout and stochastic depth
(the identity at inference, so it changes no figure). The specs take the paper's
resolutions; the figures below are at those inputs.

{_totals([(f"`{n}`", _report(n)) for n in names])}
{published_table(*names)}
- **Resolution of torchvision's B2 figure.** torchvision evaluates its B2 weights at
  288×288 and documents its GFLOPS there: {_n(b2_288.totals.macs)} MACs, against
  {_n(b2.totals.macs)} at the paper's 260.
- **Parameters of B2.** The trainable parameters are {_n(b2.totals.params)} (9.1M); the
  paper prints 9.2M, which a count that adds batch norm's moving mean and variance
  ({_n(_bn_params(b2))}, as TensorFlow's count of variables does) reproduces; but that
  count would print B1 as {_m(b1.totals.params + _bn_params(b1))} where the paper prints
  7.8M.
- **FLOPs of B1.** {_n(b1.totals.macs)} multiply-adds print as 0.69B; the paper's 0.70B
  is not reproduced (B0, B2 and B3 agree with the same count).
"""


def mobilenet_v3_section() -> str:
    large, small = _report("mobilenet_v3_large"), _report("mobilenet_v3_small")
    gates = sum(r.out_shape.numel for r in large.layers if r.type == "multiply")
    return f"""## MobileNetV3 (`mobilenet_v3_large`, `mobilenet_v3_small`)

torchvision follows the paper's Tables 1 and 2: hardswish after the first layers, SE with
a hard-sigmoid gate squeezing to a quarter of the expanded width rounded to a multiple of
8, and a head whose 1×1 "NBN" convolution on the pooled map is a dense layer (same params
and MACs).

{_totals([("`mobilenet_v3_large`", large), ("`mobilenet_v3_small`", small)])}
{published_table("mobilenet_v3_large", "mobilenet_v3_small")}
- **Truncation.** The tables truncate: Large's {_n(large.totals.params)} params print as
  5.4M, Small's {_n(small.totals.macs)} MAdds as 56M (as MobileNetV2's paper prints 3.47M
  as 3.4M).
- **Large's 219M MAdds** are not reproduced: the exact count is {_n(large.totals.macs)}
  (torchvision documents 0.217G), and the SE gates' {_n(gates)} multiplications do not
  make up the {_n(219_000_000 - large.totals.macs)} between them.
"""


def convnext_section() -> str:
    tiny, small = _report("convnext_tiny"), _report("convnext_small")
    ln = sum(r.params for r in tiny.layers if r.type == "layernorm")
    scale = sum(r.params for r in tiny.layers if r.type == "layer_scale")
    ln_flops = sum(r.flops for r in tiny.layers if r.type == "layernorm")
    return f"""## ConvNeXt (`convnext_tiny`, `convnext_small`)

torchvision's ConvNeXt is the paper's. Its blocks permute the map to channels-last and
apply `nn.LayerNorm` and two `nn.Linear` layers there; the specs write the two linear
layers as 1×1 convolutions and the LayerNorm over the channels at each position, which
give the same params, MACs and outputs on the channels-first map (the torchvision
comparison test reads those modules' shapes channels-last).

{_totals([("`convnext_tiny`", tiny), ("`convnext_small`", small)])}
{published_table("convnext_tiny", "convnext_small")}
- ConvNeXt-T holds {_n(ln)} LayerNorm parameters (γ, β) and {_n(scale)} layer-scale
  multipliers; its LayerNorms cost {_n(ln_flops)} FLOPs and no MACs, so the paper's FLOPs
  (multiply-adds) and torchvision's GFLOPS leave them out, and both agree with the MACs.
"""


def regnet_section() -> str:
    x = _report("regnet_x_400mf")
    xp = _report("regnet_x_400mf", (("pycls_widths", True),))
    names = ("regnet_x_400mf", "regnet_y_400mf", "regnet_y_1_6gf")
    rows = [(f"`{n}`", _report(n)) for n in names]
    rows.insert(1, ("`regnet_x_400mf` --option pycls_widths=true", xp))
    return f"""## RegNet (`regnet_x_400mf`, `regnet_y_400mf`, `regnet_y_1_6gf`)

torchvision builds its RegNets from the paper's parameters (d, w0, wa, wm, g) with the
paper's quantized linear rule, so the stage widths and depths are the authors' (pycls)
— except where a width must be fitted to the group width and lands on a half: for
RegNetX-400MF the last stage quantizes to 392 channels, 24.5 groups of 16, which
torchvision rounds up (`_make_divisible`: 400) and pycls half to even (`round`: 384).
`--option pycls_widths=true` gives the authors' network.

{_totals(rows)}
{published_table(*names)}
- **RegNetX-400MF.** The 400-channel last stage holds
  {_n(x.totals.params - xp.totals.params)} more parameters and
  {_n(x.totals.macs - xp.totals.macs)} more MACs than the authors' 384: their MODEL_ZOO's
  5.2M is {_n(xp.totals.params)}, torchvision's {_n(x.totals.params)} prints as 5.5M.
  Both print as 0.4 GFLOPs. RegNetY's SE squeezes to a quarter of the block's input
  width, as in pycls; the two agree on the Y models.
"""


def resnext_section() -> str:
    r50 = _report("resnet50_torchvision")
    rx, wr = _report("resnext50_32x4d"), _report("wide_resnet50_2")
    return f"""## ResNeXt-50 and Wide ResNet-50-2 (`resnext50_32x4d`, `wide_resnet50_2`)

Both are torchvision's ResNet-50 (v1.5: the stride on the bottleneck's 3×3) with bottlenecks
twice as wide (128, 256, 512, 1024 channels inside, the block outputs unchanged);
ResNeXt splits each 3×3 into 32 groups, Wide ResNet does not.

{_totals([("`resnet50_torchvision`", r50), ("`resnext50_32x4d`", rx), ("`wide_resnet50_2`", wr)])}
{published_table("resnext50_32x4d", "wide_resnet50_2")}
The paper's Table 1 (ResNeXt-50 32×4d) agrees with the exact counts to its printed
precision; the Wide ResNet paper's ImageNet figures are not quoted here, only torchvision's
metadata.
"""


def shufflenet_section() -> str:
    tv = _report("shufflenet_v2_x1_0")
    mg = _report("shufflenet_v2_x1_0", (("megvii", True),))
    first = [r for r in tv.layers if r.name.startswith("stage2/0/")]
    first_m = [r for r in mg.layers if r.name.startswith("stage2/0/")]
    return f"""## ShuffleNet V2 (`shufflenet_v2_x1_0`)

A stride-1 unit splits its channels in two halves (torchvision's `x.chunk(2, dim=1)`;
here two `slice` views, no copy), transforms one and concatenates them; a channel shuffle
of 2 groups ends every unit. torchvision's network differs from the authors'
(megvii-model/ShuffleNet-Series, `--option megvii=true`) in the first unit of stage 2,
whose input has 24 channels: torchvision makes 58 output maps in each branch, the authors
keep 24 in the left branch and make 92 in the right. In stages 3 and 4 the input is half
the output and the two agree. The authors also shuffle before the split (even channels
pass through) instead of after the concatenation, and their classifier has no bias.

{_totals([("`shufflenet_v2_x1_0`", tv), ("`shufflenet_v2_x1_0` --option megvii=true", mg)])}
{published_table("shufflenet_v2_x1_0")}
- stage2's first unit: {_n(sum(r.macs for r in first))} MACs in torchvision's,
  {_n(sum(r.macs for r in first_m))} in the authors', whose total
  ({_n(mg.totals.macs)}) is the paper's 146M.
"""


def inception_v3_section() -> str:
    off = _report("inception_v3")
    on = _report("inception_v3", (("aux_logits", True),))
    return f"""## Inception-v3 (`inception_v3`)

The spec is torchvision's Inception3 at 299×299. Its auxiliary classifier (on Mixed_6e)
runs only in training and is off by default (`--option aux_logits=true`); torchvision
builds it by default, so its documented parameter count includes it while its GFLOPS (an
evaluation forward) do not.

{_totals([("`inception_v3`", off), ("`inception_v3` --option aux_logits=true", on)])}
{published_table("inception_v3")}
The paper's abstract gives "5 billion multiply-adds" and "less than 25 million
parameters": the second holds without the auxiliary head ({_n(off.totals.params)}); the
first is a round figure the exact {_n(off.totals.macs)} does not reproduce.
"""


def mnasnet_section() -> str:
    return f"""## MnasNet (`mnasnet1_0`)

torchvision's MNASNet is the B1 network of the authors' search, without SE ("the B1
variant of the model"); the paper's headline MnasNet-A1 has squeeze-and-excitation and
is a different network, so only torchvision's figures are compared.

{published_table("mnasnet1_0")}"""


def vgg_section() -> str:
    paper = _report("vgg16")
    tv = _report("vgg16", (("torchvision", True),))
    pool = next(r for r in tv.layers if r.name == "avgpool")
    return f"""## VGG: the paper's Caffe nets (`vggN`) vs torchvision's (`--option torchvision=true`)

The plain VGG specs follow the authors' Caffe models: pool5's 7×7×512 map feeds fc6, and a
softmax ends the deploy net. torchvision inserts an adaptive average pool to 7×7 between
them (`avgpool`) and returns logits; `--option torchvision=true` writes its network. At
224×224 the pool averages 1×1 windows, so params ({_n(paper.totals.params)}) and MACs
({_n(paper.totals.macs)}) are the same; its {_n(pool.flops)} divisions and output are not,
and tools that count adaptive pooling (fvcore: one FLOP per input element; ptflops) count
them on torchvision's VGG: `archcalc table vgg16 --option torchvision=true --convention
fvcore` gives {_n(paper.totals.macs + pool.in_shape.numel)}, the MACs + {_n(pool.in_shape.numel)}. The pool also lets
torchvision's VGG take any input from 32×32 up, where the paper's fc6 needs exactly 7×7
at pool5 (224 to 255).
"""


def unet_section() -> str:
    valid, same = _report("unet"), _report("unet_same")
    same_572 = _report("unet_same", size=576)
    out = valid.layers[-1].out_shape.spatial[0]
    return f"""## U-Net: the paper's valid convolutions (`unet`) vs the padded variant (`unet_same`)

The paper's U-Net (Fig. 1) pads nothing: each 3×3 convolution loses a border pixel on
each side, so a {valid.input_shape.spatial[0]}×{valid.input_shape.spatial[0]} tile gives a {out}×{out} map and each skip is cropped
to the up-convolved map's size before the concatenation; tiles of 188 + 16k pixels keep
every pool on an even size (`archcalc sizes unet`). Most code pads every 3×3 convolution
by 1 (`unet_same`): the maps keep their size, the skips concatenate uncropped and the input
must be a multiple of 16. The weights are the same; the MACs follow the map sizes.

{_totals([("`unet`", valid), ("`unet_same`", same), ("`unet_same` at 576×576", same_572)])}
Fig. 1's map sizes, as `archcalc check unet` compares them:

{_outputs_table("unet")}"""


def zoo_sections() -> str:
    """Every second-wave section, in the order of the index."""
    return "\n".join([vgg_section(), efficientnet_section(), mobilenet_v3_section(),
                      convnext_section(), regnet_section(), resnext_section(),
                      shufflenet_section(), inception_v3_section(), mnasnet_section(),
                      unet_section()])
