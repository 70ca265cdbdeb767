"""Figures quoted in README.md and docs/ are what archcalc prints now."""
import json
import re
from pathlib import Path

from archcalc import analyse, load
from archcalc.render.formatters import format_text, to_json_dict

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
    from archcalc.docgen.site import pages

    stale = [rel for rel, text in pages().items()
             if not (ROOT / "docs" / rel).is_file()
             or (ROOT / "docs" / rel).read_text(encoding="utf-8") != text]
    assert not stale, f"stale generated docs {stale}: run `archcalc docs`"


def test_every_block_generator_is_used():
    """Each generated block has a home in some hand-written page (a renamed key would
    otherwise leave its figures unchecked)."""
    from archcalc.docgen.figures import GENERATORS, blocks

    seen = {key for path in (ROOT / "docs").glob("*.md")
            for key in blocks(path.read_text(encoding="utf-8"))}
    assert seen == set(GENERATORS)


def test_stack_of_3x3_has_7x7_field_with_27_against_49_c2():
    """Three 3×3 convs: field 1 + 3·2 = 7 and 3·9·C² = 27C² weights; one 7×7: 49C²
    (C = 64: 27·4096 = 110,592 and 49·4096 = 200,704)."""
    from archcalc.docgen.figures import GENERATORS

    text = GENERATORS["stacked-3x3-vs-7x7"]()
    assert "| `stack3x3` | 3 | 7×7 | 110,592 | 27 |" in text
    assert "| `conv7x7` | 1 | 7×7 | 200,704 | 49 |" in text


def test_limits_table_names_real_constants():
    """Every cap docs/conventions.md's Limits table names is a constant of that module
    (a rename or a move of a cap fails here, not in a reader's hands)."""
    import importlib

    text = (ROOT / "docs" / "conventions.md").read_text(encoding="utf-8")
    named = re.findall(r"`((?:spec|analyses|render|layers|cli)[\w.]*)\.(MAX_[A-Z_]+)\*?`", text)
    assert len(named) >= 15
    for module, name in named:
        found = importlib.import_module(f"archcalc.{module}")
        prefix = name.rstrip("_")
        assert hasattr(found, name) or any(a.startswith(prefix) for a in dir(found)), (module, name)
