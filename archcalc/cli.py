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
def table(model, fmt, input_text, batch, dtype):
    """Per-layer table of MODEL (a bundled name or a spec file)."""
    from .catalog import load
    from .formatters import FORMATTERS
    from .report import analyse
    from .shapes import Shape

    spec = load(model)
    shape = None
    if input_text:
        dims = parse_input_shape(input_text)
        if len(dims) == 2:
            dims = (spec.input_shape.channels,) + dims
        shape = Shape(dims)
    report = analyse(spec, shape, batch=batch, dtype=dtype)
    click.echo(FORMATTERS[fmt](report), nl=False)


class Disagreement(click.ClickException):
    """verify found rows where the engine and the arrays differ: exit status 1."""
    exit_code = 1


def _input_shape(spec, input_text):
    """The --input option as a Shape (H,W keeps the model's channels), or None."""
    from .shapes import Shape

    if not input_text:
        return None
    dims = parse_input_shape(input_text)
    if len(dims) == 2:
        dims = (spec.input_shape.channels,) + dims
    return Shape(dims)


@cli.command("verify")
@click.argument("model")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the weights and input")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="batch size")
@click.option("--input", "input_text", metavar="C,H,W", help="input size instead of the model's")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32",
              show_default=True, help="element type of the arrays")
@click.option("--save", metavar="FILE.npz", help="write input, weights and outputs to one .npz")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="output format")
def verify_command(model, seed, batch, input_text, dtype, save, fmt):
    """Run MODEL in NumPy and check the engine's shapes, params, MACs and memory.

    Exit status: 0 every check agrees, 1 some disagree (listed), 2 bad input.
    """
    from .catalog import load
    from .verify import verify
    from .verify_format import render_json, render_text

    spec = load(model)
    shape = _input_shape(spec, input_text)
    bar = None
    if fmt == "text" and sys.stderr.isatty():
        from .report import analyse

        rows = len(analyse(spec, shape).layers)
        bar = click.progressbar(length=rows, label=spec.name, file=sys.stderr)
    if bar is None:
        result = verify(spec, shape, batch=batch, seed=seed, dtype=dtype, save=save)
    else:
        with bar:
            result = verify(spec, shape, batch=batch, seed=seed, dtype=dtype, save=save,
                            on_layer=lambda run: bar.update(1))
    click.echo((render_json if fmt == "json" else render_text)(result), nl=False)
    if not result.ok:
        raise Disagreement(f"{len(result.disagreements())} checks disagree with the engine")


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
