"""docs/memory-and-training.md: what a training step holds, for three questions people ask,
computed by ``archcalc memory`` from the bundled specs."""
from __future__ import annotations

from ..analyses.devices import towers
from ..analyses.memory import max_batch, optimizer, plan
from ..analyses.training import analyse_training
from ..core.engine import propagate
from ..render.formatters import human_bytes
from ..spec.catalog import load

PAGE = "memory-and-training.md"
#: a GTX 580 as AlexNet was trained on it: 3 GB
GTX_580 = 3 * 2**30


def _plan_rows(model, batch, dtype, opt):
    t = analyse_training(model, batch=batch, dtype=dtype)
    p = plan(t, opt)
    return t, p, [("weights", p.params_bytes), ("float32 master weights", p.master_bytes),
                  ("gradients", p.gradients_bytes), ("optimizer state", p.optimizer_bytes),
                  ("kept for the backward", p.saved_activation_bytes),
                  ("peak of the step", p.peak_training_bytes)]


def _table(columns, rows) -> list[str]:
    out = ["| | " + " | ".join(columns) + " |", "|:---|" + "---:|" * len(columns)]
    out += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows]
    return out


def _vgg() -> list[str]:
    model = load("vgg16")
    cols, cells, peaks = [], {}, []
    for dtype in ("float32", "float16"):
        t, p, rows = _plan_rows(model, 64, dtype, "adam")
        cols.append(dtype if dtype == "float32" else "float16 (mixed)")
        for name, value in rows:
            cells.setdefault(name, []).append(f"{human_bytes(value)} ({value:,} B)")
        peaks.append(f"{p.peak_layer} ({p.peak_phase})")
    out = ["## VGG-16 with Adam at batch 64", "",
           "From `archcalc memory vgg16 --train --optimizer adam --batch 64` "
           "(and `--dtype float16`):", ""]
    out += _table(cols, [(k, v) for k, v in cells.items() if any(x != "0 B (0 B)" for x in v)])
    out += ["", f"The peak is reached at {peaks[0]}: every tensor kept for the backward is "
            "alive, and the first gradients of the backward are being made. Mixed precision "
            "halves the activations but not the weights' share: 16-bit weights and gradients "
            "plus float32 master weights and moments are 16 bytes per weight, as float32 "
            "training with Adam is.", ""]
    return out


def _resnet() -> list[str]:
    model = load("resnet50_torchvision")
    budget = 16 * 2**30
    rows = []
    for opt in ("momentum", "adam"):
        for dtype in ("float32", "float16"):
            t = analyse_training(model, batch=1, dtype=dtype)
            fits = max_batch(t, plan(t, opt), budget)
            rows.append((f"{opt}, {dtype}", [f"{fits['training']:,}", f"{fits['inference']:,}"]))
    out = ["## ResNet-50: the largest batch in 16 GiB", "",
           "From `archcalc memory resnet50_torchvision --train --budget 16GiB --optimizer …`; "
           "memory is a + b·batch at every time of the step, so the answer is solved for, "
           "not searched:", ""]
    out += _table(["training", "inference"], rows)
    return out + ["", "Framework overheads (the CUDA context, cuDNN workspaces, the "
                  "allocator's caching) come on top of these figures.", ""]


def _alexnet() -> list[str]:
    model = load("alexnet")
    opt = optimizer("momentum")
    t = analyse_training(model, batch=128)
    whole = plan(t, "momentum")
    halves = towers(t, model, propagate(model), opt, 2)
    gpu = halves[0]
    verdict = "fits" if gpu.peak_bytes <= GTX_580 else "does not fit"
    whole_verdict = "would fit" if whole.peak_training_bytes <= GTX_580 else "would not fit"
    out = ["## AlexNet on two GTX 580s", "",
           "Krizhevsky et al. (2012, section 3.2) split AlexNet over two 3 GB GPUs: each holds "
           "half of every layer's kernels and maps, and only conv3 and the dense layers read "
           "the other GPU's maps (the spec's `groups: 2` on conv2, conv4 and conv5 says which "
           "layers stay on their GPU). At the paper's batch of 128 with momentum, float32, "
           "from `archcalc memory alexnet --train --optimizer momentum --batch 128 --devices 2 "
           "--split towers`:", ""]
    out += _table(["per GPU", "one GPU, unsplit"], [
        ("weights, gradients, momentum", [human_bytes(gpu.params_bytes), human_bytes(whole.static_training_bytes)]),
        ("peak of the step", [human_bytes(gpu.peak_bytes), human_bytes(whole.peak_training_bytes)]),
        ("sent to the other GPU per step", [human_bytes(gpu.sends_bytes), "—"])])
    out += ["", f"Each half {verdict} in a 3 GB GTX 580 ({human_bytes(gpu.peak_bytes)} of "
            f"{human_bytes(GTX_580)}). By this arithmetic the unsplit network {whole_verdict} "
            f"too ({human_bytes(whole.peak_training_bytes)}): the paper's \"too big to fit on "
            "one GPU\" reflects its implementation (cuda-convnet's buffers and workspace, which "
            "these figures leave out), not the weights and activations themselves.", ""]
    return out


def render() -> str:
    out = ["# Memory and training", "",
           "Generated by `archcalc docs`; definitions in "
           "[conventions](conventions.md#training). Every figure is exact for the model as "
           "specified; what a framework allocates besides (workspaces, caches) is not "
           "included.", ""]
    out += _vgg() + _resnet() + _alexnet()
    return "\n".join(out)


def refreshed() -> dict:
    return {PAGE: render()}


__all__ = ["PAGE", "render", "refreshed"]
