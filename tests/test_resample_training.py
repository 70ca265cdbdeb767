"""Training figures of conv_transpose, upsample and pad: backward MACs and work by hand,
and what autograd keeps for them against PyTorch's saved tensors (optional: torch)."""
import pytest

from archcalc.analyses.training import analyse_training
from archcalc.core.backward import Needs
from archcalc.core.shapes import Shape
from archcalc.core.work import Work
from archcalc.layers import REGISTRY
from archcalc.spec.build import build_model
from archcalc.spec.fields import build

BOTH = Needs(input=True, weights=True)


def test_conv_transpose_backward_by_hand():
    """2 → 1 maps, 2×2 stride 2 on 2×2 (32 forward MACs): the input's gradient is a conv
    of the output's gradient with the weights (32 MACs), the weights' gradient correlates
    the input with it (32), the bias sums 16 output gradients (16 adds); a folded relu
    adds its derivative, a comparison per output.  It keeps its input."""
    layer = build(REGISTRY["conv_transpose"], {"filters": 1, "kernel": 2, "stride": 2, "activation": "relu"})
    x = Shape.of(2, 2, 2)
    y = layer.out_shape(x)
    b = layer.backward(x, y, BOTH)
    assert (b.input_macs, b.weight_macs) == (32, 32)
    assert b.work == Work(additions=16) + Work(comparisons=16)
    assert layer.saved(x, y, BOTH).inputs == (0,)
    assert layer.saved(x, y, Needs(input=True, weights=False)).inputs == ()


def test_upsample_backward_by_hand():
    """Nearest ×2 on 3×4×5: each input cell sums its 4 copies, 3 adds: 240 − 60 = 180.
    Nearest 10 → 6 cells reads 6 distinct cells once each: no add.  Bilinear ×2: the
    passes wrote 120 and 240 elements; each sends two weighted gradients back: 2·360
    multiplies and 2·360 adds.  None keeps a tensor."""
    x = Shape.of(3, 4, 5)
    nearest = build(REGISTRY["upsample"], {"scale": 2})
    assert nearest.backward(x, nearest.out_shape(x), BOTH).work == Work(additions=180)
    shrink = build(REGISTRY["upsample"], {"size": 6})
    assert shrink.backward(Shape.of(1, 10), Shape.of(1, 6), BOTH).work == Work()
    bilinear = build(REGISTRY["upsample"], {"scale": 2, "mode": "bilinear"})
    b = bilinear.backward(x, bilinear.out_shape(x), BOTH)
    assert b.work == Work(additions=720, multiplications=720) and b.macs == 0
    assert bilinear.saved(x, bilinear.out_shape(x), BOTH).inputs == ()


def test_pad_backward_by_hand():
    """Constant padding passes the middle of the gradient back (a copy); reflect adds each
    of the border's gradients into the cell it mirrored: 3×6×7 − 3×4×5 = 66 adds, and
    keeps its input (reflection_pad's backward names it)."""
    x = Shape.of(3, 4, 5)
    constant = build(REGISTRY["pad"], {"padding": 1})
    reflect = build(REGISTRY["pad"], {"padding": 1, "mode": "reflect"})
    y = reflect.out_shape(x)
    assert constant.backward(x, y, BOTH).work == Work() and constant.saved(x, y, BOTH).inputs == ()
    assert reflect.backward(x, y, BOTH).work == Work(additions=66)
    assert reflect.saved(x, y, BOTH).inputs == (0,)


MODELS = [
    ("convT", [{"name": "c", "type": "conv", "filters": 4, "kernel": 3},
               {"name": "t", "type": "conv_transpose", "filters": 2, "kernel": 3, "stride": 2}]),
    ("up", [{"name": "c", "type": "conv", "filters": 4, "kernel": 3},
            {"name": "u", "type": "upsample", "scale": 2, "mode": "bilinear"},
            {"name": "n", "type": "upsample", "size": [7, 9]}]),
    ("pads", [{"name": "c", "type": "conv", "filters": 4, "kernel": 3},
              {"name": "r", "type": "pad", "padding": 1, "mode": "reflect"},
              {"name": "p", "type": "pad", "padding": [[1, 0], [2, 1]], "mode": "replicate"},
              {"name": "z", "type": "pad", "padding": 2},
              {"name": "w", "type": "pad", "padding": 1, "mode": "circular"}]),
]


@pytest.mark.parametrize("name, layers", MODELS, ids=[m[0] for m in MODELS])
def test_saved_bytes_equal_what_autograd_keeps(name, layers):
    """The same layers in PyTorch (training mode, batch 2): the bytes of every distinct
    tensor autograd saves equal archcalc's saved bytes."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed")
    F = torch.nn.functional
    model = build_model({"name": name, "input": [3, 8, 10], "layers": layers})
    ours = analyse_training(model, batch=2).saved_bytes
    conv = torch.nn.Conv2d(3, 4, 3)
    transposed = torch.nn.ConvTranspose2d(4, 2, 3, 2)
    params = {p.untyped_storage().data_ptr() for m in (conv, transposed) for p in m.parameters()}

    def run(x):
        x = conv(x)
        for spec in layers[1:]:
            layer = build(REGISTRY[spec["type"]], {k: v for k, v in spec.items() if k not in ("name", "type")})
            shape = Shape.of(*x.shape[1:])
            if spec["type"] == "conv_transpose":
                x = transposed(x)
            elif spec["type"] == "upsample":
                sizes = [m for _, m in layer.resized(shape)]
                extra = {} if layer.mode == "nearest" else {"align_corners": False}
                x = F.interpolate(x, size=sizes, mode=layer.mode, **extra)
            else:
                flat = [v for b, a in reversed(layer.pads(shape)) for v in (b, a)]
                x = F.pad(x, flat, mode=layer.mode)
        return x

    kept = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            kept[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        run(torch.randn(2, 3, 8, 10))
    assert ours == sum(kept.values())
