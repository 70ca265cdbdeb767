"""Bring your own model: ONNX, PyTorch and Caffe in, ONNX out (docs/import-export.md).

Each reader turns its format into one :class:`~archcalc.io.opgraph.OpGraph`, and one
lowering (:mod:`archcalc.io.lower`, :mod:`archcalc.io.operators`) turns that into a spec
document — the same document ``archcalc import`` writes as YAML, so a table of the file
and a table of the imported spec are the same table.  Every optional package (onnx,
torch) is imported only when its format is read or written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

#: file suffixes read by an importer instead of the YAML loader
from ..spec.catalog import IMPORT_SUFFIXES


def is_imported(path: Path) -> bool:
    return path.suffix.lower() in IMPORT_SUFFIXES


def document(path: Path, shown: str, input_shape: tuple | None = None) -> dict:
    """The spec document of the ONNX or prototxt file at ``path``."""
    from .lower import lower

    suffix = path.suffix.lower()
    if suffix == ".onnx":
        from . import onnx_in

        graph = onnx_in.read(path, shown, input_shape)
    else:
        from . import caffe_in

        graph = caffe_in.read(path, shown, input_shape)
    return lower(graph, _stem(path), f"imported from {path.name}", graph.source)


def _stem(path: Path) -> str:
    from ..errors import one_line

    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return one_line(stem[:-len(".deploy")] if stem.endswith(".deploy") else stem)


def load_file(path: Path, shown: str, options: Mapping[str, Any] | None = None,
              input_shape: tuple | None = None):
    """The Model of an ONNX or prototxt file."""
    from ..spec.build import build_model

    return build_model(document(path, shown, input_shape), shown, options)


def from_torch(module, input_shape, name: str | None = None):
    """The :class:`~archcalc.core.graph.Model` of a PyTorch ``nn.Module`` for one sample of
    ``input_shape`` (C, H, W; or C, L; or C, D, H, W), traced with torch.fx (torch's ONNX
    exporter where fx cannot trace)."""
    from ..spec.build import build_model
    from .torch_in import torch_document

    doc = torch_document(module, tuple(input_shape), name)
    return build_model(doc, doc["name"])


__all__ = ["IMPORT_SUFFIXES", "document", "from_torch", "is_imported", "load_file"]
