"""`archcalc html`: one self-contained page whose table, diagram and charts hold the
report's exact figures, and whose table sorts (in Node.js against a stand-in DOM, and in
headless Chromium when it is installed)."""
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from archcalc import analyse, load
from archcalc.core.collapse import collapse
from archcalc.render.graph import diagram
from archcalc.render.html import picture_depth, render_html

from .helpers import run_cli


class Page(HTMLParser):
    """The layer table's headings and rows (cells with their data-value), tags balanced."""

    VOID = {"meta", "br", "img", "input", "link"}

    def __init__(self):
        super().__init__()
        self.stack, self.heads, self.rows, self.in_table = [], [], [], False
        self.cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "table" and attrs.get("id") == "layers-table":
            self.in_table = True
        if self.in_table and tag == "th":
            self.heads.append({"key": attrs["data-key"], "type": attrs["data-type"]})
        if self.in_table and tag == "tr" and "data-index" in attrs:
            self.rows.append({"index": int(attrs["data-index"]), "cells": []})
        if self.in_table and tag == "td" and self.rows and self.stack[-2:-1] == ["tr"] \
                and "tbody" in self.stack:
            self.cell = {"value": attrs.get("data-value"), "text": ""}
            self.rows[-1]["cells"].append(self.cell)

    def handle_startendtag(self, tag, attrs):  # <rect .../>: opened and closed
        pass

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()
        if tag == "table":
            self.in_table = False
        if tag == "td":
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["text"] += data


def page_of(name, **kw):
    model = load(name)
    report = analyse(model)
    text = render_html(model, report, **kw)
    parsed = Page()
    parsed.feed(text)
    parsed.close()
    assert parsed.stack == []
    return model, report, text, parsed


@pytest.mark.parametrize("name", ["lenet5", "googlenet", "resnet50", "densenet121", "unet_small",
                                  "detection_head"])
def test_page_holds_the_exact_figures_and_nothing_external(name):
    model, report, text, page = page_of(name)
    assert [h["key"] for h in page.heads] == ["name", "type", "output", "params", "connections",
                                              "macs", "flops", "activations", "activation_bytes"]
    assert len(page.rows) == len(report.layers)
    for row, layer in zip(page.rows, report.layers):
        cells = row["cells"]
        assert cells[0]["text"] == layer.name
        assert [int(c["value"]) for c in cells[3:]] == [
            layer.params, layer.connections, layer.macs, layer.flops, layer.activations,
            layer.activation_bytes]
    assert f"{report.totals.macs:,}" in text
    # self-contained: no fetched resource of any kind
    assert not re.search(r"<link|<img|<iframe|\ssrc=|@import", text)
    assert set(re.findall(r"https?://[^\s\"']+", text)) <= {"http://www.w3.org/2000/svg"}
    assert set(re.findall(r"url\(([^)]*)\)", text)) <= {"#arrow"}


def test_diagram_and_charts_draw_every_row_at_their_depth():
    """Each diagram node and edge is an SVG element; each chart has one bar per summed
    row with its exact value (resnet50: 158 rows drawn as 22 at depth 2)."""
    model, report, text, _ = page_of("resnet50")
    depth = picture_depth(report)
    assert depth == 2
    summed = collapse(report, depth)
    d = diagram(model, report, depth)
    svgs = re.findall(r"<svg .*?</svg>", text, re.S)
    root = ET.fromstring(svgs[0])
    ns = "{http://www.w3.org/2000/svg}"
    assert sorted(g.get("data-path") for g in root.iter(f"{ns}g") if g.get("class") == "node") == \
        sorted(n.path for n in d.nodes)
    assert len([p for p in root.iter(f"{ns}path") if p.get("class") == "edge"]) == len(d.edges)
    for svg in svgs[1:]:
        chart = ET.fromstring(svg)
        key = chart.get("data-key")
        bars = [(g.get("data-name"), int(g.get("data-value"))) for g in chart.iter(f"{ns}g")
                if g.get("class") == "bar"]
        assert bars == [(r.name, getattr(r, key)) for r in summed.layers]
    assert "blocks to depth 2: 22 of 158 rows" in text


def _run_node(script: str, page: Page, clicks: list, hash_: str = "") -> list:
    """The row order (data-index) after each click, the page's script run by Node.js on a
    stand-in of the table's DOM."""
    harness = r"""
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
function El(attrs, text) { this.attrs = Object.assign({}, attrs); this.textContent = text || "";
  this.listeners = []; }
El.prototype.getAttribute = function (k) { return k in this.attrs ? this.attrs[k] : null; };
El.prototype.setAttribute = function (k, v) { this.attrs[k] = String(v); };
El.prototype.removeAttribute = function (k) { delete this.attrs[k]; };
El.prototype.addEventListener = function (t, f) { this.listeners.push(f); };
const heads = input.heads.map((h, i) => { const th = new El({"data-key": h.key, "data-type": h.type});
  th.cellIndex = i; return th; });
const rows = input.rows.map(r => { const tr = new El({"data-index": String(r.index)});
  tr.cells = r.cells.map(c => new El(c.value === null ? {} : {"data-value": c.value}, c.text));
  return tr; });
const body = { rows: rows.slice(), appendChild(r) { this.rows.splice(this.rows.indexOf(r), 1);
  this.rows.push(r); } };
const table = { tHead: { rows: [{ cells: heads }] }, tBodies: [body] };
const document = { querySelectorAll: s => s === "table.sortable" ? [table] : [] };
const window = { location: { hash: input.hash } };
new Function("document", "window", input.script)(document, window);
const order = () => body.rows.map(r => Number(r.getAttribute("data-index")));
const out = [order()];
for (const key of input.clicks) {
  heads.find(h => h.getAttribute("data-key") === key).listeners.forEach(f => f());
  out.push(order());
}
console.log(JSON.stringify(out));
"""
    payload = json.dumps({"script": script, "heads": page.heads, "rows": page.rows,
                          "clicks": clicks, "hash": hash_})
    run = subprocess.run(["node", "-e", harness], input=payload, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_table_sorts_in_node():
    """Clicking 'params' sorts ascending (ties in page order), again descending; 'name'
    sorts as text; '#sort=macs:desc' sorts on load — each as Python sorts the rows."""
    _, report, text, page = page_of("googlenet")
    script = re.search(r"<script>(.*)</script>", text, re.S)[1]
    rows = report.layers
    n = range(len(rows))
    orders = _run_node(script, page, ["params", "params", "name", "output"])
    assert orders[0] == list(n)
    assert orders[1] == sorted(n, key=lambda i: (rows[i].params, i))
    assert orders[2] == sorted(n, key=lambda i: (-rows[i].params, i))
    assert orders[3] == sorted(n, key=lambda i: (rows[i].name, i))
    assert orders[4] == sorted(n, key=lambda i: (rows[i].out_shape.numel, i))
    assert _run_node(script, page, [], "#sort=macs:desc")[0] == sorted(n, key=lambda i: (-rows[i].macs, i))


BROWSER = next((b for b in ("chromium", "chromium-browser", "chromium-headless-shell",
                            "google-chrome") if shutil.which(b)), None)


@pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (Debian: apt-get install chromium)")
def test_page_renders_and_sorts_in_headless_chromium(tmp_path, capsys):
    """The page loads with no console error, and '#sort=params:desc' sorts the table."""
    out = tmp_path / "r.html"
    assert run_cli(capsys, "html", "googlenet", "-o", str(out))[0] == 0
    run = subprocess.run([BROWSER, "--headless", "--disable-gpu", "--no-sandbox",
                          "--enable-logging=stderr", "--v=0", "--dump-dom",
                          f"file://{out}#sort=params:desc"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert not re.search(r"CONSOLE.*(Error|Uncaught)|Uncaught", run.stderr), run.stderr
    page = Page()
    page.feed(run.stdout)
    params = [int(r["cells"][3]["value"]) for r in page.rows]
    assert params == sorted(params, reverse=True) and 'aria-sort="descending"' in run.stdout


def test_cli_writes_the_page_and_refuses_bad_paths(capsys, tmp_path):
    out = tmp_path / "report.html"
    status, printed, _ = run_cli(capsys, "html", "resnet18", "-o", str(out), "--depth", "1")
    assert status == 0 and printed == f"wrote {out}\n"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and ">layer4</td>" in text
    status, _, err = run_cli(capsys, "html", "resnet18", "-o", str(tmp_path / "r.txt"))
    assert status == 2 and ".html" in err and err.count("\n") == 1
    status, _, err = run_cli(capsys, "html", "resnet18", "-o", str(tmp_path / "no" / "r.html"))
    assert status == 2 and "cannot write" in err and err.count("\n") == 1
