"""``archcalc import``: a model in another format written as an editable spec.

The source is an ONNX file, a Caffe prototxt, or ``module:callable`` naming a Python
callable that returns a PyTorch ``nn.Module``.  The YAML written is read back and its
table compared with the source's: a difference would be a bug in the writer, reported
rather than left in the file.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ArchcalcError, quoted


def source_document(source: str, input_shape: tuple | None, via: str = "auto") -> dict:
    """The spec document of ``source``."""
    from ..spec.catalog import IMPORT_SUFFIXES

    path = Path(source)
    if path.suffix.lower() in IMPORT_SUFFIXES:
        if not path.is_file():
            raise ArchcalcError(f"no such file: {quoted(source)}")
        from . import document

        return document(path, source, input_shape)
    if ":" in source and not path.exists():
        from .torch_in import callable_document

        if input_shape is None:
            raise ArchcalcError(f"importing {quoted(source)} needs --input C,H,W: a PyTorch "
                                f"module does not state its input size")
        return callable_document(source, input_shape, via)
    raise ArchcalcError(f"cannot import {quoted(source)}: expected an .onnx or .prototxt file "
                        f"or module:callable (e.g. torchvision.models:resnet50)")


def import_spec(source: str, output: str, input_shape: tuple | None = None,
                via: str = "auto") -> int:
    """Write the spec of ``source`` to ``output``; returns the number of layers."""
    from ..core.report import analyse
    from ..spec.build import build_model
    from ..spec.loader import parse_yaml
    from .spec_out import dump

    if not output:
        raise ArchcalcError("-o needs the name of the spec file to write")
    doc = source_document(source, input_shape, via)
    header = (f"Imported by `archcalc import {source}`: an editable spec whose figures are\n"
              f"those of `archcalc table` on the source (docs/import-export.md).")
    text = dump(doc, header)
    original = analyse(build_model(doc, source))
    shown = output
    again = analyse(build_model(parse_yaml(text, shown), shown))
    if _figures(original) != _figures(again):  # pragma: no cover - a writer bug
        raise ArchcalcError(f"the spec written for {quoted(source)} does not read back to the "
                            f"same figures; please report this")
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as err:
        raise ArchcalcError(f"cannot write {quoted(output)}: {err.strerror or err}") from None
    return len(doc["layers"])


def _figures(report) -> list:
    return [(r.name, r.type, r.out_shape.dims, r.params, r.connections, r.macs, r.flops,
             r.activations) for r in report.layers]
