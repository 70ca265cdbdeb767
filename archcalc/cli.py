"""The ``archcalc`` command: parse arguments, call the core, print.

Exit status: 0 success; 1 a check found an unexplained disagreement (``check``) or a
generated page is stale (``docs --check``); 2 bad input (spec, model name, option), with
one line ``archcalc: error: FILE:LINE: layer 'NAME': message`` on stderr and no traceback.
"""
from __future__ import annotations

import sys

import click

from .core.optimizers import OPTIMIZERS
from .conventions import CONVENTIONS
from .core.dtypes import DTYPE_BYTES, NUMERIC_DTYPES
from .errors import ArchcalcError, one_line, quoted
from .render.formatters import FORMATTERS
from .spec.fields import MAX_SIZE

EXIT_DISAGREE = 1
EXIT_BAD_INPUT = 2
#: Most rows ``plot --depth N`` draws (without --depth it sums rows into at most 60 bars).
MAX_PLOT_ROWS = 1000
#: The batch size accepted on the command line (the same cap as every size, 10⁹).
BATCH = click.IntRange(min=1, max=MAX_SIZE)
#: A depth of the path hierarchy (table --depth, graph, plot, html): 1 is the top level.
DEPTH = click.IntRange(min=1, max=1000)


def parse_input_shape(text: str, rank: int = 3):
    """'C,H,W' → a tuple of ``rank`` positive ints ('x' and '×' also separate them)."""
    names = {1: "F", 2: "C,L", 3: "C,H,W", 4: "C,D,H,W"}.get(rank) or \
        ",".join(f"D{i}" for i in range(1, rank + 1))
    expected = f"--input must be {names}: {rank} positive integers (the model's input rank)"
    parts = [p.strip() for p in text.replace("x", ",").replace("×", ",").split(",")]
    # plain ASCII digits only: int() would also read '2_24' as 224 and '٣' as 3
    if not all(p.isascii() and p.isdigit() and len(p) <= 30 for p in parts):
        raise ArchcalcError(f"{expected}, got '{quoted(text)}'")
    dims = tuple(int(p) for p in parts)
    if len(dims) != rank or any(d < 1 for d in dims):
        raise ArchcalcError(f"{expected}, got '{quoted(text)}'")
    if any(d > MAX_SIZE for d in dims):
        raise ArchcalcError(f"--input sizes are at most 10^9 (archcalc's largest size), "
                            f"got '{quoted(text)}'")
    return dims


def input_shape(model, text):
    """The --input option as a Shape (None when absent), of the model's input rank."""
    if not text:
        return None
    from .core.shapes import Shape

    return Shape(parse_input_shape(text, model.input_shape.rank))


def parse_option(text: str) -> tuple[str, object]:
    """'NAME=VALUE' → (name, value): true/false become booleans, integers ints,
    anything else stays a string (the spec's expressions decide what it may be)."""
    name, sep, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    if not sep or not name or not raw:
        raise ArchcalcError(f"--option must be NAME=VALUE (e.g. aux_logits=true), got '{quoted(text)}'")
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return name, lowered == "true"
    try:
        return name, int(raw)
    except ValueError:
        return name, raw


def load_with_options(model: str, option_texts=()):
    """The model named on the command line, with its --option NAME=VALUE settings."""
    from .spec.catalog import load

    return load(model, options=dict(parse_option(t) for t in option_texts))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archcalc")
def cli():
    """Exact sizes, parameters, connections, MACs, FLOPs and memory of CNNs."""


@cli.command("list")
def list_models():
    """The bundled models, with input size and description."""
    from tabulate import tabulate

    from .spec.catalog import bundled_names, load

    rows = []
    for name in bundled_names():
        model = load(name)
        rows.append([name, str(model.input_shape), model.description])
    click.echo(tabulate(rows, headers=["model", "input", "description"], tablefmt="simple"))


@cli.command()
@click.argument("models", metavar="MODEL...", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(list(FORMATTERS)),
              default="text", show_default=True, help="output format")
@click.option("--input", "input_text", metavar="C,H,W", help="input size instead of the model's")
@click.option("--batch", type=BATCH, default=1, show_default=True,
              help="batch size: scales connections, MACs, FLOPs and activations")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)),
              default=None, help="element type for bytes (default: the spec's, else float32)")
@click.option("--option", "option_texts", metavar="NAME=VALUE", multiple=True,
              help="set a model option declared in the spec (repeatable), e.g. aux_logits=true")
@click.option("--convention", default="archcalc", show_default=True,
              type=click.Choice(list(CONVENTIONS)),
              help="count MACs/FLOPs (and memory) as that tool does (docs/conventions-compared.md)")
@click.option("--columns", "columns_text", metavar="A,B,...",
              help="columns to show, by JSON name (also comparisons, additions, "
                   "multiplications, divisions, exponentials)")
@click.option("--symbolic", is_flag=True, help="H, W and batch B as symbols: every figure a formula")
@click.option("--rf", "with_rf", is_flag=True, help="add receptive field, jump and start columns")
@click.option("--train", is_flag=True, help="add the training step's columns: backward MACs "
                                            "and FLOPs, bytes kept for the backward")
@click.option("--optimizer", "optimizer_name", default="sgd", show_default=True,
              type=click.Choice(list(OPTIMIZERS)),
              help="with --train: the optimizer whose update FLOPs the totals list")
@click.option("--freeze", "freeze", metavar="PATTERN", multiple=True,
              help="with --train: layers (fnmatch on their paths) whose weights are not trained")
@click.option("--depth", type=DEPTH, default=None,
              help="one row per block instance down to depth N (1: the top-level items), "
                   "each the sum of what it holds")
@click.option("--summary", is_flag=True, help="the totals only")
@click.option("--wide", is_flag=True, help="text: every column and whole names, however wide "
              "(default: fit $COLUMNS, or 100 columns when not a terminal)")
def table(models, fmt, input_text, batch, dtype, option_texts, convention, columns_text,
          symbolic, with_rf, train, optimizer_name, freeze, depth, summary, wide):
    """Per-layer table of each MODEL (a bundled name or a spec file)."""
    from .render.formatters import combine, parse_columns

    columns = parse_columns(columns_text) if columns_text is not None else None
    if summary and (depth is not None or with_rf):
        raise click.UsageError("--summary prints the totals only; it takes no --depth or --rf")
    from .terminal import terminal_width

    width = None if wide or fmt != "text" else terminal_width()
    if not train and (freeze or optimizer_name != "sgd"):
        raise click.UsageError("--freeze and --optimizer go with --train")
    training = (optimizer_name, freeze) if train else None
    texts, names = [], []
    for model in models:
        spec = load_with_options(model, option_texts)
        texts.append(_table_text(spec, fmt, input_text, batch, dtype, convention, columns,
                                 symbolic, with_rf, depth, summary, width, training))
        names.append(spec.name)
    click.echo(texts[0] if len(texts) == 1 else combine(fmt, names, texts), nl=False)


def _table_text(spec, fmt, input_text, batch, dtype, convention, columns, symbolic, with_rf,
                depth, summary, width, training=None) -> str:
    """One model's table, as ``table`` prints it (``training``: (optimizer, freeze
    patterns) with --train)."""
    from .conventions import apply
    from .render.formatters import FORMATTERS
    from .core.report import analyse

    extra = {"summary": summary, **({"width": width} if fmt == "text" else {})}
    if symbolic:
        if input_text or batch != 1 or with_rf or convention != "archcalc":
            raise click.UsageError("--symbolic replaces --input and --batch by symbols "
                                   "H, W, B; it takes no --input, --batch, --rf or --convention")
        from .analyses.symbolic import analyse_symbolic

        report = analyse_symbolic(spec, dtype=dtype)
        if depth is not None:
            from .core.collapse import collapse

            report = collapse(report, depth)
        return FORMATTERS[fmt](report, columns, **extra)
    shape = input_shape(spec, input_text)
    report = apply(analyse(spec, shape, batch=batch, dtype=dtype), convention)
    if training is not None:
        from .analyses.training import analyse_training, with_training
        from .render.formatters import TRAIN_KEYS

        from .conventions import apply_training

        optimizer_name, freeze = training
        try:
            step = analyse_training(spec, shape, batch=batch, dtype=dtype, freeze=freeze)
        except ArchcalcError as err:
            raise err.at(file=spec.file) from None
        report = apply_training(with_training(report, step, optimizer_name), convention)
        columns = columns or TRAIN_KEYS
    fields = None
    if with_rf:
        from .analyses.receptive import receptive_fields

        fields = receptive_fields(spec, shape)
    if depth is not None:
        from .core.collapse import collapse, groups

        if fields is not None:  # a block's field is its output's: its last node's
            held = groups([r.name for r in report.layers], depth)
            fields = [fields[rows[-1]] for _, _, rows in held]
        report = collapse(report, depth)
    try:
        return FORMATTERS[fmt](report, columns, rf=fields, **extra)
    except ArchcalcError as err:  # a receptive field too large to print
        raise err.at(file=spec.file) from None


@cli.command()
@click.argument("models", metavar="MODEL...", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(list(FORMATTERS)), default="text",
              show_default=True, help="output format")
@click.option("--input", "input_text", metavar="C,H,W",
              help="one input size for every model instead of each one's own")
@click.option("--batch", type=BATCH, default=1, show_default=True, help="batch size")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default=None,
              help="element type for bytes (default: each spec's, else float32)")
@click.option("--convention", default="archcalc", show_default=True,
              type=click.Choice(list(CONVENTIONS)), help="count MACs/FLOPs as that tool does")
@click.option("--columns", "columns_text", metavar="A,B,...",
              help="columns to show: model, input, batch, dtype, layers, depth, params, "
                   "connections, macs, flops, activations, activation_bytes, param_bytes, "
                   "peak_memory_bytes")
@click.option("--wide", is_flag=True, help="text: every column, however wide")
def compare(models, fmt, input_text, batch, dtype, convention, columns_text, wide):
    """One row of totals per MODEL: layers, depth, params, MACs, FLOPs, memory."""
    from .analyses.compare import entry
    from .render.compare import COMPARE_COLUMNS, format_compare, parse_keys
    from .terminal import terminal_width

    keys = parse_keys(columns_text, COMPARE_COLUMNS) if columns_text is not None else None
    entries = []
    for name in models:
        spec = load_with_options(name)
        entries.append(entry(spec, input_shape(spec, input_text), batch, dtype, convention))
    click.echo(format_compare(entries, fmt, keys, width=None if wide else terminal_width()),
               nl=False)


@cli.command()
@click.argument("model")
@click.option("--option", "option_texts", metavar="NAME=V1,V2,...", multiple=True,
              help="an option declared in the spec and the values to sweep (repeatable)")
@click.option("--input", "input_texts", metavar="C,H,W", multiple=True,
              help="input sizes: each part N, A..B or A..B..STEP; C,S for square inputs "
                   "(repeatable; default: the model's own)")
@click.option("--batch", "batch_text", metavar="B1,B2,...", default="1", show_default=True,
              help="batch sizes: N, A..B or A..B..STEP, comma-separated")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default=None,
              help="element type for bytes (default: the spec's, else float32)")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "csv", "json"]),
              default="text", show_default=True, help="output format")
@click.option("--plot", "plot_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="also draw params against MACs, the Pareto front marked (.png or .svg; "
                   "needs matplotlib)")
@click.option("--wide", is_flag=True, help="text: every column, however wide")
@click.option("--quiet", is_flag=True, help="no progress on stderr")
def sweep(model, option_texts, input_texts, batch_text, dtype, fmt, plot_path, wide, quiet):
    """Totals of MODEL over a grid of options, input sizes and batch sizes, with the
    Pareto front of params and MACs.  At most 100,000 configurations."""
    from .analyses.sweep import parse_input_grid, parse_option_grid, parse_values
    from .analyses.sweep import sweep as run_sweep
    from .render.compare import format_sweep
    from .spec.catalog import builder
    from .terminal import progress, terminal_width

    if plot_path is not None:
        from .render.plot import check_plot_path

        check_plot_path(plot_path)
    grid = parse_option_grid(option_texts, parse_option)
    inputs = [parse_input_grid(t) for t in input_texts] or None
    batches = parse_values(batch_text, "--batch")
    with progress(f"sweep {model}", quiet=quiet) as bar:
        result = run_sweep(builder(model), grid, inputs, batches, dtype, on_step=bar.update)
    click.echo(format_sweep(result, fmt, width=None if wide else terminal_width()), nl=False)
    if plot_path is not None:
        from pathlib import Path

        from .render.plot import plot_sweep

        _write(plot_sweep, result, Path(plot_path))
        click.echo(f"wrote {plot_path}", err=True)


def _write(draw, value, path) -> None:
    try:
        draw(value, path)
    except OSError as err:
        raise ArchcalcError(f"cannot write {quoted(path)}: {err.strerror or err}") from None


def _range(text: str | None, default: tuple) -> tuple:
    """'A:B' → (A, B)."""
    if text is None:
        return default
    try:
        lo, hi = (int(p) for p in text.split(":"))
    except ValueError:
        raise ArchcalcError(f"a size range is MIN:MAX of integers, got {text!r}") from None
    return lo, hi


@cli.command()
@click.argument("model")
@click.option("--min", "lo", type=int, default=1, show_default=True, help="smallest square size")
@click.option("--max", "hi", type=int, default=512, show_default=True, help="largest square size")
@click.option("--height", metavar="MIN:MAX", help="height range (non-square; with --width)")
@click.option("--width", metavar="MIN:MAX", help="width range (non-square; with --height)")
@click.option("--option", "option_texts", metavar="NAME=VALUE", multiple=True,
              help="set a model option declared in the spec (repeatable)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="output format")
@click.option("--quiet", is_flag=True, help="no progress on stderr")
def sizes(model, lo, hi, height, width, option_texts, fmt, quiet):
    """Valid and exactly tiling input sizes of MODEL, and where inexact sizes drop pixels."""
    from .render.fields import format_sizes
    from .analyses.sizes import scan

    if (height is None) != (width is None):
        raise click.UsageError("--height and --width go together (MIN:MAX each)")
    from .terminal import progress

    spec = load_with_options(model, option_texts)
    with progress(f"sizes {spec.name}", quiet=quiet) as bar:
        result = scan(spec, _range(height, (lo, hi)), _range(width, None) if width else None,
                      on_size=bar.update)
    click.echo(format_sizes(result, fmt), nl=False)


@cli.command()
@click.argument("model")
@click.option("--input", "input_text", metavar="C,H,W", help="input size ('same' padding depends on it)")
@click.option("--option", "option_texts", metavar="NAME=VALUE", multiple=True,
              help="set a model option declared in the spec (repeatable)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="output format")
def rf(model, input_text, option_texts, fmt):
    """Receptive field, jump and start of every layer of MODEL, in input pixels."""
    from .analyses.receptive import receptive_fields
    from .render.fields import format_rf

    spec = load_with_options(model, option_texts)
    fields = receptive_fields(spec, input_shape(spec, input_text))
    try:
        click.echo(format_rf(spec.name, fields, fmt), nl=False)
    except ArchcalcError as err:  # a receptive field too large to print
        raise err.at(file=spec.file) from None


@cli.command()
@click.argument("models", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True, help="output format")
def check(models, fmt):
    """Published figures vs exact ones, for MODELS (default: every bundled model).

    Exit 0 when every disagreement is a known erratum marked in the spec, 1 otherwise.
    """
    from .spec.catalog import bundled_names, load
    from .analyses.check import check_model
    from .render.check import format_check_json, format_check_markdown, format_check_text

    verdicts = tuple(v for name in (models or bundled_names()) for v in check_model(load(name)))
    render = {"text": format_check_text, "markdown": format_check_markdown, "json": format_check_json}
    click.echo(render[fmt](verdicts), nl=False)
    if not all(v.ok for v in verdicts):
        raise click.exceptions.Exit(EXIT_DISAGREE)


@cli.command()
@click.argument("model")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="file to write: .png or .svg")
@click.option("--input", "input_text", metavar="C,H,W", help="input size instead of the model's")
@click.option("--batch", type=BATCH, default=1, show_default=True, help="batch size")
@click.option("--depth", type=DEPTH, default=None,
              help="one bar per block instance down to depth N (default: every layer, or "
                   "blocks when there are more than 60)")
def plot(model, output, input_text, batch, depth):
    """Per-layer params, MACs and activation memory of MODEL on log scales."""
    from pathlib import Path

    from .spec.catalog import load
    from .render.plot import check_plot_path, plot_report, readable
    from .core.report import analyse

    check_plot_path(output)
    spec = load(model)
    report = analyse(spec, input_shape(spec, input_text), batch=batch)
    bars = len(readable(report, depth)[0].layers) if depth is not None else 0
    if bars > MAX_PLOT_ROWS:
        raise ArchcalcError(f"{spec.name} has {bars:,} rows at depth {depth}; plot draws at "
                            f"most {MAX_PLOT_ROWS:,}")
    _write(lambda r, path: plot_report(r, path, depth), report, Path(output))
    click.echo(f"wrote {output}")


@cli.command()
@click.argument("model")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "svg"]), default="mermaid",
              show_default=True, help="Mermaid (GitHub renders it in a ```mermaid block), "
              "Graphviz DOT, or SVG laid out by Graphviz's dot")
@click.option("--depth", type=DEPTH, default=None,
              help="one node per block instance down to depth N (default: every layer)")
@click.option("--input", "input_text", metavar="C,H,W", help="input size instead of the model's")
@click.option("--option", "option_texts", metavar="NAME=VALUE", multiple=True,
              help="set a model option declared in the spec (repeatable)")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False),
              help="file to write instead of standard output")
def graph(model, fmt, depth, input_text, option_texts, output):
    """MODEL as a diagram: tensor shapes on the edges, blocks as clusters."""
    from .core.report import analyse
    from .render.graph import RENDER, diagram

    spec = load_with_options(model, option_texts)
    report = analyse(spec, input_shape(spec, input_text))
    text = RENDER[fmt](diagram(spec, report, depth))
    if output is None:
        click.echo(text, nl=False)
        return
    _write_text(output, text)
    click.echo(f"wrote {output}")


def _write_text(path: str, text: str) -> None:
    from pathlib import Path

    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as err:
        raise ArchcalcError(f"cannot write {quoted(path)}: {err.strerror or err}") from None


@cli.command("html")
@click.argument("model")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="the .html file to write")
@click.option("--input", "input_text", metavar="C,H,W", help="input size instead of the model's")
@click.option("--batch", type=BATCH, default=1, show_default=True, help="batch size")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default=None,
              help="element type for bytes (default: the spec's, else float32)")
@click.option("--option", "option_texts", metavar="NAME=VALUE", multiple=True,
              help="set a model option declared in the spec (repeatable)")
@click.option("--depth", type=DEPTH, default=None,
              help="rows for block instances down to depth N in the table and pictures "
                   "(default: every layer in the table, pictures summed to at most 60 rows)")
def html_command(model, output, input_text, batch, dtype, option_texts, depth):
    """One self-contained HTML page for MODEL: totals, diagram, charts, sortable table."""
    from .core.report import analyse
    from .render.html import render_html

    if not output.lower().endswith((".html", ".htm")):
        raise ArchcalcError(f"html output must end in .html, got '{quoted(output)}'")
    spec = load_with_options(model, option_texts)
    report = analyse(spec, input_shape(spec, input_text), batch=batch, dtype=dtype)
    _write_text(output, render_html(spec, report, depth))
    click.echo(f"wrote {output}")


def _docs_folder(out_dir: str | None, check: bool):
    """Where ``docs`` writes (or checks): ``--out``, else the project's docs/ — but only
    when run from the project's root, so no other folder's ./docs is ever overwritten."""
    from pathlib import Path

    if out_dir is not None:
        root = Path(out_dir)
    else:
        project = Path(__file__).resolve().parent.parent
        if not ((project / "setup.cfg").is_file() and (project / "docs").is_dir()
                and Path.cwd().resolve() == project):
            raise ArchcalcError(f"archcalc docs {'checks' if check else 'writes'} the "
                                f"project's docs/ folder: run it in the project's root "
                                f"({quoted(project)}) or give --out DIR")
        root = project / "docs"
    if check and not root.is_dir():
        raise ArchcalcError(f"no docs folder at {quoted(root)} to check "
                            f"(`archcalc docs --out {quoted(root)}` writes one)")
    return root


@cli.command()
@click.option("--out", "out_dir", default=None, metavar="DIR", type=click.Path(file_okay=False),
              help="folder to write the pages into (default: the project's docs/, when run "
                   "in the project's root)")
@click.option("--check", is_flag=True, help="write nothing; exit 1 naming every stale page")
@click.option("--quiet", is_flag=True, help="no progress on stderr")
def docs(out_dir, check, quiet):
    """Generate every figure-bearing page in DIR from the bundled specs (or check them)."""
    from pathlib import Path

    from .docgen.site import pages

    from .terminal import progress

    root = _docs_folder(out_dir, check)
    with progress("docs", quiet=quiet) as bar:
        generated = pages(on_page=bar.update if bar.shown else None)
    if check:
        stale = [rel for rel, text in generated.items()
                 if not (root / rel).is_file() or (root / rel).read_text(encoding="utf-8") != text]
        if stale:
            raise click.ClickException(f"stale: {', '.join(stale)}; run `archcalc docs`")
        click.echo(f"{len(generated)} pages in {root} are up to date")
        return
    try:
        for rel, text in generated.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ArchcalcError(f"cannot write the docs into {quoted(root)}: "
                            f"{err.strerror or err}") from None
    click.echo(f"wrote {len(generated)} pages in {root}")


@cli.command("verify")
@click.argument("model")
@click.option("--seed", type=click.IntRange(min=0, max=2**64 - 1), default=0, show_default=True,
              help="seed of the weights and input")
@click.option("--batch", type=BATCH, default=1, show_default=True, help="batch size")
@click.option("--input", "input_text", metavar="C,H,W", help="input size instead of the model's")
@click.option("--dtype", type=click.Choice(NUMERIC_DTYPES), default="float32",
              show_default=True, help="element type of the arrays")
@click.option("--save", metavar="FILE.npz", help="write input, weights and outputs to one .npz")
@click.option("--option", "option_texts", metavar="NAME=VALUE", multiple=True,
              help="set a model option declared in the spec (repeatable), e.g. aux_logits=true")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="output format")
@click.option("--quiet", is_flag=True, help="no progress on stderr")
@click.option("--train", is_flag=True,
              help="run a training step (forward and backward) and check its MACs and memory")
@click.option("--freeze", "freeze", metavar="PATTERN", multiple=True,
              help="with --train: layers (fnmatch pattern on their path) whose weights are not trained")
def verify_command(model, seed, batch, input_text, dtype, save, option_texts, fmt, quiet, train,
                   freeze):
    """Run MODEL in NumPy and check the engine's shapes, params, MACs and memory
    (with --train: a training step's forward and backward MACs, saved bytes and memory).

    Exit status: 0 every check agrees, 1 some disagree (listed), 2 bad input.
    """
    from .numeric.verify import verify
    from .render.verify import render_json, render_text

    from .terminal import progress

    spec = load_with_options(model, option_texts)
    shape = input_shape(spec, input_text)
    if freeze and not train:
        raise ArchcalcError("--freeze applies to a training step; add --train")
    if train:
        _verify_training(spec, shape, batch, seed, dtype, save, freeze, fmt, quiet)
        return
    with progress(f"verify {spec.name}", len(spec.nodes), quiet) as bar:
        result = verify(spec, shape, batch=batch, seed=seed, dtype=dtype, save=save,
                        on_layer=(lambda run: bar.update(1)) if bar.shown else None)
    click.echo((render_json if fmt == "json" else render_text)(result), nl=False)
    if not result.ok:
        click.echo(f"{len(result.disagreements())} checks disagree with the engine", err=True)
        raise click.exceptions.Exit(EXIT_DISAGREE)


def _verify_training(spec, shape, batch, seed, dtype, save, freeze, fmt, quiet) -> None:
    """``verify --train``: one training step in NumPy against the engine."""
    from .numeric.verify_train import verify_training
    from .render.verify_train import render_json, render_text
    from .terminal import progress

    if save:
        raise ArchcalcError("--save writes a forward's arrays; it does not combine with --train")
    with progress(f"verify --train {spec.name}", 2 * len(spec.nodes), quiet) as bar:
        result = verify_training(spec, shape, batch=batch, seed=seed, dtype=dtype, freeze=freeze,
                                 on_step=(lambda step: bar.update(1)) if bar.shown else None)
    click.echo((render_json if fmt == "json" else render_text)(result), nl=False)
    if not result.ok:
        click.echo(f"{len(result.disagreements())} checks disagree with the engine", err=True)
        raise click.exceptions.Exit(EXIT_DISAGREE)


@cli.command("memory")
@click.argument("model")
@click.option("--batch", type=BATCH, default=1, show_default=True, help="batch size")
@click.option("--input", "input_text", metavar="C,H,W", help="input size instead of the model's")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default=None,
              help="element type (float16/bfloat16 train with float32 master weights)")
@click.option("--train", is_flag=True, help="a training step: gradients, optimizer state, "
                                            "what the backward keeps")
@click.option("--optimizer", "optimizer_name", default="sgd", show_default=True,
              type=click.Choice(list(OPTIMIZERS)),
              help="optimizer of the training step")
@click.option("--freeze", "freeze", metavar="PATTERN", multiple=True,
              help="layers (fnmatch pattern on their paths) whose weights are not trained")
@click.option("--budget", metavar="SIZE", help="memory per device, e.g. 24GiB: the largest batch that fits")
@click.option("--devices", type=click.IntRange(min=1, max=1024), default=None,
              help="split the model into this many pipeline stages")
@click.option("--split", "split_kind", type=click.Choice(["pipeline", "towers"]), default="pipeline",
              show_default=True, help="pipeline stages of whole layers, or every layer's "
                                      "channels over the devices (AlexNet's towers)")
@click.option("--balance", type=click.Choice(["memory", "compute"]), default="memory",
              show_default=True, help="what the pipeline stages balance")
@click.option("--option", "option_texts", metavar="NAME=VALUE", multiple=True,
              help="set a model option declared in the spec (repeatable)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="output format")
def memory_command(model, batch, input_text, dtype, train, optimizer_name, freeze, budget,
                   devices, split_kind, balance, option_texts, fmt):
    """Memory of MODEL for inference and (--train) a training step; with --budget the
    largest batch that fits, with --devices a pipeline split."""
    from .analyses.memory import max_batch, optimizer, parse_size, plan
    from .analyses.training import analyse_training
    from .render.memory import format_memory

    spec = load_with_options(model, option_texts)
    shape = input_shape(spec, input_text)
    budget_bytes = parse_size(budget) if budget is not None else None
    try:
        training = analyse_training(spec, shape, batch=batch, dtype=dtype, freeze=freeze)
    except ArchcalcError as err:
        raise err.at(file=spec.file) from None
    result = plan(training, optimizer_name)
    fits = max_batch(training, result, budget_bytes) if budget_bytes is not None else None
    stages = None
    if devices is not None:
        from .analyses.devices import split, towers
        from .core.engine import propagate

        rows = propagate(spec, shape)
        if split_kind == "towers":
            stages = towers(training, spec, rows, optimizer(optimizer_name), devices)
        else:
            stages = split(training, [row.counts.params for row in rows],
                           optimizer(optimizer_name), devices, balance)
    click.echo(format_memory(result, training, fmt, train or fmt == "json", budget_bytes, fits,
                             stages), nl=False)


@cli.command("import")
@click.argument("source")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="the spec file to write (.yaml)")
@click.option("--input", "input_text", metavar="C,H,W",
              help="input size of one sample (required for module:callable; replaces an "
                   "ONNX model's symbolic sizes)")
@click.option("--via", type=click.Choice(["auto", "fx", "onnx"]), default="auto",
              show_default=True, help="for module:callable: trace with torch.fx, export with "
                                      "torch.onnx, or fx falling back to the exporter")
def import_command(source, output, input_text, via):
    """Write an editable spec of SOURCE: an ONNX file, a Caffe deploy.prototxt, or a
    PyTorch module:callable returning an nn.Module (called with no arguments).

    The spec gives the figures `archcalc table SOURCE` gives (it is checked by reading it
    back).  docs/import-export.md lists what each route maps and its limits.
    """
    from .io.convert import import_spec

    written = import_spec(source, output, _sizes(input_text), via)
    click.echo(f"wrote {output} ({written} layers)")


def _sizes(text):
    """--input C,H,W with as many sizes as given (the importer checks the rank)."""
    if not text:
        return None
    count = len(text.replace("x", ",").replace("×", ",").split(","))
    return parse_input_shape(text, count)


@cli.command("export")
@click.argument("model")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="the ONNX file to write (.onnx)")
@click.option("--no-weights", "no_weights", is_flag=True,
              help="shapes only: weights become graph inputs with their shapes")
@click.option("--seed", type=click.IntRange(min=0, max=2**64 - 1), default=0, show_default=True,
              help="seed of the weights (as verify seeds them)")
@click.option("--input", "input_text", metavar="C,H,W", help="input size instead of the model's")
@click.option("--option", "option_texts", metavar="NAME=VALUE", multiple=True,
              help="set a model option declared in the spec (repeatable)")
def export_command(model, output, no_weights, seed, input_text, option_texts):
    """Write MODEL as an ONNX graph (opset 21) to open in Netron or run in an ONNX runtime."""
    from .io.onnx_out import OPSET, write

    spec = load_with_options(model, option_texts)
    size = write(spec, output, input_shape(spec, input_text), weights=not no_weights, seed=seed)
    what = "shapes only" if no_weights else f"weights seeded {seed}"
    click.echo(f"wrote {output} ({len(spec.nodes)} layers, opset {OPSET}, {what}, {size:,} bytes)")


# click ≥ 8.2 raises this for a group called without a command (older click prints help)
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the CLI and turns every user error into one line and exit 2."""
    try:
        # Without standalone mode click returns a command's ctx.exit() status instead of exiting.
        status = cli.main(args=argv, prog_name="archcalc", standalone_mode=False)
    except ArchcalcError as err:
        click.echo(f"archcalc: error: {err.render()}", err=True)
        return EXIT_BAD_INPUT
    except _NO_ARGS_IS_HELP as err:  # bare `archcalc`: the help, not an error squeezed to a line
        click.echo(err.ctx.get_help())
        return 0
    except click.UsageError as err:
        message = one_line(err.format_message().replace("\n", " "))
        click.echo(f"archcalc: error: {message}", err=True)
        return EXIT_BAD_INPUT
    except click.Abort:
        click.echo("archcalc: aborted", err=True)
        return 1
    except click.ClickException as err:
        click.echo(f"archcalc: error: {one_line(err.format_message())}", err=True)
        return err.exit_code
    except MemoryError as err:  # last resort: an input that makes NumPy ask for too much
        detail = f": {one_line(err)}" if str(err) else ""
        click.echo(f"archcalc: error: out of memory{detail}", err=True)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. `archcalc table vgg19 | head`
        sys.stderr.close()
        return 0
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
