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


# --- numeric core: layer cases for the NumPy forwards (small: references loop in Python) ---

small = st.integers(min_value=1, max_value=3)


def tf_same(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple:
    """TensorFlow 'SAME' padding (before, after), written independently of archcalc."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


@st.composite
def axis_case(draw, max_kernel=4, max_dilation=2, max_pad=3, max_extra=6):
    """(kernel, stride, dilation, (pad_before, pad_after), size) along one axis; the padded
    input holds at least one window and each pad is smaller than the window."""
    k = draw(st.integers(1, max_kernel))
    d = draw(st.integers(1, max_dilation))
    s = draw(st.integers(1, 3))
    extent = d * (k - 1) + 1
    pb = draw(st.integers(0, min(max_pad, extent - 1)))
    pa = draw(st.integers(0, min(max_pad, extent - 1)))
    size = draw(st.integers(max(1, extent - pb - pa), extent + max_extra))
    return k, s, d, (pb, pa), size


@st.composite
def conv_cases(draw):
    """Raw conv attributes, input (C, H, W) and batch; sometimes TensorFlow 'same'."""
    groups = draw(small)
    cin, cout = groups * draw(small), groups * draw(small)
    (kh, sh, dh, ph, h), (kw, sw, dw, pw, w) = draw(axis_case()), draw(axis_case())
    same = draw(st.booleans())
    raw = {"filters": cout, "kernel": [kh, kw], "stride": [sh, sw], "dilation": [dh, dw],
           "groups": groups, "bias": draw(st.booleans()),
           "padding": "same" if same else [list(ph), list(pw)],
           "activation": draw(st.sampled_from([None, "relu", "tanh"]))}
    pads = (tf_same(h, kh, sh, dh), tf_same(w, kw, sw, dw)) if same else (ph, pw)
    return raw, (cin, h, w), pads, draw(st.integers(1, 2))


@st.composite
def table_cases(draw):
    """A conv with a random connection table (each output reads a non-empty input subset)."""
    cin = draw(st.integers(1, 5))
    filters = draw(st.integers(1, 5))
    table = [sorted(draw(st.sets(st.integers(0, cin - 1), min_size=1, max_size=cin)))
             for _ in range(filters)]
    (kh, sh, _, ph, h), (kw, sw, _, pw, w) = draw(axis_case(max_dilation=1)), draw(axis_case(max_dilation=1))
    raw = {"filters": filters, "kernel": [kh, kw], "stride": [sh, sw],
           "padding": [list(ph), list(pw)], "connection_table": table}
    return raw, (cin, h, w), (ph, pw), draw(st.integers(1, 2))


@st.composite
def pool_cases(draw, dilation=False, ceil=True, same=True):
    """Raw window-pool attributes (kernel, stride, padding, [dilation], [ceil_mode]) and input."""
    (kh, sh, dh, ph, h) = draw(axis_case(max_dilation=2 if dilation else 1))
    (kw, sw, dw, pw, w) = draw(axis_case(max_dilation=2 if dilation else 1))
    raw = {"kernel": [kh, kw], "stride": [sh, sw]}
    pads = (ph, pw)
    if same and draw(st.booleans()):
        raw["padding"] = "same"
        pads = (tf_same(h, kh, sh, dh), tf_same(w, kw, sw, dw))
    else:
        raw["padding"] = [list(ph), list(pw)]
        if ceil:
            raw["ceil_mode"] = draw(st.booleans())
    if dilation:
        raw["dilation"] = [dh, dw]
    return raw, (draw(small), h, w), pads, draw(st.integers(1, 2))
