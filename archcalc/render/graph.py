"""The model as a diagram (``archcalc graph``): Mermaid, Graphviz DOT, or SVG through
Graphviz's ``dot``.

A diagram node is a row of the report at the chosen depth (every node of the graph, or
block instances summed, archcalc.core.collapse), plus the input; an edge is a tensor one
row reads from another, labelled with its shape (per sample, the batch axis left out);
block instances are clusters (subgraphs) nested as their paths are.  Inside a cluster a
node is labelled by the last part of its path, the cluster by its whole path.  Edges
between the same two diagram nodes with the same shape are drawn once.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.graph import INPUT, Model
from ..core.report import Report
from ..errors import ArchcalcError, one_line
from .formatters import shape_text

FORMATS = ("mermaid", "dot", "svg")


@dataclass(frozen=True)
class DiagramNode:
    id: str
    path: str            # the row's name ('input' for the input)
    kind: str            # the layer type, 'block', or 'input'
    shape: str           # output shape (input shape for the input)
    nodes: int           # graph nodes the row holds
    clusters: tuple      # enclosing block paths, outermost first
    output: bool = False  # holds a tensor the model returns

    @property
    def label(self) -> tuple:
        """The lines of its label: short name, type and output shape (and the size of a
        block)."""
        name = self.path.rsplit("/", 1)[-1] if self.clusters else self.path
        kind = f"block of {self.nodes}" if self.kind == "block" else self.kind
        return (name, f"{kind} · {self.shape}") if self.kind != "input" else (name, self.shape)


@dataclass(frozen=True)
class DiagramEdge:
    source: str
    target: str
    shape: str


@dataclass(frozen=True)
class Diagram:
    model: str
    nodes: tuple
    edges: tuple
    #: every cluster path, each after those enclosing it, in first-use order
    clusters: tuple


def diagram(model: Model, report: Report, depth: int | None = None) -> Diagram:
    """The diagram of ``model`` (``report`` its report: one row per node, in order), rows
    summed to ``depth`` when given."""
    from ..core.collapse import groups

    names = [r.name for r in report.layers]
    held = groups(names, depth) if depth is not None else \
        [(name, False, [i]) for i, name in enumerate(names)]
    owner, nodes = {INPUT: "input"}, [DiagramNode("input", INPUT, "input",
                                                  shape_text(report.input_shape), 0, ())]
    tensor_shape = {INPUT: shape_text(report.input_shape)}
    outputs = set(model.outputs)
    clusters: dict = {}
    for g, (name, block, rows) in enumerate(held):
        ident = f"n{g}"
        parts = name.split("/")
        chain = tuple("/".join(parts[:k]) for k in range(1, len(parts)))
        for c in chain:
            clusters.setdefault(c, None)
        last = report.layers[rows[-1]]
        nodes.append(DiagramNode(ident, name, "block" if block else last.type,
                                 shape_text(last.out_shape), len(rows), chain,
                                 any(model.nodes[i].path in outputs for i in rows)))
        for i in rows:
            owner[model.nodes[i].path] = ident
            tensor_shape[model.nodes[i].path] = shape_text(report.layers[i].out_shape)
    edges: dict = {}
    for node in model.nodes:
        for tensor in node.inputs:
            src, dst = owner[tensor], owner[node.path]
            if src != dst:
                edges.setdefault((src, dst, tensor_shape[tensor]), None)
    return Diagram(report.model, tuple(nodes),
                   tuple(DiagramEdge(*e) for e in edges), tuple(clusters))


def _tree(d: Diagram):
    """Children of each cluster ('' the top level): (cluster paths, node ids), in order."""
    kids = {"": ([], [])}
    for c in d.clusters:
        kids.setdefault(c, ([], []))
        parent = c.rsplit("/", 1)[0] if "/" in c else ""
        kids[parent][0].append(c)
    for n in d.nodes:
        kids[n.clusters[-1] if n.clusters else ""][1].append(n)
    return kids


def _mermaid_text(text: str) -> str:
    return (one_line(text).replace("&", "#amp;").replace('"', "#quot;")
            .replace("<", "#lt;").replace(">", "#gt;"))


def to_mermaid(d: Diagram) -> str:
    """A Mermaid flowchart (top to bottom) that GitHub renders in a ```mermaid block."""
    kids = _tree(d)
    ids = {c: f"c{i}" for i, c in enumerate(d.clusters)}
    out = ["flowchart TD"]

    def emit(cluster: str, indent: str) -> None:
        clusters, nodes = kids[cluster]
        for n in nodes:
            label = "<br/>".join(_mermaid_text(line) for line in n.label)
            shape = ('(["', '"])') if n.kind == "input" or n.output else ('["', '"]')
            out.append(f"{indent}{n.id}{shape[0]}{label}{shape[1]}")
        for c in clusters:
            out.append(f'{indent}subgraph {ids[c]} ["{_mermaid_text(c)}"]')
            emit(c, indent + "  ")
            out.append(f"{indent}end")
    emit("", "  ")
    out += [f'  {e.source} -->|"{_mermaid_text(e.shape)}"| {e.target}' for e in d.edges]
    return "\n".join(out) + "\n"


def _dot_text(text: str) -> str:
    return one_line(text).replace("\\", "\\\\").replace('"', '\\"')


def to_dot(d: Diagram) -> str:
    """A Graphviz digraph, top to bottom, clusters for blocks."""
    kids = _tree(d)
    ids = {c: f"cluster_{i}" for i, c in enumerate(d.clusters)}
    out = [f'digraph "{_dot_text(d.model)}" {{', "  rankdir=TB;",
           '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
           '  edge [fontname="Helvetica", fontsize=9];']

    def emit(cluster: str, indent: str) -> None:
        clusters, nodes = kids[cluster]
        for n in nodes:
            label = "\\n".join(_dot_text(line) for line in n.label)
            extra = ", shape=oval" if n.kind == "input" else ", peripheries=2" if n.output else ""
            out.append(f'{indent}"{n.id}" [label="{label}"{extra}];')
        for c in clusters:
            out.append(f'{indent}subgraph "{ids[c]}" {{')
            out.append(f'{indent}  label="{_dot_text(c)}"; style=rounded; color="#999999";')
            emit(c, indent + "  ")
            out.append(f"{indent}}}")
    emit("", "  ")
    out += [f'  "{e.source}" -> "{e.target}" [label="{_dot_text(e.shape)}"];' for e in d.edges]
    return "\n".join(out) + "\n}\n"


#: Seconds Graphviz may take to lay a diagram out.
DOT_TIMEOUT = 120


def to_svg(d: Diagram) -> str:
    """The DOT diagram laid out by Graphviz's ``dot`` (when it is installed)."""
    import shutil
    import subprocess

    dot = shutil.which("dot")
    if dot is None:
        raise ArchcalcError("--format svg needs Graphviz's 'dot' program, which is not "
                            "installed: install Graphviz (apt-get install graphviz, brew "
                            "install graphviz, https://graphviz.org/download/) or use "
                            "--format dot or mermaid")
    try:
        run = subprocess.run([dot, "-Tsvg"], input=to_dot(d), capture_output=True, text=True,
                             timeout=DOT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ArchcalcError(f"Graphviz took more than {DOT_TIMEOUT} s to lay the diagram out; "
                            f"try --depth") from None
    if run.returncode != 0:
        raise ArchcalcError(f"Graphviz failed: {one_line(run.stderr.strip()) or run.returncode}")
    return run.stdout


RENDER = {"mermaid": to_mermaid, "dot": to_dot, "svg": to_svg}
