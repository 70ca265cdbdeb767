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
    """A Model of one layer of any registered type on a small random C×H×W input; a merge
    type reads a relu of the input and the input itself; windows fit the input."""
    from archcalc.core.graph import INPUT, Model, Node
    from archcalc.core.shapes import Shape
    from archcalc.layers import REGISTRY

    c, h, w = draw(channels), draw(st.integers(3, 12)), draw(st.integers(3, 12))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    act = draw(st.sampled_from([None, "relu", "relu6", "tanh", "sigmoid"]))
    kind = draw(st.sampled_from(sorted(REGISTRY)))
    cls = REGISTRY[kind]
    args = {
        "conv": dict(filters=draw(channels), kernel=(kh, kw), bias=draw(st.booleans()),
                     activation=act),
        "dense": dict(units=draw(channels), bias=draw(st.booleans()), activation=act),
        "rbf": dict(units=draw(channels)),
        "maxpool": dict(kernel=(kh, kw)), "avgpool": dict(kernel=(kh, kw)),
        "subsample": dict(kernel=(kh, kw), activation=act),
        "adaptive_avgpool": dict(output=(draw(st.integers(1, h)), draw(st.integers(1, w)))),
        "lrn": dict(size=draw(st.sampled_from([1, 3, 5]))),
        "add": dict(activation=act),
        "upsample": dict(scale=(draw(st.integers(1, 3)), draw(st.integers(1, 3)))),
    }.get(kind, {})
    shape = Shape.of(c, h, w)
    if cls.arity == 1:
        nodes = (Node("x", None, cls(**args), (INPUT,)),)
    else:
        nodes = (Node("r", None, REGISTRY["relu"](), (INPUT,)),
                 Node("x", None, cls(**args), ("r", INPUT)))
    return Model("random", shape, nodes, ("x",))


# --- numeric core: layer cases for the NumPy forwards (small: references loop in Python) ---

small = st.integers(min_value=1, max_value=3)


def tf_same(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple:
    """TensorFlow 'SAME' padding (before, after), written independently of archcalc."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


@st.composite
def axis_case(draw, max_kernel=4, max_dilation=2, max_pad=3, max_extra=6, torch_pads=False):
    """(kernel, stride, dilation, (pad_before, pad_after), size) along one axis; the padded
    input holds at least one window and each pad is smaller than the window.
    ``torch_pads``: equal pads of at most kernel // 2, the only ones PyTorch's pools take."""
    k = draw(st.integers(1, max_kernel))
    d = draw(st.integers(1, max_dilation))
    s = draw(st.integers(1, 3))
    extent = d * (k - 1) + 1
    if torch_pads:
        pb = pa = draw(st.integers(0, min(max_pad, k // 2)))
    else:
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
def pool_cases(draw, dilation=False, ceil=True, same=True, torch_pads=False):
    """Raw window-pool attributes (kernel, stride, padding, [dilation], [ceil_mode]) and input."""
    axis = axis_case(max_dilation=2 if dilation else 1, torch_pads=torch_pads)
    (kh, sh, dh, ph, h), (kw, sw, dw, pw, w) = draw(axis), draw(axis)
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


# --- random conv/pool stacks (symbolic sizes, size scans, receptive fields) ---------------

@st.composite
def window_layers(draw, allow_same: bool = True, allow_ceil: bool = True):
    """One conv, maxpool or avgpool layer as a spec mapping, small windows."""
    kind = draw(st.sampled_from(["conv", "maxpool", "avgpool"]))
    kernel = [draw(st.integers(1, 4)), draw(st.integers(1, 4))]
    layer = {"type": kind, "kernel": kernel, "stride": [draw(st.integers(1, 3)),
                                                        draw(st.integers(1, 3))]}
    if kind == "conv":
        layer["filters"] = draw(st.integers(1, 4))
    if kind in ("conv", "maxpool") and draw(st.booleans()):
        layer["dilation"] = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    if allow_same and draw(st.integers(0, 4)) == 0:
        layer["padding"] = "same"
    else:
        # pads smaller than the window (PyTorch's rule), asymmetric allowed
        d = layer.get("dilation", [1, 1])
        ext = [d[i] * (kernel[i] - 1) + 1 for i in range(2)]
        layer["padding"] = [[draw(st.integers(0, min(2, e - 1))), draw(st.integers(0, min(2, e - 1)))]
                            for e in ext]
        if kind != "conv" and allow_ceil:
            layer["ceil_mode"] = draw(st.booleans())
    return layer


@st.composite
def window_stacks(draw, max_layers: int = 4, heads: bool = True, **kw):
    """A spec document: 1..max_layers window layers on a C×H×W input, optionally a head
    (flatten + dense, which pins the input size, or gap + dense, which frees it)."""
    layers = draw(st.lists(window_layers(**kw), min_size=1, max_size=max_layers))
    head = draw(st.sampled_from(["none", "dense", "gap"])) if heads else "none"
    if head == "dense":
        layers = layers + [{"type": "flatten"}, {"type": "dense", "units": 3}]
    elif head == "gap":
        layers = layers + [{"type": "gap"}, {"type": "dense", "units": 3}]
    for i, layer in enumerate(layers):
        layer["name"] = f"l{i}"
    c = draw(st.integers(1, 3))
    return {"name": "random", "input": [c, draw(st.integers(8, 24)), draw(st.integers(8, 24))],
            "layers": layers}


@st.composite
def graph_specs(draw, max_nodes: int = 8, large: bool = False):
    """A random DAG spec: each node reads one or more earlier tensors (or the input) and is
    a shape-keeping conv, a strided conv, a pool, batch norm, an activation, or a merge
    (add, multiply, concat) of earlier tensors of compatible shapes.  Tensors nothing
    reads become the model's outputs, so the spec is always well formed.  ``large`` maps
    hold megabytes, so verify's memory check applies."""
    if large:
        c, h, w = draw(st.integers(12, 24)), draw(st.integers(80, 128)), draw(st.integers(80, 128))
    else:
        c, h, w = draw(channels), draw(st.integers(4, 12)), draw(st.integers(4, 12))
    shapes = {"input": (c, h, w)}
    layers, read = [], set()
    for i in range(draw(st.integers(1, max_nodes))):
        name = f"n{i}"
        names = sorted(shapes)
        kind = draw(st.sampled_from(["conv", "strided", "pool", "batchnorm", "relu", "add",
                                     "multiply", "concat"]))
        if kind in ("add", "multiply", "concat"):
            first = draw(st.sampled_from(names))
            fc, fh, fw = shapes[first]
            if kind == "concat":
                mates = [n for n in names if shapes[n][1:] == (fh, fw) and n != first]
            else:
                mates = [n for n in names if shapes[n] == shapes[first] and n != first]
                if kind == "multiply":  # or a C×1×1 gate of the same channels
                    mates += [n for n in names if shapes[n] == (fc, 1, 1)]
            if not mates:
                kind = "relu"
            else:
                inputs = [first] + draw(st.lists(st.sampled_from(mates), min_size=1, max_size=2))
                layer = {"name": name, "type": kind, "inputs": inputs}
                if kind == "add" and draw(st.booleans()):
                    layer["activation"] = "relu"
                out = (sum(shapes[n][0] for n in inputs), fh, fw) if kind == "concat" else (fc, fh, fw)
        if kind not in ("add", "multiply", "concat"):
            source = draw(st.sampled_from(names))
            sc, sh, sw = shapes[source]
            inputs = [source]
            if kind == "conv":
                k = draw(st.sampled_from([1, 3]))
                filters = draw(channels)
                layer = {"name": name, "type": "conv", "filters": filters, "kernel": k,
                         "padding": k // 2, "groups": draw(st.sampled_from([1, sc])) if filters % sc == 0 else 1,
                         "activation": draw(st.sampled_from([None, "relu", "sigmoid"]))}
                out = (filters, sh, sw)
            elif kind == "strided" and min(sh, sw) >= 3:
                layer = {"name": name, "type": "conv", "filters": sc, "kernel": 3, "stride": 2,
                         "padding": 1}
                out = (sc, (sh - 1) // 2 + 1, (sw - 1) // 2 + 1)
            elif kind == "pool" and min(sh, sw) >= 2:
                if draw(st.booleans()):
                    layer, out = {"name": name, "type": "gap"}, (sc, 1, 1)
                else:
                    layer = {"name": name, "type": "maxpool", "kernel": 2}
                    out = (sc, sh // 2, sw // 2)
            elif kind == "batchnorm":
                layer, out = {"name": name, "type": "batchnorm"}, (sc, sh, sw)
            else:
                layer, out = {"name": name, "type": "relu"}, (sc, sh, sw)
            layer["inputs"] = inputs
        layers.append({k: v for k, v in layer.items() if v is not None})
        read.update(inputs)
        shapes[name] = out
    outputs = [n["name"] for n in layers if n["name"] not in read]
    return {"name": "random_graph", "input": [c, h, w], "outputs": outputs, "layers": layers}
