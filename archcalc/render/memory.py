"""``archcalc memory``: a model's memory for inference and for a training step, as text
and as the JSON of docs/json.md ("memory").  Computes nothing."""
from __future__ import annotations

import json

from .formatters import human_bytes


def memory_json(plan, training, budget=None, max_batch=None, devices=None) -> dict:
    doc = {
        "model": plan.model,
        "input": list(training.input_shape.dims),
        "batch": plan.batch,
        "dtype": plan.dtype,
        "optimizer": plan.optimizer,
        "trainable_params": training.trainable_params,
        "frozen_params": training.frozen_params,
        "params_bytes": plan.params_bytes,
        "master_bytes": plan.master_bytes,
        "gradients_bytes": plan.gradients_bytes,
        "optimizer_bytes": plan.optimizer_bytes,
        "optimizer_flops": plan.optimizer_flops,
        "saved_activation_bytes": plan.saved_activation_bytes,
        "peak_inference_bytes": plan.peak_inference_bytes,
        "peak_inference_layer": plan.peak_inference_layer,
        "peak_training_bytes": plan.peak_training_bytes,
        "peak_layer": plan.peak_layer,
        "peak_phase": plan.peak_phase,
    }
    if max_batch is not None:
        doc["budget_bytes"] = budget
        doc["max_batch"] = dict(max_batch)
    if devices is not None:
        doc["devices"] = [{"layers": list(d.layers), "params_bytes": d.params_bytes,
                           "peak_bytes": d.peak_bytes, "sends_bytes": d.sends_bytes}
                          for d in devices]
    return doc


def _bytes(n: int) -> str:
    return f"{human_bytes(n)} ({n:,} B)"


def format_memory(plan, training, fmt="text", train=False, budget=None, max_batch=None,
                  devices=None) -> str:
    if fmt == "json":
        return json.dumps(memory_json(plan, training, budget, max_batch, devices),
                          ensure_ascii=False, indent=2) + "\n"
    shape = "×".join(map(str, training.input_shape.dims))
    lines = [f"{plan.model} · input {shape} · batch {plan.batch} · {plan.dtype}", "",
             "inference",
             f"  weights                 {_bytes(plan.params_bytes)}",
             f"  peak                    {_bytes(plan.peak_inference_bytes)}"
             f"  at {plan.peak_inference_layer}"]
    if train:
        frozen = f", {training.frozen_params:,} frozen" if training.frozen_params else ""
        lines += ["", f"training step · {plan.optimizer} · "
                      f"{training.trainable_params:,} trained weights{frozen}",
                  f"  weights                 {_bytes(plan.params_bytes)}"]
        if plan.master_bytes:
            lines.append(f"  float32 master weights  {_bytes(plan.master_bytes)}")
        lines += [f"  gradients               {_bytes(plan.gradients_bytes)}",
                  f"  optimizer state         {_bytes(plan.optimizer_bytes)}",
                  f"  kept for backward       {_bytes(plan.saved_activation_bytes)}",
                  f"  peak                    {_bytes(plan.peak_training_bytes)}"
                  f"  at {plan.peak_layer} ({plan.peak_phase})",
                  f"  optimizer update        {plan.optimizer_flops:,} FLOPs"]
    if max_batch is not None:
        lines += ["", f"largest batch in {human_bytes(budget)}: inference {max_batch['inference']:,}"
                      + (f", training {max_batch['training']:,}" if train else "")]
    if devices is not None:
        from tabulate import tabulate

        rows = [[d.index, f"{d.layers[0]} … {d.layers[-1]}" if len(d.layers) > 1 else d.layers[0],
                 len(d.layers), human_bytes(d.params_bytes), human_bytes(d.peak_bytes),
                 human_bytes(d.sends_bytes)] for d in devices]
        lines += ["", tabulate(rows, headers=["device", "layers", "count", "state", "peak", "sends"],
                               tablefmt="simple", disable_numparse=True)]
    if not train:
        lines += ["", "add --train for a training step (--optimizer, --freeze)"]
    return "\n".join(lines) + "\n"
