"""Every figure the bundled specs give, as the CLI prints it, for the golden-file test.

tests/golden/digests.json holds the SHA-256 of each output.  ``python -m tests.golden_outputs
--write DIR`` writes the full texts (to diff two versions of the code);
``python -m tests.golden_outputs --update`` rewrites the digests from the current code: do
that only when a change of figures is intended and explained in the commit (the graph-core
refactor left every one of them byte-identical).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sys
from pathlib import Path

from archcalc.spec.catalog import bundled_names
from archcalc.cli import main

GOLDEN = Path(__file__).parent / "golden"
CONVENTIONS = ("archcalc", "torchinfo", "fvcore", "thop", "ptflops", "flopcounter", "netscope")
WORK = "name,type,macs,flops,comparisons,additions,multiplications,divisions,exponentials"
#: the bundled models whose options change the graph, with those options switched on
OPTIONS = {"googlenet": ("aux_logits=true",), "googlenet_torchvision": ("aux_logits=true",),
           "inception_v3": ("aux_logits=true",), "vgg16": ("torchvision=true",),
           "regnet_x_400mf": ("pycls_widths=true",), "shufflenet_v2_x1_0": ("megvii=true",)}


#: the second-wave zoo (hundreds of layers each, where a scan of 1..300 takes seconds) pins
#: the 65 sizes around its declared input instead (its model pages pin 192..256 as well),
#: and no symbolic table: tests/test_symbolic.py checks every bundled model's formulas
#: against the engine, and its model pages pin the first layers' (CI time: issue 12)
SECOND_WAVE = {"efficientnet_b0": 224, "efficientnet_b1": 240, "efficientnet_b2": 260,
               "efficientnet_b3": 300, "mobilenet_v3_large": 224, "mobilenet_v3_small": 224,
               "convnext_tiny": 224, "convnext_small": 224, "regnet_x_400mf": 224,
               "regnet_y_400mf": 224, "regnet_y_1_6gf": 224, "resnext50_32x4d": 224,
               "wide_resnet50_2": 224, "shufflenet_v2_x1_0": 224, "inception_v3": 299,
               "mnasnet1_0": 224}
SCANS = {name: ("--min", str(size - 32), "--max", str(size + 32)) for name, size in SECOND_WAVE.items()}


def commands(name: str) -> dict[str, list[str]]:
    """The CLI calls whose output is pinned for model ``name``, by golden-file stem."""
    calls = {f"table.{c}": ["table", name, "--format", "json", "--convention", c, "--batch", "3"]
             for c in CONVENTIONS}
    calls["table.text"] = ["table", name, "--wide"]  # every column: the fitted text is tests/test_depth.py's
    calls["table.work"] = ["table", name, "--format", "csv", "--columns", WORK]
    calls["table.rf"] = ["table", name, "--format", "json", "--rf"]
    calls["rf"] = ["rf", name, "--format", "json"]
    calls["sizes"] = ["sizes", name, "--format", "json", *SCANS.get(name, ("--min", "1", "--max", "300"))]
    if name not in SECOND_WAVE:
        calls["symbolic"] = ["table", name, "--symbolic", "--format", "json"]
    for opts in OPTIONS.get(name, ()):
        flag = ["--option", opts]
        calls["option.table"] = ["table", name, "--format", "json", *flag]
        calls["option.netscope"] = ["table", name, "--format", "json", "--convention",
                                    "netscope", *flag]
        calls["option.rf"] = ["rf", name, "--format", "json", *flag]
        calls["option.fvcore"] = ["table", name, "--format", "json", "--convention", "fvcore",
                                  *flag]
    return calls


def run(args: list[str]) -> str:
    """stdout and exit status of ``archcalc ARGS``, in-process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(args))
        except Exception as exc:  # pinned as a crash, so a fix shows as a golden change
            status = f"crash {type(exc).__name__}"
    return f"{out.getvalue()}# exit {status}\n{err.getvalue()}"


def outputs() -> dict[str, str]:
    """Golden-file name → the text it must hold."""
    texts = {}
    for name in bundled_names():
        for stem, args in commands(name).items():
            texts[f"{name}.{stem}.txt"] = run(args)
    texts["check.txt"] = run(["check", "--format", "json"])
    return texts


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


DIGESTS = GOLDEN / "digests.json"


if __name__ == "__main__":
    texts = outputs()
    if sys.argv[1:2] == ["--update"]:
        DIGESTS.write_text(json.dumps({k: digest(v) for k, v in sorted(texts.items())}, indent=1)
                           + "\n", encoding="utf-8")
        print(f"wrote {len(texts)} digests to {DIGESTS}", file=sys.stderr)
    elif sys.argv[1:2] == ["--write"] and len(sys.argv) == 3:
        out = Path(sys.argv[2])
        out.mkdir(parents=True, exist_ok=True)
        for rel, text in texts.items():
            (out / rel).write_text(text, encoding="utf-8")
        print(f"wrote {len(texts)} files to {out}", file=sys.stderr)
    else:
        sys.exit("usage: python -m tests.golden_outputs --update | --write DIR")
