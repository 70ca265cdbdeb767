"""The MAC tally counts from the operand shapes of the calls it actually runs."""
import numpy as np
import pytest

from archcalc.numeric.tally import Ops


def test_matmul_counts_m_k_n_and_returns_numpys_product():
    """(3×7) @ (7×11): 3·7·11 = 231 MACs; the value is NumPy's product."""
    ops = Ops()
    a, b = np.arange(21.0).reshape(3, 7), np.arange(77.0).reshape(7, 11)
    np.testing.assert_array_equal(ops.matmul(a, b), a @ b)
    assert ops.macs == 231


def test_matmul_counts_broadcast_stacks():
    """(2 groups, 5×3) @ (4 batch, 2 groups, 3×6): 4·2 stacks × 5·3·6 = 720 MACs."""
    ops = Ops()
    ops.matmul(np.ones((2, 5, 3)), np.ones((4, 2, 3, 6)))
    assert ops.macs == 8 * 90


def test_einsum_counts_every_index_combination():
    """'nchwij,c->nchw' on 2×3×4×5×2×2 and 3: 2·3·4·5·2·2 = 480 MACs; calls add up."""
    ops = Ops()
    win, coef = np.ones((2, 3, 4, 5, 2, 2)), np.arange(3.0)
    y = ops.einsum("nchwij,c->nchw", win, coef)
    assert y[1, 2, 3, 4] == 4 * 2.0
    ops.einsum("noi,noi->no", np.ones((2, 3, 7)), np.ones((2, 3, 7)))  # + 42
    assert ops.macs == 480 + 42


def test_mismatched_operands_are_refused():
    """Operands that do not chain, or a subscript that does not fit, raise."""
    with pytest.raises(ValueError):
        Ops().matmul(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError):
        Ops().einsum("ij,j->i", np.ones((2, 3, 4)), np.ones(3))
