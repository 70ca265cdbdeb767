"""Reading spec files: the only module that imports YAML.

Loads with a safe loader (no tag may build a Python object), rejects duplicate keys, and
returns plain dicts and lists in which every mapping remembers its line and the line of
each key, so later errors can say ``specs/x.yaml:12``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError


class LineDict(dict):
    """A mapping from the spec, with the 1-based line of itself and of each key."""

    line: int | None = None
    key_lines: dict

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key, self.line)


class _Loader(yaml.SafeLoader):
    """SafeLoader whose mappings are LineDicts and which refuses duplicate keys."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode):
    data = LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise SpecError("mapping keys must be plain words", line=key_node.start_mark.line + 1)
        if key in data:
            raise SpecError(f"duplicate key '{key}' (first at line {data.key_lines[key]})",
                            line=key_node.start_mark.line + 1)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, file: str) -> Any:
    """The document in ``text``; every YAML problem becomes a one-line SpecError."""
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except SpecError as err:
        raise err.at(file=file) from None
    except yaml.constructor.ConstructorError as err:
        mark = err.problem_mark
        found = re.search(r"tag '([^']*)'", err.problem or "")
        tag = found.group(1).replace("tag:yaml.org,2002:", "!!") if found else "?"
        raise SpecError(f"YAML tag '{tag}' is not allowed: specs are plain data",
                        file=file, line=mark.line + 1 if mark else None) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "malformed YAML"
        raise SpecError(f"YAML syntax error: {problem}", file=file,
                        line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as err:
        raise SpecError(f"YAML error: {err}", file=file) from None
    if doc is None:
        raise SpecError("the spec is empty: expected a mapping with name, input and layers", file=file)
    return doc


def read_spec(path: Path, shown_as: str) -> Any:
    """Read and parse the spec file at ``path``; ``shown_as`` is the name used in errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SpecError("the spec is not UTF-8 text", file=shown_as) from None
    except OSError as err:
        raise SpecError(f"cannot read the spec: {err.strerror}", file=shown_as) from None
    return parse_yaml(text, shown_as)
