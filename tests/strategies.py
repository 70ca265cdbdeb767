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
