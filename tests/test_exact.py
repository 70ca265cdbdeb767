"""Counts are exact Python integers end to end, far past 2**63."""
import json

from archcalc import analyse
from archcalc.spec.build import build_model

from .helpers import run_cli, write_spec


def test_flops_beyond_int64(capsys, tmp_path):
    """A 3×3 conv, 1024→1024 maps on 2048×2048, batch 1,000,000: FLOPs ≈ 7.9e19 > 2**63."""
    path = write_spec(tmp_path, """
    name: huge
    input: [1024, 2048, 2048]
    layers:
      - {name: big, type: conv, filters: 1024, kernel: 3, padding: 1}
    """)
    batch = 1_000_000
    macs = 1024 * 1024 * 3 * 3 * 2048 * 2048 * batch
    flops = 2 * macs + 1024 * 2048 * 2048 * batch
    assert flops > 2**63
    status, out, _ = run_cli(capsys, "table", str(path), "--format", "json", "--batch", str(batch))
    doc = json.loads(out)
    assert status == 0
    assert doc["layers"][0]["macs"] == macs
    assert doc["layers"][0]["flops"] == flops
    assert doc["totals"]["activation_bytes"] == 1024 * 2048 * 2048 * batch * 4
    assert f"{flops:,}" in run_cli(capsys, "table", str(path), "--batch", str(batch), "--wide")[1]


def test_counts_are_python_ints():
    doc = {"name": "m", "input": [3, 9, 9], "layers": [{"type": "conv", "filters": 4, "kernel": 3}]}
    report = analyse(build_model(doc), batch=3)
    row = report.layers[0]
    for value in (row.params, row.connections, row.macs, row.flops, row.activations,
                  row.activation_bytes, report.totals.param_bytes):
        assert type(value) is int
