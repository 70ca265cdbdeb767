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
