"""Per-layer params, MACs and activation memory on log scales (``archcalc plot``).

The classic picture: convolutions hold the compute, dense layers the weights.
matplotlib is an optional extra (``pip install 'archcalc[plot]'``), imported only here.
SVG output is deterministic (fixed id salt, no date) so generated docs can be checked.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ArchcalcError
from ..core.report import Report

FORMATS = (".png", ".svg")
PANELS = (("params", "parameters", "#4c72b0"), ("macs", "MACs", "#dd8452"),
          ("activation_bytes", "activation bytes", "#55a868"))


def plot_report(report: Report, path: Path) -> None:
    """Write the three-panel chart of ``report`` to ``path`` (.png or .svg)."""
    if path.suffix.lower() not in FORMATS:
        raise ArchcalcError(f"plot output must end in .png or .svg, got '{path.name}'")
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise ArchcalcError("plotting needs matplotlib: pip install 'archcalc[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "archcalc", "svg.fonttype": "none",
                         "font.family": "DejaVu Sans", "font.size": 8})
    names = [r.name for r in report.layers]
    width = max(6.0, 0.16 * len(names) + 1.5)
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(width, 7.5), sharex=True)
    positions = range(len(names))
    for ax, (key, label, colour) in zip(axes, PANELS):
        values = [getattr(r, key) for r in report.layers]
        # Zero rows (pooling params, say) draw no bar; bars rise from 1, the log axis' floor.
        ax.bar(positions, [v if v > 0 else float("nan") for v in values], color=colour, width=0.8)
        ax.set_yscale("log", nonpositive="clip")
        positive = [v for v in values if v > 0]
        if positive:
            ax.set_ylim(bottom=1, top=max(positive) * 3)
        ax.set_ylabel(label)
        ax.grid(axis="y", which="major", linewidth=0.4, alpha=0.6)
        total = sum(values)
        ax.set_title(f"{label}: {total:,} in all", loc="left", fontsize=8)
    axes[-1].set_xticks(list(positions))
    axes[-1].set_xticklabels(names, rotation=90, fontsize=6 if len(names) > 40 else 7)
    fig.suptitle(f"{report.model} · input {report.input_shape} · batch {report.batch} · {report.dtype}",
                 fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None} if path.suffix.lower() == ".svg" else None, dpi=110)
    plt.close(fig)
