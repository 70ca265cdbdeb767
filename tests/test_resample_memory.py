"""verify's memory prediction for conv_transpose, upsample and pad (their ``workspace``)
against the traced peak, on 2-D models drawn with every other layer type
(tests/test_verify_memory.py's strategies include them) and here on 1-D and 3-D models.

Each property: verify passes (shapes, params, MACs, memory within its tolerance), and
where a layer's workspace is a sizeable part of its row the peak is within a few per cent."""
import numpy as np
from hypothesis import given, settings

from archcalc.core.report import DTYPE_BYTES, analyse
from archcalc.numeric.verify import MEMORY_FLOOR, predicted_memory, verify
from archcalc.spec.build import build_model
from archcalc.spec.fields import build
from archcalc.layers import REGISTRY
from archcalc.core.shapes import Shape

from .strategies import nd_resample_memory_models
from .test_verify_memory import BUFFERED_OPERANDS, TIGHT, _workspace_share


@settings(max_examples=20, deadline=None)
@given(nd_resample_memory_models())
def test_verify_passes_on_1d_and_3d_resampling_models(case):
    """1-D and 3-D models of a transposed conv, an upsample and a pad in any order verify,
    and rows whose workspace is at least a quarter of the prediction are within 5 %."""
    doc, batch = case
    model = build_model(doc)
    result = verify(model, batch=batch, dtype="float64")
    assert result.ok, result.disagreements()
    report = analyse(model, batch=batch, dtype="float64")
    predicted = predicted_memory(report, model)
    slack = BUFFERED_OPERANDS * np.getbufsize() * DTYPE_BYTES["float64"]
    for check, share in zip(result.checks, _workspace_share(report, predicted)):
        if share >= 0.25 and check.predicted_bytes >= MEMORY_FLOOR:
            low, high = check.predicted_bytes / TIGHT, check.predicted_bytes * TIGHT + slack
            assert low <= check.measured_bytes <= high, (check.name, check.type,
                                                        check.predicted_bytes, check.measured_bytes)


def test_workspace_by_hand():
    """conv_transpose 8 → 4 maps, kernel 2, on 8×30×40: one sample's columns
    4·2·2·30·40 = 19,200 elements, the same at batch 1 and 5.  Bilinear 3×30×40 → size
    [60, 80]: pass 1 makes 3·60·40 = 7,200, held while pass 2 writes the output, so batch
    2 holds 14,400; a single pass (linear in 1-D, nearest to any size) holds nothing.
    Pad: constant 0; reflect copies each border slab before writing it, the largest being
    the height's, 3·(40 + 4)·2 = 264 per sample (the width's is 3·(30 + 4)·2 = 204)."""
    ct = build(REGISTRY["conv_transpose"], {"filters": 4, "kernel": 2, "stride": 2})
    assert ct.workspace(Shape.of(8, 30, 40), 1) == ct.workspace(Shape.of(8, 30, 40), 5) == 19_200
    up = build(REGISTRY["upsample"], {"size": [60, 80], "mode": "bilinear"})
    assert up.workspace(Shape.of(3, 30, 40), 2) == 14_400
    assert build(REGISTRY["upsample"], {"size": 77, "mode": "linear"}).workspace(Shape.of(3, 30), 2) == 0
    assert build(REGISTRY["upsample"], {"size": [45, 77]}).workspace(Shape.of(3, 30, 40), 2) == 0
    assert build(REGISTRY["pad"], {"padding": 2, "mode": "reflect"}).workspace(Shape.of(3, 30, 40), 2) == 528
    assert build(REGISTRY["pad"], {"padding": 2}).workspace(Shape.of(3, 30, 40), 2) == 0
