"""torchvision's own modules as an independent check of the bundled specs that follow them.

Optional: ``pip install torch==2.14.1 torchvision==0.29.1``.  Without torchvision the module
is skipped, visibly.  Models are built with ``weights=None`` (nothing is downloaded), put in
eval mode and run once on a zero input of the spec's size (batch 1); forward hooks on the leaf
modules record each module's output shape.  Archcalc's rows are mapped to torchvision's module
paths by explicit rules (below), never by fuzzy matching.
"""
import re
from dataclasses import dataclass
from functools import lru_cache

import pytest

torchvision = pytest.importorskip(
    "torchvision",
    reason="torchvision not installed: pip install torch==2.14.1 torchvision==0.29.1 runs these tests")
import torch  # noqa: E402

from archcalc.spec.catalog import load  # noqa: E402
from archcalc.core.report import analyse  # noqa: E402


def dotted(name):
    """Specs that take torchvision's names write its `.` paths; archcalc nests with `/`."""
    return name.replace("/", ".")


def densenet(name):
    """Archcalc numbers a block's repeats from 0 (features.denseblock1/0/conv1); torchvision
    names them denselayer1, denselayer2, ... (features.denseblock1.denselayer1.conv1)."""
    m = re.fullmatch(r"(features\.denseblock\d+)/(\d+)/(.+)", name)
    if m:
        return f"{m[1]}.denselayer{int(m[2]) + 1}.{dotted(m[3])}"
    return dotted(name)


def regnet(name):
    """Archcalc numbers a stage's repeats from 0 (trunk_output.block2/1/f.a.0); torchvision
    names them after the stage (trunk_output.block2.block2-1.f.a.0)."""
    m = re.fullmatch(r"(trunk_output\.block(\d+))/(\d+)/(.+)", name)
    if m:
        return f"{m[1]}.block{m[2]}-{m[3]}.{dotted(m[4])}"
    return dotted(name)


def caffe_vgg(rows):
    """The plain VGG specs keep the authors' Caffe names (conv3_2, pool3, fc6, drop6).
    torchvision's ``make_layers`` without batch norm puts (Conv2d, ReLU) per convolution and
    one MaxPool2d per pool in ``features``, so the index advances by 2 and by 1; its
    classifier is Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear."""
    classifier = {"fc6": 0, "drop6": 2, "fc7": 3, "drop7": 5, "fc8": 6}
    names, index = {}, 0
    for row in rows:
        if re.fullmatch(r"conv\d_\d", row.name):
            names[row.name], index = f"features.{index}", index + 2
        elif re.fullmatch(r"pool\d", row.name):
            names[row.name], index = f"features.{index}", index + 1
        elif row.name in classifier:
            names[row.name] = f"classifier.{classifier[row.name]}"
    return names.get


def by_rule(rule):
    return lambda rows: rule


#: spec name → (torchvision builder, keyword arguments, rows → (archcalc name → torchvision path))
MODELS = {
    "alexnet_torchvision": ("alexnet", {}, by_rule(dotted)),
    **{f"vgg{d}": (f"vgg{d}", {}, caffe_vgg) for d in (11, 13, 16, 19)},
    **{f"vgg{d}_bn": (f"vgg{d}_bn", {}, by_rule(dotted)) for d in (11, 13, 16, 19)},
    # resnet18/34 follow the paper, which torchvision's BasicBlock also follows; resnet50/101/152
    # (the paper's stride on the first 1×1) differ from torchvision's v1.5 in MACs only, so the
    # *_torchvision variants are the ones compared.
    "resnet18": ("resnet18", {}, by_rule(dotted)),
    "resnet34": ("resnet34", {}, by_rule(dotted)),
    "resnet50_torchvision": ("resnet50", {}, by_rule(dotted)),
    "resnet101_torchvision": ("resnet101", {}, by_rule(dotted)),
    "resnet152_torchvision": ("resnet152", {}, by_rule(dotted)),
    # The spec's aux_logits option is off by default; torchvision's input transform rescales
    # channels (no shapes, no params) and is off so the module tree is the plain network.
    "googlenet_torchvision": ("googlenet", dict(aux_logits=False, init_weights=False,
                                                transform_input=False), by_rule(dotted)),
    "mobilenet_v2": ("mobilenet_v2", {}, by_rule(dotted)),
    "squeezenet1_0": ("squeezenet1_0", {}, by_rule(dotted)),
    "squeezenet1_1": ("squeezenet1_1", {}, by_rule(dotted)),
    "densenet121": ("densenet121", {}, by_rule(densenet)),
    **{f"efficientnet_b{i}": (f"efficientnet_b{i}", {}, by_rule(dotted)) for i in range(4)},
    "mobilenet_v3_large": ("mobilenet_v3_large", {}, by_rule(dotted)),
    "mobilenet_v3_small": ("mobilenet_v3_small", {}, by_rule(dotted)),
    "convnext_tiny": ("convnext_tiny", {}, by_rule(dotted)),
    "convnext_small": ("convnext_small", {}, by_rule(dotted)),
    **{n: (n, {}, by_rule(regnet)) for n in ("regnet_x_400mf", "regnet_y_400mf", "regnet_y_1_6gf")},
    "resnext50_32x4d": ("resnext50_32x4d", {}, by_rule(dotted)),
    "wide_resnet50_2": ("wide_resnet50_2", {}, by_rule(dotted)),
    "mnasnet1_0": ("mnasnet1_0", {}, by_rule(dotted)),
    # the spec's default is torchvision's network (its megvii option the authors')
    "shufflenet_v2_x1_0": ("shufflenet_v2_x1_0", {}, by_rule(dotted)),
    # as GoogLeNet: the spec's auxiliary head is off by default, and so is the input transform
    "inception_v3": ("inception_v3", dict(aux_logits=False, init_weights=False,
                                          transform_input=False), by_rule(dotted)),
}

#: torchvision modules that work on a channels-last (N, H, W, C) tensor (ConvNeXt's LayerNorm
#: and Linear layers between its two Permutes): archcalc's rows hold the same values
#: channels-first, so their C×H×W shape is compared as H×W×C
CHANNELS_LAST = {"convnext_tiny": r"features\.\d+\.\d+\.block\.[2-5]",
                 "convnext_small": r"features\.\d+\.\d+\.block\.[2-5]"}


def torch_layout(spec, path, dims):
    """The per-sample shape torchvision's module at ``path`` gives for archcalc's ``dims``."""
    if spec in CHANNELS_LAST and re.fullmatch(CHANNELS_LAST[spec], path):
        return dims[1:] + dims[:1]
    return dims

#: torchvision leaf types whose parameters are compared per layer (LayerNorm2d: ConvNeXt's)
WEIGHTED = ("Conv2d", "Linear", "BatchNorm2d", "LayerNorm", "LayerNorm2d")


@dataclass(frozen=True)
class Leaf:
    type: str
    params: int
    #: per-sample output shape of each call (a module reused in one forward has several)
    shapes: tuple


@dataclass(frozen=True)
class Trace:
    params: int
    leaves: dict


@lru_cache(maxsize=None)
def trace(spec):
    """torchvision's total params and, per leaf module, type, params and output shapes."""
    builder, kwargs, _ = MODELS[spec]
    # Built on the meta device, then given zeroed CPU storage: the module tree and parameter
    # shapes are torchvision's, without the seconds that random initialisation of VGG's
    # 130M weights would take; the forward below is a real CPU forward.
    try:
        with torch.device("meta"):
            model = getattr(torchvision.models, builder)(weights=None, **kwargs)
    except NotImplementedError:  # RegNet computes its widths with tensors: not on meta
        model = getattr(torchvision.models, builder)(weights=None, **kwargs)
    model = model.to_empty(device="cpu").eval()
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            tensor.zero_()
    dims = analyse(load(spec)).input_shape.dims
    calls = {}
    for path, module in model.named_modules():
        if not any(module.children()):
            module.register_forward_hook(
                lambda mod, args, out, path=path: calls.setdefault(path, []).append(tuple(out.shape[1:])))
    # One batch-1 forward of many small layers: one thread is several times faster than
    # torch's default pool on a shared CI machine (measured: EfficientNet-B3 at 300×300,
    # 0.1 s against 1 s); the setting is restored for the other tests.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            model(torch.zeros((1,) + tuple(dims)))
    finally:
        torch.set_num_threads(threads)
    leaves = {path: Leaf(type(module).__name__, sum(p.numel() for p in module.parameters()),
                         tuple(calls.get(path, ())))
              for path, module in model.named_modules() if not any(module.children())}
    return Trace(sum(p.numel() for p in model.parameters()), leaves)


def matched(spec):
    """(archcalc row, torchvision path, leaf) for every row whose mapped path is a leaf."""
    rows = analyse(load(spec)).layers
    rule = MODELS[spec][2](rows)
    leaves = trace(spec).leaves
    return [(row, rule(row.name), leaves[rule(row.name)]) for row in rows if rule(row.name) in leaves]


@pytest.mark.parametrize("spec", MODELS)
def test_total_params_match_torchvision(spec):
    """Archcalc's total parameters equal sum(p.numel()) over torchvision's module."""
    assert analyse(load(spec)).totals.params == trace(spec).params


@pytest.mark.parametrize("spec", MODELS)
def test_layer_shapes_and_params_match_torchvision(spec):
    """Every row with a torchvision counterpart has that module's per-sample output shape, and
    matched Conv2d/Linear/BatchNorm2d rows have its parameter count."""
    pairs = matched(spec)
    assert pairs
    for row, path, leaf in pairs:
        # A module called more than once per forward (ResNet's shared block ReLU) has no
        # single output shape; archcalc names those activations apart (relu1, relu2, add).
        if len(leaf.shapes) == 1:
            assert torch_layout(spec, path, row.out_shape.dims) == leaf.shapes[0], (row.name, path)
        if leaf.type in WEIGHTED:
            assert row.params == leaf.params, (row.name, path)


@pytest.mark.parametrize("spec", MODELS)
def test_most_torchvision_weight_layers_are_matched(spec):
    """At least 90% of torchvision's Conv2d and Linear leaves have an archcalc row, so a
    naming drift cannot leave the shape comparison with nothing to compare."""
    weights = {p for p, leaf in trace(spec).leaves.items() if leaf.type in ("Conv2d", "Linear")}
    found = {path for _, path, _ in matched(spec)} & weights
    assert len(found) >= 0.9 * len(weights), sorted(weights - found)[:5]


#: specs written after the graph core, whose every weighted module has a row of its name
SECOND_WAVE = [m for m in MODELS if m.split("_")[0] in (
    "efficientnet", "mobilenet", "convnext", "regnet", "resnext50", "wide", "shufflenet",
    "inception", "mnasnet") and m != "mobilenet_v2"]


@pytest.mark.parametrize("spec", SECOND_WAVE)
def test_every_weighted_torchvision_module_has_a_row(spec):
    """Every Conv2d, Linear, BatchNorm2d and LayerNorm(2d) leaf of torchvision's module is
    matched by name, so its parameters and output shape are compared, not 90% of them."""
    found = {path for _, path, _ in matched(spec)}
    weighted = {p for p, leaf in trace(spec).leaves.items() if leaf.type in WEIGHTED}
    assert weighted <= found, sorted(weighted - found)[:5]


#: paper ResNets (stride on the first 1×1) → their torchvision v1.5 twin (stride on the 3×3)
PAPER_RESNETS = {"resnet50": "resnet50_torchvision", "resnet101": "resnet101_torchvision",
                 "resnet152": "resnet152_torchvision"}


@pytest.mark.parametrize("spec", PAPER_RESNETS)
def test_paper_resnets_differ_from_torchvision_only_where_v1_5_moves_the_stride(spec):
    """The paper's ResNet-50/101/152 have torchvision's parameters, layer for layer, and its
    output shapes everywhere except after the first 1×1 convolution (and its batch norm and
    ReLU) of the first block of layer2..layer4: the paper strides there, torchvision's v1.5
    strides the 3×3 next to it, so those maps are (H/2)×(W/2) here and H×W in torchvision."""
    twin = trace(PAPER_RESNETS[spec])
    assert analyse(load(spec)).totals.params == twin.params
    # relu1 has no torchvision module of its own (the block's ReLU is shared), so the rows
    # compared and found to differ are the 1×1 convolution and its batch norm
    moved = {f"layer{s}/0/{n}" for s in (2, 3, 4) for n in ("conv1", "bn1")}
    differ = set()
    for row in analyse(load(spec)).layers:
        leaf = twin.leaves.get(dotted(row.name))
        if leaf is None:
            continue
        if leaf.type in WEIGHTED:
            assert row.params == leaf.params, row.name
        if len(leaf.shapes) == 1 and row.out_shape.dims != leaf.shapes[0]:
            c, h, w = leaf.shapes[0]
            assert row.out_shape.dims == (c, h // 2, w // 2), row.name
            differ.add(row.name)
    assert differ == moved
