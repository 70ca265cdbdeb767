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
    act = draw(st.sampled_from([None, "relu", "relu6", "tanh", "sigmoid", "silu", "hardswish",
                                "gelu", "leaky_relu", "elu", "mish", "hardsigmoid"]))
    kind = draw(st.sampled_from(sorted(REGISTRY)))
    divisor = draw(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]))
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
        "upsample": dict(scale=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                         mode=draw(st.sampled_from(["nearest", "bilinear"]))),
        "conv_transpose": dict(filters=draw(channels), kernel=(kh, kw),
                               stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                               bias=draw(st.booleans()), activation=act),
        "pad": dict(padding=draw(st.integers(0, 2)),
                    mode=draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))),
        "channel_shuffle": dict(groups=divisor), "groupnorm": dict(groups=divisor),
        "slice": dict(start=c - divisor, stop=c),
        "stochastic_depth": dict(rate=0.25), "gelu": dict(approximate=draw(st.sampled_from(["none", "tanh"]))),
        "prelu": dict(slopes=draw(st.sampled_from(["shared", "per_channel"]))),
        "layernorm": dict(affine=draw(st.booleans())), "instancenorm": dict(affine=draw(st.booleans())),
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


# --- verify's memory prediction: models big enough for the memory check ------------------

#: every layer type the strategies below draw (tests/test_verify_memory.py checks the registry
#: has no other: a new type needs memory cases here)
MEMORY_LAYER_TYPES = ("conv", "maxpool", "avgpool", "subsample", "lrn", "batchnorm", "relu", "relu6",
                      "tanh", "sigmoid", "softmax", "dropout", "gap", "adaptive_avgpool", "flatten",
                      "dense", "rbf", "add", "multiply", "concat", "crop", "upsample",
                      "silu", "hardswish", "hardsigmoid", "gelu", "leaky_relu", "elu", "prelu",
                      "mish", "layernorm", "groupnorm", "instancenorm", "channel_shuffle",
                      "identity", "stochastic_depth", "layer_scale", "conv_transpose", "pad",
                      "slice")
#: input elements per sample: 2^16..2^17, so float64 arrays pass verify's 1 MiB floor
MEMORY_ELEMENTS = (1 << 16, 1 << 17)
ACTIVATIONS = [None, "relu", "relu6", "tanh", "sigmoid", "softmax", "silu", "hardswish",
               "hardsigmoid", "gelu", "leaky_relu", "elu", "mish"]


@st.composite
def memory_inputs(draw):
    """C×H×W with C of 1, a few or many maps, shaped as a line (1×L, audio written as
    2-D), a column (L×1), a tall or wide strip or a square-ish map."""
    c = draw(st.sampled_from([1, 2, 3, 6, 16]))
    cells = draw(st.integers(*MEMORY_ELEMENTS)) // c
    form = draw(st.sampled_from(["line", "column", "strip", "square"]))
    if form == "line":
        h = 1
    elif form == "column":
        h = cells
    elif form == "strip":
        h = draw(st.integers(2, 8))
    else:
        h = max(2, int(cells ** 0.5) + draw(st.integers(-5, 5)))
    return c, h, max(1, cells // h)


@st.composite
def memory_padding(draw, kh, kw, dilation, allow_same=True):
    """Every padding form: absent, 'valid', 'same', p, [ph, pw], [[t, b], [l, r]]; each
    explicit pad smaller than the dilated window (PyTorch's rule)."""
    ext = [d * (k - 1) + 1 for k, d in zip((kh, kw), dilation)]
    form = draw(st.sampled_from(["absent", "valid", "same", "int", "pair", "sides"]
                                if allow_same else ["absent", "valid", "int", "pair", "sides"]))
    pad = lambda e: draw(st.integers(0, min(2, e - 1)))  # noqa: E731
    if form == "absent":
        return {}
    if form in ("valid", "same"):
        return {"padding": form}
    if form == "int":
        return {"padding": pad(min(ext))}
    if form == "pair":
        return {"padding": [pad(ext[0]), pad(ext[1])]}
    return {"padding": [[pad(ext[0]), pad(ext[0])], [pad(ext[1]), pad(ext[1])]]}


def _window(draw, h, w, max_kernel=5):
    """(kh, kw) of one of the forms k×k, k×1, 1×k, 1×1, fitting an unpadded h×w map."""
    form = draw(st.sampled_from(["kxk", "kx1", "1xk", "1x1"]))
    k = draw(st.integers(2, max_kernel))
    kh, kw = {"kxk": (k, k), "kx1": (k, 1), "1xk": (1, k), "1x1": (1, 1)}[form]
    return min(kh, h), min(kw, w)


@st.composite
def memory_conv(draw, c, h, w):
    """A conv on c×h×w: every kernel form, groups 1 / g / depthwise / depthwise with a
    multiplier, or a connection table; stride, dilation, bias and folded activation."""
    kh, kw = _window(draw, h, w)
    dilation = [draw(st.sampled_from([1, 2])) if d * (k - 1) + 1 <= size else 1
                for k, size, d in ((kh, h, 2), (kw, w, 2))]
    layer = {"type": "conv", "kernel": [kh, kw], "dilation": dilation,
             "stride": [draw(st.integers(1, 3)), draw(st.integers(1, 3))],
             "bias": draw(st.booleans()), "activation": draw(st.sampled_from(ACTIVATIONS))}
    layer.update(draw(memory_padding(kh, kw, dilation)))
    divisors = [g for g in range(2, c) if c % g == 0]
    mode = draw(st.sampled_from(["dense", "depthwise", "multiplier", "table"] + (["grouped"] if divisors else [])))
    if mode == "dense":
        layer["filters"] = draw(st.integers(1, 6))
    elif mode == "grouped":
        g = draw(st.sampled_from(divisors))
        layer.update(groups=g, filters=g * draw(st.integers(1, 2)))
    elif mode in ("depthwise", "multiplier"):
        layer.update(groups=c, filters=c * (1 if mode == "depthwise" else 2))
    else:
        filters = draw(st.integers(1, 6))
        table = [sorted(draw(st.sets(st.integers(0, c - 1), min_size=1, max_size=c)))
                 for _ in range(filters)]
        layer.update(filters=filters, connection_table=table)
    return layer


@st.composite
def memory_pool(draw, h, w):
    """maxpool (dilation), avgpool (count_include_pad) or subsample, any padding form,
    ceil mode where it has a meaning."""
    kind = draw(st.sampled_from(["maxpool", "avgpool", "subsample"]))
    kh, kw = _window(draw, h, w, max_kernel=4)
    layer = {"type": kind, "kernel": [kh, kw]}
    if draw(st.booleans()):
        layer["stride"] = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    dilation = (1, 1)
    if kind == "maxpool" and draw(st.booleans()):
        dilation = tuple(2 if 2 * (k - 1) + 1 <= size else 1 for k, size in ((kh, h), (kw, w)))
        layer["dilation"] = list(dilation)
    layer.update(draw(memory_padding(kh, kw, dilation, allow_same=kind != "subsample")))
    if kind != "subsample" and layer.get("padding") != "same":
        layer["ceil_mode"] = draw(st.booleans())
    if kind == "avgpool":
        layer["count_include_pad"] = draw(st.booleans())
    if kind == "subsample":
        layer["activation"] = draw(st.sampled_from(ACTIVATIONS))
    return layer


@st.composite
def memory_conv_transpose(draw, c, h, w):
    """A transposed conv on c×h×w: kernel forms, stride, dilation, padding that leaves at
    least one cell, output_padding, groups 1 or depthwise, bias, folded activation."""
    kh, kw = _window(draw, 8, 8, max_kernel=3)
    stride = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    dilation = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    extra = [draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation)]
    full = [(n - 1) * s + d * (k - 1) + 1 + e for n, s, d, k, e in zip((h, w), stride, dilation, (kh, kw), extra)]
    groups = draw(st.sampled_from([1, c]))
    return {"type": "conv_transpose", "kernel": [kh, kw], "stride": stride, "dilation": dilation,
            "output_padding": extra, "padding": [draw(st.integers(0, min(2, (f - 1) // 2))) for f in full],
            "groups": groups, "filters": groups * draw(st.integers(1, 3)), "bias": draw(st.booleans()),
            "activation": draw(st.sampled_from(ACTIVATIONS))}


@st.composite
def memory_resample(draw, h, w):
    """pad (every mode, within its limits) or upsample (nearest or bilinear, a scale or a
    size that grows, keeps or shrinks an axis, align_corners)."""
    if draw(st.booleans()):
        mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
        limit = {"reflect": min(h, w) - 1, "circular": min(h, w)}.get(mode, 3)
        width = st.integers(0, min(3, limit))
        return {"type": "pad", "mode": mode, "padding": [[draw(width), draw(width)], [draw(width), draw(width)]]}
    layer = {"type": "upsample", "mode": draw(st.sampled_from(["nearest", "bilinear"]))}
    if draw(st.booleans()):
        layer["scale"] = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    else:
        layer["size"] = [draw(st.integers(max(1, h // 2), 2 * h)), draw(st.integers(max(1, w // 2), 2 * w))]
    if layer["mode"] == "bilinear" and draw(st.booleans()):
        layer["align_corners"] = draw(st.booleans())
    return layer


@st.composite
def memory_map_layer(draw, c, h, w):
    """One layer that keeps a map: conv, a window pool, lrn, batch norm or an elementwise,
    a modern layer type, a transposed conv, pad or upsample."""
    kind = draw(st.sampled_from(["conv", "conv", "pool", "pool", "lrn", "batchnorm", "elementwise",
                                 "modern", "modern", "conv_transpose", "resample"]))
    if kind == "modern":
        return draw(memory_modern_layer(c))
    if kind == "conv":
        return draw(memory_conv(c, h, w))
    if kind == "conv_transpose":
        return draw(memory_conv_transpose(c, h, w))
    if kind == "resample":
        return draw(memory_resample(h, w))
    if kind == "pool":
        return draw(memory_pool(h, w))
    if kind == "lrn":
        return {"type": "lrn", "size": draw(st.sampled_from([1, 3, 5]))}
    if kind == "batchnorm":
        return {"type": "batchnorm"}
    return {"type": draw(st.sampled_from(["relu", "relu6", "tanh", "sigmoid", "softmax", "dropout"]))}


@st.composite
def memory_modern_layer(draw, c):
    """One shape-keeping layer of the newer vocabulary: an activation (with its attributes),
    layer/group/instance norm, channel shuffle, identity, stochastic depth, layer scale."""
    divisor = draw(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]))
    return draw(st.sampled_from([
        {"type": "silu"}, {"type": "swish"}, {"type": "hardswish"}, {"type": "hardsigmoid"},
        {"type": "gelu"}, {"type": "gelu", "approximate": "tanh"}, {"type": "mish"},
        {"type": "leaky_relu", "slope": 0.2}, {"type": "elu", "alpha": 0.5},
        {"type": "prelu"}, {"type": "prelu", "slopes": "per_channel"},
        {"type": "layernorm"}, {"type": "layernorm", "affine": False, "eps": 1e-6},
        {"type": "groupnorm", "groups": divisor}, {"type": "instancenorm"},
        {"type": "instancenorm", "affine": True}, {"type": "channel_shuffle", "groups": divisor},
        {"type": "identity"}, {"type": "stochastic_depth", "rate": 0.1},
        {"type": "drop_path", "rate": 0.2}, {"type": "layer_scale"}]))


@st.composite
def memory_head(draw, h, w, c=1):
    """What may end the model: nothing, gap, adaptive pooling, flatten (+ dense or softmax),
    dense (which flattens), rbf, a residual add or a concat over the map, or ShuffleNet V2's
    channel split (two slices of the c channels, one kept as a view until the concat)."""
    kind = draw(st.sampled_from(["none", "gap", "adaptive", "flatten", "dense", "rbf",
                                 "residual", "concat", "gate", "merges", "crop", "upsample",
                                 "split"]))
    units = draw(st.integers(1, 3))
    if kind == "none":
        return []
    if kind == "gap":
        return [{"type": "gap"}]
    if kind == "adaptive":
        return [{"type": "adaptive_avgpool", "output": [draw(st.integers(1, min(h, 6))),
                                                       draw(st.integers(1, min(w, 6)))]}]
    if kind == "flatten":
        return [{"type": "flatten"}, draw(st.sampled_from([{"type": "softmax"}, {"type": "dropout"},
                                                          {"type": "dense", "units": units},
                                                          {"type": "layernorm"}, {"type": "gelu"},
                                                          {"type": "groupnorm", "groups": 1},
                                                          {"type": "layer_scale"},
                                                          {"type": "prelu", "slopes": "per_channel"}]))]
    if kind == "dense":
        return [{"type": "dense", "units": units, "bias": draw(st.booleans()),
                 "activation": draw(st.sampled_from(ACTIVATIONS))}]
    if kind == "rbf":
        return [{"type": "rbf", "units": units}]
    trunk = {"name": "t", "type": "relu"}
    if kind == "gate":  # squeeze-and-excitation's broadcast product
        return [trunk, {"name": "g", "type": "gap"}, {"type": "multiply", "inputs": ["t", "g"]}]
    if kind == "merges":  # named inputs: an add of three, then a concat with the trunk
        return [trunk, {"name": "u", "type": "sigmoid", "inputs": ["t"]},
                {"name": "s", "type": "add", "inputs": ["t", "u", "t"]},
                {"type": "concat", "inputs": ["s", "t"]}]
    if kind == "crop" and min(h, w) >= 2:  # a view of the trunk, at a pooled map's size
        return [trunk, {"name": "p", "type": "maxpool", "kernel": 2},
                {"type": "crop", "inputs": ["t", "p"]}]
    if kind == "split" and c >= 2:  # x1 stays a view of the trunk until the concat reads it
        half = draw(st.integers(1, c - 1))
        return [trunk, {"name": "x1", "type": "slice", "stop": half},
                {"name": "x2", "type": "slice", "start": half, "stop": c, "inputs": ["t"]},
                {"name": "b", "type": "sigmoid"}, {"type": "concat", "inputs": ["x1", "b"]}]
    if kind == "split":
        return [{"type": "slice", "stop": 1}]
    if kind in ("crop", "upsample"):
        return [{"type": "upsample", "scale": [draw(st.integers(1, 2)), draw(st.integers(1, 2))]}]
    same = {"type": "conv", "filters": 2, "kernel": 3, "padding": "same"}
    if kind == "residual":
        return [{"type": "residual", "activation": draw(st.sampled_from([None, "relu"])),
                 "body": [{"type": "conv", "filters": 1, "kernel": [1, 1]}, {"type": "relu"}],
                 "shortcut": [{"type": "conv", "filters": 1, "kernel": [1, 1], "bias": False}]}]
    return [{"type": "concat", "branches": [[same], [{"type": "maxpool", "kernel": 1}], []]}]


def _out(size, k, s, d, before, after, ceil_mode=False):
    """Window count along one axis (written for the strategy, independently of archcalc)."""
    span = size + before + after - d * (k - 1) - 1
    if span < 0:
        return 0
    out = -(-span // s) + 1 if ceil_mode else span // s + 1
    if ceil_mode and (out - 1) * s >= size + before:
        out -= 1
    return out


def _next_map(layer, c, h, w):
    """(C, H, W) after a map layer, from tests' own arithmetic; None if nothing fits."""
    if layer["type"] == "conv_transpose":
        return (layer["filters"],) + tuple(
            (n - 1) * s - 2 * p + d * (k - 1) + e + 1 for n, k, s, d, p, e in zip(
                (h, w), layer["kernel"], layer["stride"], layer["dilation"], layer["padding"],
                layer["output_padding"]))
    if layer["type"] == "pad":
        return (c,) + tuple(n + b + a for n, (b, a) in zip((h, w), layer["padding"]))
    if layer["type"] == "upsample":
        return (c,) + (tuple(layer["size"]) if "size" in layer
                       else tuple(n * s for n, s in zip((h, w), layer["scale"])))
    if layer["type"] not in ("conv", "maxpool", "avgpool", "subsample"):
        return c, h, w
    (kh, kw), dilation = layer["kernel"], layer.get("dilation", [1, 1])
    stride = layer.get("stride", layer["kernel"] if layer["type"] != "conv" else [1, 1])
    pad = layer.get("padding", 0)
    out = []
    for size, k, s, d, i in zip((h, w), (kh, kw), stride, dilation, (0, 1)):
        if pad == "same":
            out.append(-(-size // s))
            continue
        p = 0 if pad == "valid" else pad if isinstance(pad, int) else pad[i]
        before, after = (p, p) if isinstance(p, int) else p
        out.append(_out(size, k, s, d, before, after, layer.get("ceil_mode", False)))
    if min(out) < 1:
        return None
    return (layer["filters"] if layer["type"] == "conv" else c), out[0], out[1]


@st.composite
def memory_models(draw, max_map_layers=2):
    """(spec document, batch, dtype): 1..max_map_layers map layers on a memory_inputs()
    input, then a memory_head(); sizes keep every array small enough to run quickly and
    the input large enough that verify checks each row's memory."""
    c, h, w = draw(memory_inputs())
    shape, layers = (c, h, w), []
    for _ in range(draw(st.integers(1, max_map_layers))):
        layer = draw(memory_map_layer(*shape))
        after = _next_map(layer, *shape)
        if after is None or after[0] * after[1] * after[2] > 4 * MEMORY_ELEMENTS[1]:
            continue  # a window that does not fit, or an output too big to be quick
        layers.append(layer)
        shape = after
    layers += draw(memory_head(*shape[1:], c=shape[0]))
    if not layers:
        layers = [{"type": "relu"}]
    for i, layer in enumerate(layers):
        layer.setdefault("name", f"l{i}")  # the heads' merges name what they read
    doc = {"name": "memory", "input": list((c, h, w)), "layers": layers}
    return doc, draw(st.integers(1, 3)), draw(st.sampled_from(["float64", "float32"]))


# --- resampling layers (upsample, conv_transpose, pad) in 1-D, 2-D and 3-D ----------------

ranks = st.integers(min_value=1, max_value=3)
LINEAR_MODE_OF_RANK = {1: "linear", 2: "bilinear", 3: "trilinear"}


def per_axis_draw(draw, rank, values, as_int=True):
    """One value for every axis (an int) or one per axis (a list), as a spec writes them."""
    if as_int and draw(st.booleans()):
        return draw(values)
    return [draw(values) for _ in range(rank)]


@st.composite
def upsample_cases(draw, max_size=6):
    """(raw upsample attributes, input dims (C, *spatial), batch): nearest or the linear
    mode of the input's rank, a scale or a size (down-sizing and kept axes included),
    align_corners on the linear modes."""
    rank = draw(ranks)
    dims = (draw(small),) + tuple(draw(st.integers(1, max_size)) for _ in range(rank))
    mode = draw(st.sampled_from(["nearest", LINEAR_MODE_OF_RANK[rank]]))
    raw = {"mode": mode}
    if draw(st.booleans()):
        raw["scale"] = per_axis_draw(draw, rank, st.integers(1, 3))
    else:
        raw["size"] = per_axis_draw(draw, rank, st.integers(1, 2 * max_size))
    if mode != "nearest" and draw(st.booleans()):
        raw["align_corners"] = draw(st.booleans())
    return raw, dims, draw(st.integers(1, 2))


@st.composite
def transpose_cases(draw, max_size=4):
    """(raw conv_transpose attributes, input dims, batch): kernel, stride, dilation,
    padding, output_padding (< stride or < dilation), groups, bias, folded activation;
    the output keeps at least one cell."""
    rank = draw(ranks)
    groups = draw(small)
    cin, cout = groups * draw(small), groups * draw(small)
    kernel = [draw(st.integers(1, 3)) for _ in range(rank)]
    stride = [draw(st.integers(1, 3)) for _ in range(rank)]
    dilation = [draw(st.integers(1, 2)) for _ in range(rank)]
    size = [draw(st.integers(1, max_size)) for _ in range(rank)]
    extra = [draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation)]
    full = [(n - 1) * s + d * (k - 1) + 1 + e for n, s, d, k, e in zip(size, stride, dilation, kernel, extra)]
    pads = [draw(st.integers(0, (f - 1) // 2)) for f in full]  # at least one cell left
    raw = {"filters": cout, "kernel": kernel, "stride": stride, "dilation": dilation,
           "padding": pads, "output_padding": extra, "groups": groups,
           "bias": draw(st.booleans()), "activation": draw(st.sampled_from([None, "relu", "tanh"]))}
    return raw, (cin,) + tuple(size), draw(st.integers(1, 2))


@st.composite
def pad_cases(draw, max_size=5):
    """(raw pad attributes, input dims, batch): every padding form and mode, each pad
    within the mode's limit (reflect: < size; circular: ≤ size)."""
    rank = draw(ranks)
    dims = (draw(small),) + tuple(draw(st.integers(1, max_size)) for _ in range(rank))
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    limit = {"reflect": min(dims[1:]) - 1, "circular": min(dims[1:])}.get(mode, 3)
    width = st.integers(0, min(limit, 3))
    form = draw(st.sampled_from(["int", "axes", "sides"]))
    if form == "int":
        padding = draw(width)
    elif form == "axes":
        padding = [draw(width) for _ in range(rank)]
    else:
        padding = [[draw(width), draw(width)] for _ in range(rank)]
    raw = {"padding": padding, "mode": mode}
    if mode == "constant" and draw(st.booleans()):
        raw["value"] = draw(st.sampled_from([-1.5, 0.0, 2.0]))
    return raw, dims, draw(st.integers(1, 2))


@st.composite
def nd_resample_memory_models(draw):
    """(spec, batch): a transposed conv, an upsample and a pad on a 1-D or 3-D input of
    2^16..2^17 elements (verify's memory check applies in float64), in random order."""
    rank = draw(st.sampled_from([1, 3]))
    c = draw(st.sampled_from([1, 2, 4]))
    cells = draw(st.integers(1 << 16, 1 << 17)) // c
    sizes = [cells] if rank == 1 else [4, 32, max(4, cells // 128)]
    k = draw(st.integers(1, 3))
    layers = [
        {"type": "conv_transpose", "filters": draw(st.integers(1, 3)), "kernel": k,
         "stride": draw(st.integers(1, 2)), "padding": draw(st.integers(0, (k - 1) // 2)),
         "bias": draw(st.booleans()), "activation": draw(st.sampled_from([None, "relu", "softmax"]))},
        {"type": "upsample", "mode": draw(st.sampled_from(["nearest", LINEAR_MODE_OF_RANK[rank]])),
         "size": [2 * n if i == 0 else n for i, n in enumerate(sizes)]},
        {"type": "pad", "padding": draw(st.integers(0, 2)),
         "mode": draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))},
    ]
    order = draw(st.permutations(range(3)))
    layers = [dict(layers[i], name=f"l{j}") for j, i in enumerate(order)]
    return {"name": "nd", "input": [c] + sizes, "layers": layers}, draw(st.integers(1, 2))

# --- the NumPy backward: one layer of each type on tiny inputs of every rank it takes ------

#: activations a row may fold (every one but prelu)
FOLDED = [None, "relu", "relu6", "tanh", "sigmoid", "softmax", "silu", "hardswish",
          "hardsigmoid", "gelu", "leaky_relu", "elu", "mish"]


@st.composite
def tiny_window(draw, rank, dilation=True, max_pad=1, pool=False):
    """Per-axis kernel, stride, dilation, (before, after) pads and size on ``rank`` axes;
    pads below the dilated window (PyTorch: at most half the kernel for pools)."""
    ks, ss, ds, ps, sizes = [], [], [], [], []
    for _ in range(rank):
        k = draw(st.integers(1, 3))
        d = draw(st.integers(1, 2)) if dilation else 1
        extent = d * (k - 1) + 1
        limit = min(max_pad, k // 2 if pool else extent - 1)
        pads = (draw(st.integers(0, limit)), draw(st.integers(0, limit)))
        if pool:
            pads = (pads[0], pads[0])
        size = draw(st.integers(max(1, extent - sum(pads)), extent + (4 if rank < 3 else 2)))
        ks.append(k), ss.append(draw(st.integers(1, 2))), ds.append(d), ps.append(list(pads))
        sizes.append(size)
    return ks, ss, ds, ps, sizes


@st.composite
def grad_cases(draw, type_name):
    """(attributes, per-sample input dims — a tuple of them for a merge —, batch) of one
    layer of ``type_name`` small enough for finite differences: every rank the type takes
    (1-D, 2-D, 3-D maps; feature vectors where it reads any shape) and its attributes."""
    c = draw(st.integers(1, 4))
    rank = draw(st.integers(1, 3))
    batch = draw(st.integers(1, 3))
    spatial = tuple(draw(st.integers(1, 5 if rank < 3 else 3)) for _ in range(rank))
    any_dims = draw(st.sampled_from([(c,), (c,) + spatial]))
    act = draw(st.sampled_from(FOLDED))
    if type_name == "conv":
        ks, ss, ds, ps, sizes = draw(tiny_window(rank))
        raw = {"kernel": ks, "stride": ss, "dilation": ds, "bias": draw(st.booleans()),
               "activation": act}
        mode = draw(st.sampled_from(["dense", "grouped", "table", "pointwise"]))
        if mode == "table":
            filters = draw(st.integers(1, 4))
            raw.update(filters=filters, connection_table=[
                sorted(draw(st.sets(st.integers(0, c - 1), min_size=1, max_size=c))) for _ in range(filters)])
            raw.pop("dilation")
        elif mode == "grouped":
            groups = draw(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]))
            raw.update(groups=groups, filters=groups * draw(st.integers(1, 2)))
        else:
            raw["filters"] = draw(st.integers(1, 4))
        if mode == "pointwise":
            raw.update(kernel=1, stride=1, dilation=1)
            sizes = list(spatial)
        elif draw(st.booleans()) and mode != "table" and all(s == 1 for s in ss):
            raw["padding"] = "same"
        else:
            raw["padding"] = ps
        return raw, (c, *sizes), batch
    if type_name in ("maxpool", "avgpool", "subsample"):
        ks, ss, ds, ps, sizes = draw(tiny_window(rank, dilation=type_name == "maxpool", pool=True))
        raw = {"kernel": ks, "stride": ss, "padding": ps}
        if type_name == "maxpool":
            raw["dilation"] = ds
        if type_name == "avgpool":
            raw["count_include_pad"] = draw(st.booleans())
        if type_name != "subsample":
            raw["ceil_mode"] = draw(st.booleans())
        else:
            raw["activation"] = act
        return raw, (c, *sizes), batch
    if type_name == "adaptive_avgpool":
        return {"output": [draw(st.integers(1, n + 1)) for n in spatial]}, (c,) + spatial, batch
    if type_name == "upsample":
        return draw(upsample_cases(max_size=5))
    if type_name == "pad":
        return draw(pad_cases())
    if type_name == "conv_transpose":
        raw, dims, n = draw(transpose_cases())
        return {**raw, "activation": act}, dims, n
    if type_name in ("gap", "instancenorm"):
        raw = {"instancenorm": {"affine": draw(st.booleans())}}.get(type_name, {})
        return raw, (c,) + spatial, batch
    if type_name == "dense":
        return {"units": draw(st.integers(1, 4)), "bias": draw(st.booleans()), "activation": act}, any_dims, batch
    if type_name == "rbf":
        return {"units": draw(st.integers(1, 4))}, any_dims, batch
    if type_name == "lrn":
        raw = {"size": draw(st.sampled_from([1, 3, 5])), "k": draw(st.sampled_from([1.0, 2.0])),
               "alpha": draw(st.sampled_from([1e-4, 0.5])), "beta": draw(st.sampled_from([0.75, 0.4]))}
        return raw, (c,) + spatial, batch
    if type_name == "batchnorm":
        return {}, any_dims, max(batch, 2)
    if type_name in ("layernorm", "groupnorm"):
        raw = {"affine": draw(st.booleans())}
        if type_name == "groupnorm":
            raw["groups"] = draw(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]))
        return raw, any_dims, batch
    if type_name == "slice":
        stop = draw(st.integers(1, c))
        return {"start": draw(st.integers(0, stop - 1)), "stop": stop}, any_dims, batch
    if type_name in ("channel_shuffle",):
        return {"groups": draw(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]))}, (c,) + spatial, batch
    if type_name in ("add", "multiply", "concat"):
        k = draw(st.integers(2, 3))
        dims = (c,) + spatial
        raw = {"add": {"activation": act}}.get(type_name, {})
        if type_name == "multiply" and draw(st.booleans()):
            gate = draw(st.sampled_from([(c,), (c,) + (1,) * rank]))
            return raw, (dims, gate) + (dims,) * (k - 2), batch
        if type_name == "concat":
            axis = draw(st.sampled_from(["channels"] + (["height", "width"][:rank] if rank == 2 else [])))
            a = {"channels": 0, "height": 1, "width": 2}[axis]
            parts = []
            for _ in range(k):
                d = list(dims)
                d[a] = draw(st.integers(1, 3))
                parts.append(tuple(d))
            return {"axis": axis}, tuple(parts), batch
        return raw, (dims,) * k, batch
    if type_name == "crop":
        h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
        like = (draw(st.integers(1, 3)), draw(st.integers(1, h)), draw(st.integers(1, w)))
        return {}, ((c, h, w), like), batch
    if type_name == "gelu":
        return {"approximate": draw(st.sampled_from(["none", "tanh"]))}, any_dims, batch
    if type_name == "leaky_relu":
        return {"slope": draw(st.sampled_from([0.01, -0.3, 2.0]))}, any_dims, batch
    if type_name == "elu":
        return {"alpha": draw(st.sampled_from([1.0, 0.5, 2.5]))}, any_dims, batch
    if type_name == "prelu":
        return {"slopes": draw(st.sampled_from(["shared", "per_channel"]))}, any_dims, batch
    if type_name in ("dropout", "stochastic_depth"):
        return {"rate": draw(st.sampled_from([0.0, 0.25, 0.5]))}, any_dims, batch
    if type_name == "layer_scale":
        return {"init": draw(st.sampled_from([1e-6, 0.5]))}, any_dims, batch
    return {}, any_dims, batch  # the other elementwise types, identity, flatten
