"""Figures quoted in README.md and docs/ are what archcalc prints now."""
import json
import re
from pathlib import Path

from archcalc import analyse, load
from archcalc.formatters import format_text, to_json_dict

ROOT = Path(__file__).resolve().parent.parent


def test_readme_table_is_fresh():
    """README's AlexNet table equals `archcalc table alexnet` (refresh: paste its output)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- archcalc table alexnet -->\n```\n(.*?)```\n<!-- end -->", text, re.S)
    assert block, "README.md lost its marked AlexNet table"
    assert block.group(1) == format_text(analyse(load("alexnet"))), \
        "README.md's table is stale: replace it with the output of `archcalc table alexnet`"


def test_json_doc_sample_is_fresh():
    """docs/json.md's sample row and totals equal the real lenet5 output."""
    text = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    sample = re.search(r"```json\n(.*?)```", text, re.S).group(1)
    sample = json.loads(sample)
    real = to_json_dict(analyse(load("lenet5")))
    assert sample["layers"][0] == real["layers"][0]
    assert sample["totals"] == real["totals"]
    assert {k: sample[k] for k in ("model", "input", "batch", "dtype")} == \
        {k: real[k] for k in ("model", "input", "batch", "dtype")}


def test_every_generated_page_is_fresh():
    """Every page `archcalc docs` writes equals the committed one (refresh: `archcalc docs`)."""
    from archcalc.docsite import pages

    stale = [rel for rel, text in pages().items()
             if not (ROOT / "docs" / rel).is_file()
             or (ROOT / "docs" / rel).read_text(encoding="utf-8") != text]
    assert not stale, f"stale generated docs {stale}: run `archcalc docs`"
