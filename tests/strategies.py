"""Hypothesis strategies, collected in one place.  Sizes stay small so that brute-force
references and NumPy forwards are cheap."""
from hypothesis import strategies as st

sizes = st.integers(min_value=1, max_value=24)
kernels = st.integers(min_value=1, max_value=7)
strides = st.integers(min_value=1, max_value=4)
dilations = st.integers(min_value=1, max_value=3)
paddings = st.integers(min_value=0, max_value=3)
channels = st.integers(min_value=1, max_value=8)


@st.composite
def window_cases(draw, allow_ceil: bool = True):
    """(size, kernel, stride, pad_before, pad_after, dilation, ceil_mode) where the
    padded input holds at least one window, and each pad is smaller than the window
    (PyTorch's rule, which keeps every window touching the input)."""
    kernel = draw(kernels)
    dilation = draw(dilations)
    extent = dilation * (kernel - 1) + 1
    pad_before = draw(st.integers(0, min(3, extent - 1)))
    pad_after = draw(st.integers(0, min(3, extent - 1)))
    size = draw(st.integers(max(1, extent - pad_before - pad_after), extent + 20))
    stride = draw(strides)
    ceil_mode = draw(st.booleans()) if allow_ceil else False
    return size, kernel, stride, pad_before, pad_after, dilation, ceil_mode


@st.composite
def split_models(draw):
    """A Model of one layer of any registered type on a small random C×H×W input, or a
    residual add (with or without a folded activation) over it; windows fit the input."""
    from archcalc.layers import REGISTRY
    from archcalc.model import LayerNode, Model, ResidualNode
    from archcalc.shapes import Shape

    c, h, w = draw(channels), draw(st.integers(3, 12)), draw(st.integers(3, 12))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    act = draw(st.sampled_from([None, "relu", "relu6", "tanh", "sigmoid"]))
    kind = draw(st.sampled_from(sorted(REGISTRY) + ["add"]))
    cls = REGISTRY.get(kind)
    args = {
        "conv": dict(filters=draw(channels), kernel=(kh, kw), bias=draw(st.booleans()),
                     activation=act),
        "dense": dict(units=draw(channels), bias=draw(st.booleans()), activation=act),
        "rbf": dict(units=draw(channels)),
        "maxpool": dict(kernel=(kh, kw)), "avgpool": dict(kernel=(kh, kw)),
        "subsample": dict(kernel=(kh, kw), activation=act),
        "adaptive_avgpool": dict(output=(draw(st.integers(1, h)), draw(st.integers(1, w)))),
        "lrn": dict(size=draw(st.sampled_from([1, 3, 5]))),
    }.get(kind, {})
    shape = Shape.of(c, h, w)
    if kind == "add":
        from archcalc.layers.activation import ReLU

        node = ResidualNode("res", None, (LayerNode("res/r", None, ReLU()),), (), act)
    else:
        node = LayerNode("x", None, cls(**args))
    return Model("random", shape, (node,))
