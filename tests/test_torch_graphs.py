"""The bundled graph examples rebuilt in PyTorch (float64), each layer through its inference
form (tests/torch_forms.py): every node's output shape and values equal those of archcalc's
NumPy run, with the same weights.

Optional: needs torch; skipped, visibly, without it.
"""
import numpy as np

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install -e '.[torch]' runs the oracle tests")

from archcalc.core.graph import INPUT  # noqa: E402
from archcalc.numeric.runner import forward  # noqa: E402
from archcalc.spec.catalog import load  # noqa: E402

from .torch_forms import INFERENCE_FORMS  # noqa: E402

EXAMPLES = ("se_resnet_block", "mbconv_se", "unet_small", "detection_head")


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_graph_matches_torch(name):
    """Node by node, with torch computing from torch's own earlier outputs."""
    model = load(name)
    x, runs = forward(model, batch=2, dtype="float64")
    by_name = {run.name: run for run in runs}
    values = {INPUT: t(x)}
    for node in model.nodes:
        layer, run = node.layer, by_name[node.path]
        weights = {k: t(v) for k, v in run.weights.items()}
        y = INFERENCE_FORMS[layer.type_name](layer, weights, [values[i] for i in node.inputs], None)
        assert tuple(y.shape[1:]) == run.out_shape, node.path
        np.testing.assert_allclose(run.output, y.numpy(), rtol=1e-9, atol=1e-9, err_msg=node.path)
        values[node.path] = y
    assert set(model.outputs) <= set(values)
