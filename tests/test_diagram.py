"""`archcalc graph`: every node and every edge (with its tensor's shape) is in the diagram,
read back from the Mermaid and DOT texts; clusters nest as block paths do."""
import re
import shutil

import pytest

from archcalc import analyse, load
from archcalc.core.graph import INPUT
from archcalc.spec.catalog import bundled_names

from .helpers import run_cli


def expected(name: str, depth=None):
    """Nodes (path, shape) and edges (source, target, shape) from the model's own graph,
    paths cut to ``depth`` parts; shapes as Shape prints them."""
    model = load(name)
    report = analyse(model)
    cut = (lambda p: p) if depth is None else (lambda p: "/".join(p.split("/")[:depth]))
    shape = {INPUT: str(report.input_shape)}
    shape.update({r.name: str(r.out_shape) for r in report.layers})
    last = {}
    for node in model.nodes:
        last[cut(node.path)] = node.path
    nodes = {(INPUT, str(report.input_shape))} | {(g, shape[p]) for g, p in last.items()}
    edges = set()
    for node in model.nodes:
        for t in node.inputs:
            src = INPUT if t == INPUT else cut(t)
            if src != cut(node.path):
                edges.add((src, cut(node.path), shape[t]))
    return nodes, edges


def read_mermaid(text: str):
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    stack, names, nodes, edges = [], {}, set(), set()
    for line in lines[1:]:
        s = line.strip()
        if m := re.fullmatch(r'subgraph (c\d+) \["(.*)"\]', s):
            stack.append(m[2])
        elif s == "end":
            stack.pop()
        elif m := re.fullmatch(r'(\w+) -->\|"(.*)"\| (\w+)', s):
            edges.add((names[m[1]], names[m[3]], m[2]))
        elif m := re.fullmatch(r'(\w+)(?:\(\["|\[")(.*?)(?:"\]\)|"\])', s):
            short, second = m[2].split("<br/>")
            path = f"{stack[-1]}/{short}" if stack else short
            names[m[1]] = path
            nodes.add((path, second.split(" · ")[-1]))
        else:
            raise AssertionError(f"unexpected mermaid line {line!r}")
    assert not stack
    return nodes, edges


def read_dot(text: str):
    stack, names, nodes, edges = [], {}, set(), set()
    lines = text.splitlines()
    assert lines[0].startswith("digraph ") and lines[-1] == "}"
    for line in lines[1:-1]:
        s = line.strip()
        if re.fullmatch(r'subgraph "cluster_\d+" \{', s):
            stack.append(None)
        elif m := re.match(r'label="(.*)"; style=rounded', s):
            stack[-1] = m[1]
        elif s == "}":
            stack.pop()
        elif m := re.fullmatch(r'"(\w+)" -> "(\w+)" \[label="(.*)"\];', s):
            edges.add((names[m[1]], names[m[2]], m[3]))
        elif m := re.fullmatch(r'"(\w+)" \[label="(.*?)"(?:, [\w=]+)?\];', s):
            short, second = m[2].split("\\n")
            path = f"{stack[-1]}/{short}" if stack else short
            names[m[1]] = path
            nodes.add((path, second.split(" · ")[-1]))
        elif not (s.startswith(("rankdir", "node [", "edge ["))):
            raise AssertionError(f"unexpected dot line {line!r}")
    assert not stack
    return nodes, edges


@pytest.mark.parametrize("name", bundled_names())
def test_every_node_and_edge_in_mermaid_and_dot(capsys, name):
    for depth in (None, 1):
        want = expected(name, depth)
        extra = [] if depth is None else ["--depth", str(depth)]
        for fmt, read in (("mermaid", read_mermaid), ("dot", read_dot)):
            status, out, err = run_cli(capsys, "graph", name, "--format", fmt, *extra)
            assert status == 0, err
            assert read(out) == want, (name, fmt, depth)


def test_blocks_are_nested_clusters(capsys):
    """resnet18 at depth 2: clusters layer1…layer4, each holding two block nodes."""
    status, out, _ = run_cli(capsys, "graph", "resnet18", "--depth", "2")
    assert status == 0
    assert re.findall(r'subgraph c\d+ \["(.*)"\]', out) == ["layer1", "layer2", "layer3", "layer4"]
    assert 'n4["0<br/>block of 6 · 64×56×56"]' in out
    status, out, _ = run_cli(capsys, "graph", "googlenet", "--option", "aux_logits=true")
    clusters = re.findall(r'subgraph c\d+ \["(.*)"\]', out)
    assert "inception_4a" in clusters and "loss1" in clusters


def test_svg_through_graphviz_or_one_line_saying_how(capsys, tmp_path):
    out = tmp_path / "g.svg"
    status, printed, err = run_cli(capsys, "graph", "lenet5", "--format", "svg", "-o", str(out))
    if shutil.which("dot") is None:
        assert status == 2 and printed == "" and err.count("\n") == 1
        assert "Graphviz" in err and "--format dot or mermaid" in err
        return
    import xml.etree.ElementTree as ET

    assert status == 0, err
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    assert root.tag.endswith("svg") and "C3" in out.read_text(encoding="utf-8")


def test_labels_with_quotes_are_escaped(capsys, tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text('name: \'say "hi"\'\ninput: [1, 4, 4]\nlayers: [{name: \'a"b<c>\', type: relu}]\n')
    status, out, _ = run_cli(capsys, "graph", str(path))
    assert status == 0 and 'n0(["a#quot;b#lt;c#gt;<br/>relu · 1×4×4"])' in out
    status, out, _ = run_cli(capsys, "graph", str(path), "--format", "dot")
    assert status == 0 and 'digraph "say \\"hi\\"" {' in out and 'label="a\\"b<c>\\nrelu' in out
