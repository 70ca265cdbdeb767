"""Finding specs: bundled model names and users' files."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from .build import build_model
from ..errors import SpecError, did_you_mean, one_line
from ..core.graph import Model
from . import parsed

#: files read by an importer (archcalc.io) rather than as YAML; kept here so that finding a
#: model imports nothing of archcalc.io until one of them is named
IMPORT_SUFFIXES = (".onnx", ".prototxt")

SPEC_SUFFIXES = (".yaml", ".yml")


def specs_dir() -> Path:
    """The folder of bundled specs (the top-level specs/ folder, shipped as archcalc.specs).

    Looked up beside the package first (archcalc/specs when installed, specs/ in a source
    tree or an editable install): importlib.resources costs every start-up a few ms, and
    would send a source tree on PYTHONPATH to an editable install's specs elsewhere."""
    package = Path(__file__).resolve().parents[1]
    for folder in (package / "specs", package.parent / "specs"):
        if (folder / "__init__.py").is_file():
            return folder
    try:
        from importlib.resources import files

        return Path(str(files("archcalc.specs")))
    except ModuleNotFoundError:  # pragma: no cover - neither installed nor a source tree
        return package.parent / "specs"


@lru_cache(maxsize=None)
def bundled_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in specs_dir().glob("*.yaml")))


def _shown(path: Path) -> str:
    """The path as a user would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def resolve(ref: str) -> tuple[Path, str]:
    """The file behind ``ref`` (a bundled model name or a path) and the name shown in errors."""
    path = Path(ref)
    if path.suffix in SPEC_SUFFIXES or path.suffix.lower() in IMPORT_SUFFIXES or os.sep in ref \
            or "/" in ref:
        if not path.is_file():
            raise SpecError(f"no such spec file: {ref}")
        return path, ref
    bundled = specs_dir() / f"{ref}.yaml"
    if bundled.is_file():
        return bundled, f"specs/{ref}.yaml"
    if path.is_file():
        return path, ref
    hint = did_you_mean(ref, bundled_names())
    raise SpecError(f"unknown model '{ref}'{hint}; 'archcalc list' shows the bundled models")


def load(ref: str, options: Mapping[str, Any] | None = None) -> Model:
    """Load and validate the model named or pointed to by ``ref``."""
    path, shown = resolve(ref)
    if path.suffix.lower() in IMPORT_SUFFIXES:  # ONNX or Caffe: read by archcalc.io
        from ..io import load_file

        return load_file(path, shown, options)
    doc = read_document(path, shown)
    return build_model(doc, shown, options, default_name=one_line(path.stem))


def read_document(path: Path, shown: str) -> Any:
    """The document of the spec file ``path``: for a bundled spec whose file is as
    recorded, the stored one (archcalc.spec.parsed: no YAML is imported), else its YAML."""
    doc = parsed.document(path) if path.parent == specs_dir() else None
    if doc is None:
        from .loader import read_spec

        doc = read_spec(path, shown)
    return doc


def builder(ref: str):
    """``build(options)`` → the model ``ref`` names, with those options: the spec is read
    once, the model built per call (a sweep builds one per option combination)."""
    path, shown = resolve(ref)
    doc = read_document(path, shown)
    return lambda options=None: build_model(doc, shown, options, default_name=one_line(path.stem))
