"""Other tools' counting rules, so archcalc can print the figure each tool prints.

For a model defined the same way (PyTorch modules for the PyTorch tools, a Caffe
prototxt for Netscope; a folded activation counts as its own module or layer), a
convention maps each report row to that tool's figures:

    macs         the tool's headline count of multiply-accumulates (what it prints as
                 MACs, Mult-Adds, macc, or fvcore's "flops", one per fused multiply-add)
    flops        the tool's FLOPs when it prints FLOPs (torch.utils.flop_counter: 2 per
                 MAC; fvcore: its flops = its MACs); for tools that print only MACs,
                 2 × their count (+ Netscope's comp, add, div, exp), a derived figure
    params       the tool's parameter count (only Netscope differs from archcalc's)
    activations  the tool's memory figure in elements, where it defines one (torchinfo's
                 forward/backward pass, fvcore's activation count, Netscope's
                 activation memory); otherwise archcalc's

Each tool is one module here: a table ``RULES`` from layer type to rule, and a table
``IGNORED`` of the types the tool does not count, each with the reason, answered by its
``ignored`` rule.  A test fails when a registered layer type is in neither table of some
tool, and a row of such a type is an error, never a silent 0.  Rules were read in each
tool's source (file and function cited in each module's docstring) and are written down
in docs/conventions-compared.md.  Counts stay exact Python integers (the
tools themselves accumulate in float64 or int64; their printed, rounded figures match).
LeNet-only layer types (subsample, rbf) have no PyTorch or Caffe module; every tool's
rule for them is archcalc's MACs, a stated assumption.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from ..core.report import DTYPE_BYTES, Report
from ..errors import ArchcalcError, did_you_mean

if TYPE_CHECKING:  # the tools' modules, and what they share, load when a tool is used
    from .common import Figures, Layerish

__all__ = ["CONVENTIONS", "Convention", "apply", "apply_training", "get", "row_figures",
           "torchinfo_sizes"]


@dataclass(frozen=True)
class Convention:
    """A counting convention: the tool, what its headline figure counts, its rules."""

    name: str
    tool: str
    counts: str          # one line: what its headline figure counts
    module: str | None   # its module here (RULES, IGNORED, ignored); None: archcalc

    @property
    def rules(self) -> ModuleType | None:
        """The tool's module, imported on first use: archcalc's own figures need none."""
        return None if self.module is None else import_module(f"{__package__}.{self.module}")

    def figures(self, v: Layerish) -> Figures | None:
        """The tool's figures for one row, or None when it has no rule for the type."""
        rule = self.rules.RULES.get(v.kind)
        if rule is not None:
            return rule(v)
        if v.kind in self.rules.IGNORED:
            return self.rules.ignored(v)
        return None


CONVENTIONS = {c.name: c for c in (
    Convention("archcalc", "archcalc",
               "MACs of linear maps (no bias); FLOPs = 2·MACs + every elementwise op", None),
    Convention("torchinfo", "torchinfo summary()",
               "Mult-Adds: weights and biases × output positions (conv), × batch (others); "
               "activations = 2 × outputs of modules with parameters", "torchinfo"),
    Convention("fvcore", "fvcore FlopCountAnalysis",
               "flops = 1 per multiply-add of conv/linear, + batch norm 2/elem, adaptive "
               "avg pool 1/input; relu, max pool, softmax, add skipped", "fvcore"),
    Convention("thop", "thop profile()",
               "MACs of conv/linear (no bias), + batch norm 4/elem, avg pools, softmax; "
               "relu and max pool 0", "thop"),
    Convention("ptflops", "ptflops get_model_complexity_info (pytorch backend)",
               "MACs of conv/linear + bias adds, + 1/elem for relu, 1/input for every "
               "pool, batch norm 2/elem", "ptflops"),
    Convention("flopcounter", "torch.utils.flop_counter.FlopCounterMode",
               "FLOPs = 2 × MACs of convolutions and matrix products only, bias ignored",
               "flopcounter"),
    Convention("netscope", "Netscope CNN Analyzer (Caffe)",
               "macc of conv (groups ignored) and inner product, + LRN; comp/add/div/exp "
               "for pooling, relu, dropout, batch norm, softmax, eltwise", "netscope"),
)}


def get(name: str) -> Convention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise ArchcalcError(f"unknown convention '{name}'{did_you_mean(name, CONVENTIONS)}; "
                            f"choose from {', '.join(CONVENTIONS)}") from None


def row_figures(convention: str, row, batch: int) -> Figures:
    """The figures ``convention`` gives one report row (per batch)."""
    from .common import view

    conv = get(convention)
    v = view(row, batch)
    figures = conv.figures(v)
    if figures is None:  # a new layer type needs a row in each tool's tables
        raise ArchcalcError(f"layer '{row.name}': convention '{convention}' has no rule for "
                            f"layer type '{v.kind}' (archcalc/conventions/{convention}.py)")
    return figures


def apply(report: Report, convention: str) -> Report:
    """``report`` with macs, flops (and params, activations where the tool defines them)
    replaced by ``convention``'s figures.  "archcalc" returns it unchanged."""
    if get(convention).rules is None:
        return report
    size = DTYPE_BYTES[report.dtype]
    rows, work = [], []
    for r in report.layers:
        f = row_figures(convention, r, report.batch)
        acts = r.activations if f.activations is None else f.activations
        rows.append(replace(r, macs=f.macs, flops=f.flops,
                            params=r.params if f.params is None else f.params,
                            activations=acts, activation_bytes=acts * size))
        work.append(f.work)
    own_work = tuple(work) if all(w is not None for w in work) else None
    return replace(report, layers=tuple(rows), convention=convention, work=own_work)


def apply_training(report: Report, convention: str) -> Report:
    """``report`` (with training rows, ``table --train``) with the backward figures
    ``convention``'s tool counts; only torch.utils.flop_counter counts a backward."""
    conv = get(convention)
    if conv.rules is None:
        return report
    from .common import view

    backward = getattr(conv.rules, "BACKWARD", None)
    if backward is None:
        raise ArchcalcError(f"{conv.tool} counts the forward pass only; --train with "
                            f"--convention takes flopcounter (or archcalc's own figures)")
    rows = []
    for r, t in zip(report.layers, report.training):
        v = view(r, report.batch)
        rule = backward.get(v.kind)
        flops = rule(v, t.needs) if rule and t.needs.any else 0
        rows.append(replace(t, forward_flops=r.flops, backward_macs=flops // 2,
                            backward_flops=flops))
    return replace(report, training=tuple(rows))


def torchinfo_sizes(report: Report) -> dict:
    """torchinfo's closing lines, in bytes: input, forward/backward pass, params, total."""
    size = DTYPE_BYTES[report.dtype]
    t = report.totals
    sizes = {"input": report.batch * report.input_shape.numel * size,
             "forward/backward pass": t.activation_bytes, "params": t.param_bytes}
    sizes["estimated total"] = sum(sizes.values())
    return sizes
