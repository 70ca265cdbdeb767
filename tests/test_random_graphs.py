"""Random DAGs of convolutions, pools, activations and merges: the engine's shape, params
and MACs of every node equal what the NumPy forward produces, holds and performs; its
liveness memory prediction agrees with tracemalloc; and receptive fields are computed
for every node."""
from hypothesis import given, settings

from archcalc.analyses.receptive import receptive_fields
from archcalc.core.report import analyse
from archcalc.numeric.verify import verify
from archcalc.spec.build import build_model

from .strategies import graph_specs


@settings(max_examples=40)
@given(graph_specs())
def test_random_graph_verifies(doc):
    """verify (shape, params, MACs, memory) agrees on every node of a random graph."""
    model = build_model(doc)
    result = verify(model, batch=2, dtype="float64")
    assert result.ok, result.disagreements()
    assert [c.name for c in result.checks] == [layer["name"] for layer in doc["layers"]]


@settings(max_examples=25)
@given(graph_specs(large=True))
def test_random_large_graph_memory_follows_liveness(doc):
    """At megabyte sizes the memory check applies: every node's traced peak lies within
    the tolerance of the liveness prediction."""
    model = build_model(doc)
    result = verify(model, batch=1, dtype="float64")
    assert result.ok, result.disagreements()


@settings(max_examples=40)
@given(graph_specs())
def test_random_graph_rows_follow_the_graph(doc):
    """One row per node, in the spec's order, each reading the shapes its inputs produced."""
    model = build_model(doc)
    report = analyse(model)
    shapes = {"input": model.input_shape}
    for node, row in zip(model.nodes, report.layers):
        assert row.name == node.path
        assert row.in_shapes == tuple(shapes[i] for i in node.inputs)
        shapes[node.path] = row.out_shape
    fields = receptive_fields(model)
    assert [f.name for f in fields] == [r.name for r in report.layers]
