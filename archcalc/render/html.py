"""One self-contained HTML page for a model (``archcalc html``): the totals, a diagram, bar
charts per row, and a per-layer table that sorts when a heading is clicked.

Nothing is fetched: the styles, the SVG pictures and the small script are inline, so the
page opens from a file with no network.  The diagram is laid out here, in layers: a
node's rank is the longest path to it from the input, nodes of a rank side by side in
graph order, edges drawn as curves labelled with the tensor's shape.  Pictures summarise
to a depth (as ``plot`` does: at most :data:`MAX_PICTURE_ROWS` rows) while the table keeps
every row.  Sorting compares exact integers (BigInt), so figures past 2⁵³ sort right;
``#sort=KEY:asc`` or ``#sort=KEY:desc`` in the address sorts on load (a shareable view).
"""
from __future__ import annotations

import html

from ..core.graph import Model
from ..core.report import Report
from .fit import abbreviate
from .formatters import BY_KEY, DEFAULT_KEYS, human_bytes, human_count, shape_text
from .graph import Diagram, diagram

#: Most rows the diagram and the charts draw before summing rows into blocks.
MAX_PICTURE_ROWS = 60
NODE_W, NODE_H, GAP_X, GAP_Y = 176, 38, 24, 44
BAR_ROW, BAR_LABEL, BAR_W = 16, 210, 420
COLOURS = {"params": "#4c72b0", "macs": "#dd8452", "activation_bytes": "#55a868"}

_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em;color:#222}
h1{margin:0 0 .2em}h2{margin:1.6em 0 .5em;font-size:1.15em}
.meta{color:#555;margin:0 0 1em}
table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #e4e4e4;white-space:nowrap}
th{text-align:left;background:#f4f4f4;position:sticky;top:0}
.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
tfoot td{font-weight:bold;border-top:2px solid #999}
.scroll{overflow:auto;max-width:100%;border:1px solid #eee}
svg text{font-family:system-ui,Helvetica,Arial,sans-serif}
.charts{display:flex;flex-wrap:wrap;gap:24px}
"""

_SCRIPT = """
(function () {
  "use strict";
  function value(cell, numeric) {
    var v = cell.getAttribute("data-value");
    if (v === null) { v = cell.textContent; }
    return numeric ? BigInt(v) : String(v);
  }
  function sortTable(table, col, numeric, descending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a.cells[col], numeric), y = value(b.cells[col], numeric);
      var c = numeric ? (x < y ? -1 : x > y ? 1 : 0) : x.localeCompare(y);
      if (descending) { c = -c; }
      if (c === 0) {
        c = Number(a.getAttribute("data-index")) - Number(b.getAttribute("data-index"));
      }
      return c;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  function mark(table, th, descending) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
      h.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  function sortBy(table, th, descending) {
    mark(table, th, descending);
    sortTable(table, th.cellIndex, th.getAttribute("data-type") === "number", descending);
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.addEventListener("click", function () {
        sortBy(table, th, th.getAttribute("aria-sort") === "ascending");
      });
    });
  });
  var wanted = /^#sort=([\\w.]+):(asc|desc)$/.exec(window.location.hash || "");
  if (wanted && tables.length) {
    var heads = tables[0].tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].getAttribute("data-key") === wanted[1]) {
        sortBy(tables[0], heads[i], wanted[2] === "desc");
      }
    }
  }
  window.archcalcSort = sortTable;
})();
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def picture_depth(report: Report) -> int | None:
    """The depth the pictures summarise to: None (every row) when there are at most
    :data:`MAX_PICTURE_ROWS`, else the deepest depth with at most that many, else 1."""
    from ..core.collapse import collapse, max_depth

    if len(report.layers) <= MAX_PICTURE_ROWS:
        return None
    for d in range(max_depth(report) - 1, 0, -1):
        if len(collapse(report, d).layers) <= MAX_PICTURE_ROWS:
            return d
    return 1


def layout(d: Diagram) -> dict:
    """Node id → (x, y) of its box's top-left corner: rank by the longest path from the
    input, nodes of a rank side by side in diagram order, ranks centred."""
    rank = {n.id: 0 for n in d.nodes}
    incoming: dict = {}
    for e in d.edges:
        incoming.setdefault(e.target, []).append(e.source)
    for n in d.nodes:  # diagram order is topological (graph order, the input first)
        if n.id in incoming:
            rank[n.id] = max(rank[s] + 1 for s in incoming[n.id])
    rows: dict = {}
    for n in d.nodes:
        rows.setdefault(rank[n.id], []).append(n.id)
    widest = max(len(r) for r in rows.values())
    full = widest * (NODE_W + GAP_X) - GAP_X
    at = {}
    for r, ids in rows.items():
        span = len(ids) * (NODE_W + GAP_X) - GAP_X
        left = (full - span) / 2
        for k, ident in enumerate(ids):
            at[ident] = (left + k * (NODE_W + GAP_X) + 10, r * (NODE_H + GAP_Y) + 10)
    return at


def diagram_svg(d: Diagram) -> str:
    """The diagram as inline SVG (no external resources).  An edge to the next rank is a
    curve from the bottom of its source to the top of its target; a longer one (a skip
    connection) bows out to the right of the boxes it passes, each a little further out."""
    at = layout(d)
    rank = {ident: round((y - 10) / (NODE_H + GAP_Y)) for ident, (_, y) in at.items()}
    long_edges = [e for e in d.edges if rank[e.target] - rank[e.source] > 1]
    bow = {id(e): 30 + 14 * k for k, e in enumerate(long_edges)}
    width = max(x for x, _ in at.values()) + NODE_W + 10 + (max(bow.values()) if bow else 0)
    height = max(y for _, y in at.values()) + NODE_H + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
           f'aria-label="{_e(d.model)} diagram">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
           'markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
           'fill="#888"/></marker></defs>']
    for e in d.edges:
        (x1, y1), (x2, y2) = at[e.source], at[e.target]
        if id(e) in bow:
            out_x = max(x1, x2) + NODE_W + bow[id(e)]
            x1, y1, x2, y2 = x1 + NODE_W, y1 + NODE_H / 2, x2 + NODE_W, y2 + NODE_H / 2
            path = f"M{x1:.1f},{y1:.1f} C{out_x:.1f},{y1:.1f} {out_x:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
            lx, ly = out_x - 0.25 * (out_x - max(x1, x2)) + 2, (y1 + y2) / 2
        else:
            x1, y1, x2, y2 = x1 + NODE_W / 2, y1 + NODE_H, x2 + NODE_W / 2, y2
            mid = (y1 + y2) / 2
            path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{y2:.1f}"
            lx, ly = (x1 + x2) / 2 + 4, mid + 4
        out.append(f'<path class="edge" d="{path}" fill="none" stroke="#888" '
                   f'marker-end="url(#arrow)" data-source="{e.source}" data-target="{e.target}">'
                   f'<title>{_e(e.shape)}</title></path>')
        out.append(f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="9" fill="#666">{_e(e.shape)}</text>')
    for n in d.nodes:
        x, y = at[n.id]
        fill = "#eef3fb" if n.kind == "block" else "#fdf1e7" if n.kind == "input" else "#ffffff"
        ring = ' stroke-width="2"' if n.output else ""
        name, second = abbreviate(n.path, 28), abbreviate(n.label[1], 30)
        out.append(f'<g class="node" data-id="{n.id}" data-path="{_e(n.path)}">'
                   f'<title>{_e(n.path)}: {_e(n.label[1])}</title>'
                   f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="6" '
                   f'fill="{fill}" stroke="#777"{ring}/>'
                   f'<text x="{x + NODE_W / 2:.1f}" y="{y + 15:.1f}" font-size="11" '
                   f'text-anchor="middle">{_e(name)}</text>'
                   f'<text x="{x + NODE_W / 2:.1f}" y="{y + 30:.1f}" font-size="9" '
                   f'text-anchor="middle" fill="#555">{_e(second)}</text></g>')
    out.append("</svg>")
    return "\n".join(out)


def bars_svg(report: Report, key: str, title: str) -> str:
    """One horizontal bar per row of ``report``, linear in ``key``, its value beside it."""
    rows = report.layers
    values = [getattr(r, key) for r in rows]
    top = max(values + [1])
    height = len(rows) * BAR_ROW + 28
    width = BAR_LABEL + BAR_W + 90
    total = sum(values)
    shown = human_bytes(total) if key == "activation_bytes" else f"{total:,}"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bars" data-key="{key}" '
           f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{_e(title)}">',
           f'<text x="0" y="14" font-size="12" font-weight="bold">{_e(title)}: {_e(shown)} '
           f'in all</text>']
    for i, (r, v) in enumerate(zip(rows, values)):
        y = 24 + i * BAR_ROW
        length = BAR_W * v / top if top else 0
        text = human_bytes(v) if key == "activation_bytes" else human_count(v)
        out.append(f'<g class="bar" data-name="{_e(r.name)}" data-value="{v}">'
                   f'<title>{_e(r.name)}: {v:,}</title>'
                   f'<text x="{BAR_LABEL - 6}" y="{y + 11}" font-size="10" text-anchor="end">'
                   f'{_e(abbreviate(r.name, 32))}</text>'
                   f'<rect x="{BAR_LABEL}" y="{y + 2}" width="{length:.1f}" height="{BAR_ROW - 4}" '
                   f'fill="{COLOURS[key]}"/>'
                   f'<text x="{BAR_LABEL + length + 4:.1f}" y="{y + 11}" font-size="9" '
                   f'fill="#444">{_e(text)}</text></g>')
    out.append("</svg>")
    return "\n".join(out)


def _table(report: Report) -> str:
    keys = list(DEFAULT_KEYS) + (["nodes"] if report.layers and hasattr(report.layers[0], "nodes")
                                 else [])
    heads = []
    for k in keys:
        header = "layers" if k == "nodes" else BY_KEY[k].header
        numeric = k == "nodes" or k == "output" or BY_KEY[k].numeric
        heads.append(f'<th data-key="{k}" data-type="{"number" if numeric else "text"}"'
                     f'{" class=num" if numeric and k != "output" else ""}>{_e(header)}</th>')
    body = []
    for i, r in enumerate(report.layers):
        cells = []
        for k in keys:
            if k == "output":
                cells.append(f'<td data-value="{r.out_shape.numel}">{_e(shape_text(r.out_shape))}</td>')
            elif k in ("name", "type"):
                cells.append(f"<td>{_e(getattr(r, k))}</td>")
            else:
                v = getattr(r, k)
                cells.append(f'<td class="num" data-value="{v}">{v:,}</td>')
        body.append(f'<tr data-index="{i}">{"".join(cells)}</tr>')
    t = report.totals
    foot = []
    for k in keys:
        if k == "name":
            foot.append("<td>total</td>")
        elif k in ("type", "output", "nodes"):
            foot.append("<td></td>")
        else:
            foot.append(f'<td class="num">{getattr(t, k):,}</td>')
    return (f'<table class="sortable" id="layers-table"><thead><tr>{"".join(heads)}</tr></thead>'
            f'<tbody>\n' + "\n".join(body) + f'\n</tbody><tfoot><tr>{"".join(foot)}</tr></tfoot>'
            f"</table>")


def render_html(model: Model, report: Report, depth: int | None = None) -> str:
    """The page: totals, diagram, charts (rows summed to ``depth``, or to a depth with at
    most :data:`MAX_PICTURE_ROWS` rows), the sortable table (rows at ``depth``, or every
    row)."""
    from ..core.collapse import collapse

    pictures = depth if depth is not None else picture_depth(report)
    summed = collapse(report, pictures) if pictures is not None else report
    table = collapse(report, depth) if depth is not None else report
    t = report.totals
    totals = [("params", f"{t.params:,}", human_bytes(t.param_bytes)),
              ("connections", f"{t.connections:,}", human_count(t.connections)),
              ("MACs", f"{t.macs:,}", human_count(t.macs)),
              ("FLOPs", f"{t.flops:,}", human_count(t.flops)),
              ("activations", f"{t.activations:,}", human_bytes(t.activation_bytes))]
    rows = "".join(f'<tr><th>{name}</th><td class="num">{exact}</td><td>{short}</td></tr>'
                   for name, exact, short in totals)
    where = (f" (blocks to depth {pictures}: {len(summed.layers)} of "
             f"{len(report.layers)} rows)") if pictures is not None else ""
    charts = "\n".join(bars_svg(summed, key, label) for key, label in
                       (("params", "parameters"), ("macs", "MACs"),
                        ("activation_bytes", "activation memory")))
    title = f"{report.model} · input {shape_text(report.input_shape)} · batch {report.batch} · {report.dtype}"
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>archcalc · {_e(report.model)}</title>", f"<style>{_STYLE}</style>",
             "</head>", "<body>", f"<h1>{_e(report.model)}</h1>",
             f'<p class="meta">{_e(title)}</p>']
    if model.description:
        parts.append(f"<p>{_e(model.description)}</p>")
    parts += ['<h2 id="totals">Totals</h2>', f'<table class="totals">{rows}</table>',
              f'<h2 id="diagram">Diagram{_e(where)}</h2>',
              f'<div class="scroll">{diagram_svg(diagram(model, report, pictures))}</div>',
              f'<h2 id="charts">Per row{_e(where)}</h2>', f'<div class="charts">{charts}</div>',
              f'<h2 id="layers">Layers{_e(f" (blocks to depth {depth})" if depth else "")}</h2>',
              "<p>Click a heading to sort; the figures are exact (docs/conventions.md in the "
              "archcalc sources defines each).</p>",
              f'<div class="scroll">{_table(table)}</div>',
              f"<script>{_SCRIPT}</script>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"
