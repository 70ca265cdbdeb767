"""The layers graphs need — merges (add, multiply, concat, crop) and nearest upsampling:
hand arithmetic, and the engine's shape, params and MACs against what the NumPy forward
produces and performs on random shapes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archcalc.core.shapes import Shape
from archcalc.core.work import Work
from archcalc.errors import ShapeError
from archcalc.layers import REGISTRY
from archcalc.numeric.tally import Ops
from archcalc.spec.fields import build

dims = st.integers(min_value=1, max_value=5)


def forward(kind, raw, shapes, batch=2, seed=0):
    """(layer, inputs, output, ops, counts) with the engine's shape checked first."""
    layer = build(REGISTRY[kind], raw)
    rng = np.random.default_rng(seed)
    xs = tuple(rng.standard_normal((batch,) + s) for s in shapes)
    ops = Ops()
    y = layer.forward(xs, {}, ops)
    counts = layer.counts(tuple(Shape(s) for s in shapes))
    assert y.shape == (batch,) + tuple(counts.out_shape.dims), "shape differs from the engine's"
    assert ops.macs == batch * counts.macs == 0, "a merge multiplies no weights"
    assert counts.params == 0
    return layer, xs, y, counts


@given(st.tuples(dims, dims, dims), st.integers(2, 4), st.sampled_from([None, "relu", "tanh"]))
def test_add_matches_sum(shape, k, act):
    """add of k equal inputs: the elementwise sum (then the folded activation);
    (k − 1) additions and k connections per output element."""
    _, xs, y, counts = forward("add", {"activation": act}, [shape] * k)
    expected = sum(xs)
    expected = {None: expected, "relu": np.maximum(expected, 0), "tanh": np.tanh(expected)}[act]
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    n = shape[0] * shape[1] * shape[2]
    assert counts.connections == k * n
    assert counts.flops == (k - 1) * n + (n if act else 0)


@given(st.tuples(dims, dims, dims), st.booleans())
def test_multiply_broadcasts_a_gate(shape, as_vector):
    """multiply of a C×H×W map by a C×1×1 gate (or a vector of C features): the gate
    scales each channel; one multiplication and two connections per output element."""
    c = shape[0]
    gate = (c,) if as_vector else (c, 1, 1)
    _, (x, g), y, counts = forward("multiply", {}, [shape, gate])
    np.testing.assert_allclose(y, x * g.reshape(g.shape[0], c, 1, 1), rtol=1e-12)
    n = c * shape[1] * shape[2]
    assert counts.out_shape == Shape(shape)
    assert (counts.flops, counts.connections) == (n, 2 * n)


def test_multiply_refuses_sizes_that_do_not_broadcast():
    """3×4×5 times 3×2×1: 2 is neither 4 nor 1."""
    layer = REGISTRY["multiply"]()
    with pytest.raises(ShapeError, match="3×4×5.*3×2×1"):
        layer.out_shape((Shape.of(3, 4, 5), Shape.of(3, 2, 1)))


@given(st.lists(st.tuples(dims, dims, dims), min_size=2, max_size=4),
       st.sampled_from(["channels", "height", "width"]))
def test_concat_stacks_along_its_axis(shapes, axis):
    """concat: sizes add up along the axis, the others are taken from the first input."""
    a = {"channels": 0, "height": 1, "width": 2}[axis]
    first = shapes[0]
    shapes = [tuple(s[i] if i == a else first[i] for i in range(3)) for s in shapes]
    _, xs, y, counts = forward("concat", {"axis": axis}, shapes)
    np.testing.assert_array_equal(y, np.concatenate(xs, axis=1 + a))
    assert counts.flops == 0 and counts.activations == y[0].size


def test_concat_names_both_shapes_when_sizes_disagree():
    with pytest.raises(ShapeError, match="input 1 is 2×4×4, input 2 is 3×5×4"):
        REGISTRY["concat"]().out_shape((Shape.of(2, 4, 4), Shape.of(3, 5, 4)))


@given(st.tuples(dims, st.integers(1, 9), st.integers(1, 9)), st.data())
def test_crop_takes_the_centre(shape, data):
    """crop to a smaller map starts ⌊(in − out)/2⌋ in: out[i, j] = x[i + top, j + left];
    a view, so no work and no new memory."""
    c, h, w = shape
    oh, ow = data.draw(st.integers(1, h)), data.draw(st.integers(1, w))
    _, (x, _), y, counts = forward("crop", {}, [shape, (1, oh, ow)])
    top, left = (h - oh) // 2, (w - ow) // 2
    np.testing.assert_array_equal(y, x[:, :, top:top + oh, left:left + ow])
    assert (counts.flops, counts.activations, counts.out_shape) == (0, 0, Shape.of(c, oh, ow))


def test_crop_hand_case():
    """U-Net's first skip: 64×568×568 cropped to 392×392 starts 88 in on each axis."""
    layer = REGISTRY["crop"]()
    xs = (Shape.of(64, 568, 568), Shape.of(128, 392, 392))
    assert layer.out_shape(xs) == Shape.of(64, 392, 392)
    assert layer.offsets(xs) == (88, 88)
    with pytest.raises(ShapeError, match="smaller"):
        layer.out_shape((Shape.of(1, 4, 4), Shape.of(1, 5, 4)))


def test_merge_work_split_is_stated():
    """The split of a 3-input add over 2×3×4 with relu: 48 additions, 24 comparisons."""
    layer = build(REGISTRY["add"], {"activation": "relu"})
    xs = (Shape.of(2, 3, 4),) * 3
    assert layer.work(xs, layer.out_shape(xs)) == Work(comparisons=24, additions=48)


@given(st.tuples(dims, dims, dims), st.tuples(st.integers(1, 3), st.integers(1, 3)))
def test_upsample_repeats_each_cell(shape, scale):
    """Nearest upsampling by (sh, sw): y[c, i, j] = x[c, i // sh, j // sw], written here as
    an index gather; no work, one connection per output."""
    layer = build(REGISTRY["upsample"], {"scale": list(scale)})
    x = np.random.default_rng(1).standard_normal((2,) + shape)
    ops = Ops()
    y = layer.forward(x, {}, ops)
    counts = layer.counts(Shape(shape))
    assert y.shape == (2,) + tuple(counts.out_shape.dims)
    (c, h, w), (sh, sw) = shape, scale
    rows, cols = np.arange(h * sh) // sh, np.arange(w * sw) // sw
    np.testing.assert_array_equal(y, x[:, :, rows][:, :, :, cols])
    assert (ops.macs, counts.macs, counts.flops, counts.params) == (0, 0, 0, 0)
    assert counts.connections == counts.activations == c * h * sh * w * sw


FORWARD_CASES = {"add": test_add_matches_sum, "multiply": test_multiply_broadcasts_a_gate,
                 "concat": test_concat_stacks_along_its_axis, "crop": test_crop_takes_the_centre,
                 "upsample": test_upsample_repeats_each_cell}
