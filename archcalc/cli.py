"""The ``archcalc`` command: parse arguments, call the core, print.

Exit status: 0 success; 2 bad input (spec, model name, option), with one line
``archcalc: error: FILE:LINE: layer 'NAME': message`` on stderr and no traceback.
"""
from __future__ import annotations

import sys

import click

from .errors import ArchcalcError

EXIT_BAD_INPUT = 2


def parse_input_shape(text: str):
    """'C,H,W' (or 'H,W', keeping the model's channels) → a tuple of positive ints."""
    from .build import parse_input  # noqa: F401  (same validation as specs)

    parts = [p.strip() for p in text.replace("x", ",").replace("×", ",").split(",")]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise ArchcalcError(f"--input must be C,H,W (or H,W) of positive integers, got {text!r}") from None
    if len(dims) not in (2, 3) or any(d < 1 for d in dims):
        raise ArchcalcError(f"--input must be C,H,W (or H,W) of positive integers, got {text!r}")
    return dims


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archcalc")
def cli():
    """Exact sizes, parameters, connections, MACs, FLOPs and memory of CNNs."""


@cli.command("list")
def list_models():
    """The bundled models, with input size and description."""
    from tabulate import tabulate

    from .catalog import bundled_names, load

    rows = []
    for name in bundled_names():
        model = load(name)
        rows.append([name, str(model.input_shape), model.description])
    click.echo(tabulate(rows, headers=["model", "input", "description"], tablefmt="simple"))


@cli.command()
@click.argument("model")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "csv", "json"]),
              default="text", show_default=True, help="output format")
@click.option("--input", "input_text", metavar="C,H,W", help="input size instead of the model's")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
              help="batch size: scales connections, MACs, FLOPs and activations")
@click.option("--dtype", type=click.Choice(["float32", "float16", "bfloat16", "int8", "float64"]),
              default=None, help="element type for bytes (default: the spec's, else float32)")
@click.option("--symbolic", is_flag=True, help="H, W and batch B as symbols: every figure a formula")
@click.option("--rf", "with_rf", is_flag=True, help="add receptive field, jump and start columns")
def table(model, fmt, input_text, batch, dtype, symbolic, with_rf):
    """Per-layer table of MODEL (a bundled name or a spec file)."""
    from .catalog import load
    from .formatters import FORMATTERS
    from .report import analyse
    from .shapes import Shape

    spec = load(model)
    if symbolic:
        if input_text or batch != 1 or with_rf:
            raise click.UsageError("--symbolic replaces --input and --batch by symbols "
                                   "H, W, B; it takes no --input, --batch or --rf")
        from .symbolic import analyse_symbolic

        click.echo(FORMATTERS[fmt](analyse_symbolic(spec, dtype=dtype)), nl=False)
        return
    shape = None
    if input_text:
        dims = parse_input_shape(input_text)
        if len(dims) == 2:
            dims = (spec.input_shape.channels,) + dims
        shape = Shape(dims)
    report = analyse(spec, shape, batch=batch, dtype=dtype)
    if with_rf:
        from .receptive import receptive_fields

        click.echo(FORMATTERS[fmt](report, rf=receptive_fields(spec, shape)), nl=False)
        return
    click.echo(FORMATTERS[fmt](report), nl=False)


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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="output format")
def sizes(model, lo, hi, height, width, fmt):
    """Valid and exactly tiling input sizes of MODEL, and where inexact sizes drop pixels."""
    from .catalog import load
    from .formatters import format_sizes
    from .sizes import scan

    if (height is None) != (width is None):
        raise click.UsageError("--height and --width go together (MIN:MAX each)")
    result = scan(load(model), _range(height, (lo, hi)), _range(width, None) if width else None)
    click.echo(format_sizes(result, fmt), nl=False)


@cli.command()
@click.argument("model")
@click.option("--input", "input_text", metavar="C,H,W", help="input size ('same' padding depends on it)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="output format")
def rf(model, input_text, fmt):
    """Receptive field, jump and start of every layer of MODEL, in input pixels."""
    from .catalog import load
    from .formatters import format_rf
    from .receptive import receptive_fields
    from .shapes import Shape

    spec = load(model)
    shape = None
    if input_text:
        dims = parse_input_shape(input_text)
        shape = Shape(dims if len(dims) == 3 else (spec.input_shape.channels,) + dims)
    click.echo(format_rf(spec.name, receptive_fields(spec, shape), fmt), nl=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the CLI and turns every user error into one line and exit 2."""
    try:
        cli.main(args=argv, prog_name="archcalc", standalone_mode=False)
    except ArchcalcError as err:
        click.echo(f"archcalc: error: {err.render()}", err=True)
        return EXIT_BAD_INPUT
    except click.UsageError as err:
        message = err.format_message().replace("\n", " ")
        click.echo(f"archcalc: error: {message}", err=True)
        return EXIT_BAD_INPUT
    except click.Abort:
        click.echo("archcalc: aborted", err=True)
        return 1
    except click.ClickException as err:
        click.echo(f"archcalc: error: {err.format_message()}", err=True)
        return err.exit_code
    except BrokenPipeError:  # e.g. `archcalc table vgg19 | head`
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
