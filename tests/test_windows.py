"""The one window rule (shapes.window_out / same_padding) against brute-force counts of
window positions, and against literal cases from the frameworks' documentation."""
from hypothesis import given
from hypothesis import strategies as st

from archcalc.core.shapes import same_padding, window_out

from .strategies import dilations, kernels, sizes, strides, window_cases


def brute_force_positions(size, kernel, stride, pad_before, pad_after, dilation, ceil_mode):
    """Enumerate window starts (in padded coordinates) one by one.

    floor mode keeps a window only if it lies wholly inside the padded input; ceil mode
    also keeps a last window that hangs over the end, provided it starts inside the input
    or its leading padding (PyTorch's and Caffe's rule)."""
    extent = dilation * (kernel - 1) + 1
    padded = pad_before + size + pad_after
    count, start = 0, 0
    while True:
        fits = start + extent <= padded
        overhangs_ok = ceil_mode and start < pad_before + size and start + extent - padded < stride
        if not (fits or overhangs_ok):
            break
        count += 1
        start += stride
    return count


@given(window_cases())
def test_window_out_equals_brute_force(case):
    """For every kernel, stride, padding, dilation and rounding mode, the closed form
    equals the number of window positions counted one by one."""
    assert window_out(*case) == brute_force_positions(*case)


@given(sizes, kernels, strides, dilations)
def test_same_padding_matches_tensorflow_rule(size, kernel, stride, dilation):
    """'same': out = ceil(size/stride); the padding is the least that makes the last
    window fit, with the odd cell after (TensorFlow); floor rule then gives that out."""
    out, before, after = same_padding(size, kernel, stride, dilation)
    extent = dilation * (kernel - 1) + 1
    assert out == -(-size // stride)
    assert after - before in (0, 1)
    assert before + after == max((out - 1) * stride + extent - size, 0)
    assert window_out(size, kernel, stride, before, after, dilation) == out


def test_literal_cases():
    """Figures printed in the frameworks' docs and the classic notes."""
    assert window_out(227, 11, 4) == 55            # AlexNet conv1 (Caffe)
    assert window_out(224, 11, 4) == 54            # the paper's 224: floor((224-11)/4)+1
    assert window_out(224, 11, 4, 2, 2) == 55      # torchvision's AlexNet pads 2
    assert same_padding(224, 11, 4) == (56, 3, 4)  # TensorFlow SAME: 56, not 55
    assert window_out(112, 3, 2, 0, 0, ceil_mode=True) == 56   # GoogLeNet pool, ceil
    assert window_out(112, 3, 2, 0, 0) == 55                   # the same pool, floor
    assert window_out(5, 1, 3, ceil_mode=True) == 2            # ceil drops a window starting past the input
    assert window_out(7, 3, 1, 0, 0, dilation=2) == 3          # dilated extent 5


@given(st.integers(1, 50), st.integers(1, 6), st.integers(1, 4))
def test_ceil_never_below_floor_and_at_most_one_more(size, kernel, stride):
    """Ceil mode adds at most one window to floor mode."""
    if kernel > size:
        return
    floor = window_out(size, kernel, stride)
    ceil = window_out(size, kernel, stride, ceil_mode=True)
    assert floor <= ceil <= floor + 1
