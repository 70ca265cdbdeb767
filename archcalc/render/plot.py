"""Per-layer params, MACs and activation memory on log scales (``archcalc plot``), and a
sweep's params against MACs with its Pareto front (``archcalc sweep --plot``).

The classic picture: convolutions hold the compute, dense layers the weights.  Any model
stays readable: past :data:`MAX_BARS` rows the bars are blocks, at the deepest depth of
the path hierarchy that has at most that many (archcalc.core.collapse; ResNet-50 at
depth 2 is its stem, sixteen bottlenecks and head); a model that is long at every depth
has runs of consecutive rows summed into one bar each.  The figure is at most
:data:`MAX_WIDTH` inches wide, and past :data:`MAX_LABELS` bars only the largest of each
panel are named.
matplotlib is an optional extra (``pip install 'archcalc[plot]'``), imported only here.
SVG output is deterministic (fixed id salt, no date) so generated docs can be checked.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import ArchcalcError, quoted
from ..core.report import COUNT_FIELDS, Report

FORMATS = (".png", ".svg")
PANELS = (("params", "parameters", "#4c72b0"), ("macs", "MACs", "#dd8452"),
          ("activation_bytes", "activation bytes", "#55a868"))
#: Most bars drawn before rows are summed into blocks.
MAX_BARS = 60
#: Most bars named on the axis; past it, the largest of each panel.
MAX_LABELS = 60
#: Widest figure, in inches (1,540 pixels at the PNG's 110 dpi).
MAX_WIDTH = 14.0
#: Longest bar label; longer names are abbreviated in the middle.
MAX_LABEL = 32


def check_plot_path(path) -> None:
    """A plot file must be .png or .svg (checked before any work)."""
    if Path(path).suffix.lower() not in FORMATS:
        raise ArchcalcError(f"plot output must end in .png or .svg, got '{quoted(Path(path).name)}'")


def _pyplot():
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise ArchcalcError("plotting needs matplotlib: pip install 'archcalc[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "archcalc", "svg.fonttype": "none",
                         "font.family": "DejaVu Sans", "font.size": 8})
    return plt


def readable(report: Report, depth: int | None = None) -> tuple[Report, str]:
    """The rows a plot draws, and a note saying how they were summed ('' when not): at
    ``depth`` when given, else every row, or blocks at the deepest depth with at most
    :data:`MAX_BARS` rows, or runs of consecutive rows."""
    from ..core.collapse import collapse, max_depth

    n = len(report.layers)
    if depth is not None:
        shown = collapse(report, depth)
        return shown, (f"blocks to depth {depth}" if len(shown.layers) < n else "")
    if n <= MAX_BARS:
        return report, ""
    for d in range(max_depth(report) - 1, 0, -1):
        shown = collapse(report, d)
        if len(shown.layers) <= MAX_BARS:
            return shown, f"blocks to depth {d}: {len(shown.layers)} bars for {n} layers"
    shown = collapse(report, 1)
    run = -(-len(shown.layers) // MAX_BARS)
    bars = []
    for at in range(0, len(shown.layers), run):
        held = shown.layers[at:at + run]
        name = held[0].name if len(held) == 1 else f"{held[0].name} … {held[-1].name}"
        bars.append(replace(held[0], name=name, type="rows", out_shape=held[-1].out_shape,
                            **{f: sum(getattr(r, f) for r in held) for f in COUNT_FIELDS}))
    return (replace(report, layers=tuple(bars), work=None, training=None),
            f"runs of {run} rows: {len(bars)} bars for {n} layers")


def _labelled(report: Report) -> set:
    """Indices of the bars to name: all of them, or the largest of each panel."""
    n = len(report.layers)
    if n <= MAX_LABELS:
        return set(range(n))
    each = MAX_LABELS // len(PANELS)
    chosen = set()
    for key, _, _ in PANELS:
        order = sorted(range(n), key=lambda i: (-getattr(report.layers[i], key), i))
        chosen.update(i for i in order[:each] if getattr(report.layers[i], key) > 0)
    return chosen


def plot_report(report: Report, path: Path, depth: int | None = None) -> None:
    """Write the three-panel chart of ``report`` to ``path`` (.png or .svg)."""
    from .fit import abbreviate

    check_plot_path(path)
    plt = _pyplot()
    shown, how = readable(report, depth)
    rows = shown.layers
    names = [abbreviate(r.name, MAX_LABEL) for r in rows]
    width = min(MAX_WIDTH, max(6.0, 0.16 * len(names) + 1.5))
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(width, 7.5), sharex=True)
    positions = range(len(names))
    for ax, (key, label, colour) in zip(axes, PANELS):
        values = [getattr(r, key) for r in rows]
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
    named = _labelled(shown)
    axes[-1].set_xticks(list(positions))
    axes[-1].set_xticklabels([n if i in named else "" for i, n in enumerate(names)],
                             rotation=90, fontsize=6 if len(names) > 40 else 7)
    title = f"{report.model} · input {report.input_shape} · batch {report.batch} · {report.dtype}"
    if how:
        title += f"\n{how}" + ("" if len(named) == len(names) else
                               f"; the {len(named)} largest named")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    _save(fig, plt, path)


def _save(fig, plt, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None} if path.suffix.lower() == ".svg" else None, dpi=110)
    plt.close(fig)


def plot_sweep(result, path: Path) -> None:
    """A sweep's params against MACs (log scales), one dot per valid configuration, the
    Pareto front ringed and joined, its points named when they are few."""
    check_plot_path(path)
    plt = _pyplot()
    valid = [(i, p) for i, p in enumerate(result.points) if p.valid]
    if not valid:
        raise ArchcalcError("no valid configuration to plot")
    front = [result.points[i] for i in result.pareto]
    fig, ax = plt.subplots(figsize=(7.0, 5.0))
    ax.scatter([p.params for _, p in valid], [p.macs for _, p in valid], s=10, color="#4c72b0",
               alpha=0.6, label="configurations", zorder=2)
    steps = sorted((p.params, p.macs) for p in front)
    ax.plot([x for x, _ in steps], [y for _, y in steps], color="#dd8452", linewidth=1,
            drawstyle="steps-post", zorder=3)
    ax.scatter([x for x, _ in steps], [y for _, y in steps], s=40, facecolors="none",
               edgecolors="#dd8452", linewidths=1.2, label="Pareto front", zorder=4)
    if len(front) <= 12:
        for p in front:
            ax.annotate(_point_label(p), (p.params, p.macs), fontsize=6, xytext=(4, 4),
                        textcoords="offset points")
    if min(p.params for _, p in valid) > 0:
        ax.set_xscale("log")
    if min(p.macs for _, p in valid) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("MACs")
    ax.grid(linewidth=0.4, alpha=0.6)
    ax.legend(loc="best", fontsize=7)
    ax.set_title(f"{result.model}: {len(valid):,} configurations, {len(front)} on the front",
                 fontsize=9)
    fig.tight_layout()
    _save(fig, plt, path)


def _point_label(point) -> str:
    opts = " ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in point.options)
    shape = "×".join(str(d) for d in point.input_shape.dims)
    return " ".join(p for p in (opts, shape, f"b{point.batch}") if p)
