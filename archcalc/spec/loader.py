"""Reading spec files: the only module that imports YAML.

Loads with a safe loader (no tag may build a Python object) — libyaml's C loader when
PyYAML has it, for start-up speed, else the pure-Python one; both keep every node's line.
It rejects duplicate keys and returns plain dicts and lists in which every mapping
remembers its line and the line of each key, so later errors can say ``specs/x.yaml:12``.

Hostile input is refused before anything is built (docs/conventions.md, "Limits"): a
file larger than :data:`MAX_SPEC_BYTES`, nesting deeper than :data:`MAX_DEPTH`, a
document whose size with every alias expanded passes :data:`MAX_EXPANDED` (a "billion
laughs" alias bomb), recursive aliases, integers longer than :data:`MAX_INT_DIGITS`, and
YAML 1.1's octal (``010`` = 8) and base-60 (``1:30`` = 90) integers, which a careless spec
never means.
Mapping keys are always read as text: ``on:`` is the word 'on', not YAML 1.1's boolean.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError, quoted
from .document import LineDict

#: Largest spec file read, in bytes (the bundled ones are under 8 KiB).
MAX_SPEC_BYTES = 4 * 2**20
#: Deepest nesting of mappings and lists (the bundled specs reach 9).
MAX_DEPTH = 64
#: Largest document counted with every alias expanded: one per node plus the characters
#: of every scalar.  A spec without aliases stays below twice its size in characters.
MAX_EXPANDED = 2 * MAX_SPEC_BYTES
#: Longest integer literal, in digits (sizes and published figures need far fewer).
MAX_INT_DIGITS = 30

#: Explicit tags a spec may carry: plain data only.
_PLAIN_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null",
                                                  "seq", "map")}
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _line(node_or_mark) -> int | None:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return mark.line + 1 if mark is not None else None


def _expect(node, kind: type, tag: str) -> None:
    """An explicit tag on the wrong kind of node (``!!int {a: 1}``, ``!!map [1]``)."""
    if not isinstance(node, kind):
        found = {yaml.ScalarNode: "a scalar", yaml.SequenceNode: "a list",
                 yaml.MappingNode: "a mapping"}.get(type(node), "something else")
        raise SpecError(f"YAML tag '!!{tag}' cannot be put on {found}", line=_line(node))


def _construct_mapping(loader, node: yaml.MappingNode):
    _expect(node, yaml.MappingNode, "map")
    data = LineDict()
    data.line = _line(node)
    data.key_lines = {}
    yield data
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            raise SpecError("YAML merge keys ('<<') are not supported: share layers with a "
                            "block (docs/spec-format.md)", line=_line(key_node))
        if not isinstance(key_node, yaml.ScalarNode):
            raise SpecError("mapping keys must be plain words, got a "
                            f"{'list' if isinstance(key_node, yaml.SequenceNode) else 'mapping'}",
                            line=_line(key_node))
        # keys are text: YAML 1.1 would read `on:`, `yes:` or `1:` as a boolean or a number
        key = key_node.value
        if key in data:
            raise SpecError(f"duplicate key '{quoted(key)}' (first at line {data.key_lines[key]})",
                            line=_line(key_node))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = _line(key_node)


#: YAML 1.1 integers that read as something else than they look: 010 is octal 8, 1:30 is
#: base 60 (90).  A careless spec means ten and one-thirty; refused rather than misread.
_SURPRISING_INT = re.compile(r"[-+]?0[0-7_]+|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+")


def _construct_int(loader, node: yaml.ScalarNode):
    _expect(node, yaml.ScalarNode, "int")
    digits = sum(ch.isalnum() for ch in node.value)
    if digits > MAX_INT_DIGITS:
        raise SpecError(f"integer of {digits} digits: at most {MAX_INT_DIGITS} are read",
                        line=_line(node))
    value = _checked(loader.construct_yaml_int, node, "an integer")
    if _SURPRISING_INT.fullmatch(node.value.strip()):
        kind = "base 60" if ":" in node.value else "octal"
        raise SpecError(f"YAML 1.1 reads {node.value} as the {kind} number {value}; write "
                        f"the decimal number meant (or quote it for text)", line=_line(node))
    return value


def _checked(construct, node, what: str):
    try:
        return construct(node)
    except (ValueError, LookupError, TypeError, ArithmeticError):  # `!!bool maybe`, `!!int ""`
        raise SpecError(f"cannot read '{quoted(node.value)}' as {what}", line=_line(node)) from None


def _install(loader: type) -> type:
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    loader.add_constructor("tag:yaml.org,2002:float",
                           lambda ld, n: _checked(ld.construct_yaml_float, n, "a number"))
    loader.add_constructor("tag:yaml.org,2002:bool",
                           lambda ld, n: _checked(ld.construct_yaml_bool, n, "true or false"))
    # a plain 2001-12-14 is text in a spec, not a date (and 2001-02-30 is no error)
    loader.add_constructor("tag:yaml.org,2002:timestamp", lambda ld, n: ld.construct_scalar(n))
    return loader


class PureLoader(yaml.SafeLoader):
    """The pure-Python SafeLoader, with LineDicts, text keys and checked scalars."""


_install(PureLoader)

if getattr(yaml, "__with_libyaml__", False):
    class CLoader(yaml.CSafeLoader):
        """libyaml's parser with PyYAML's safe constructor: the same as :class:`PureLoader`."""

    _install(CLoader)
    LOADER: type = CLoader
else:  # pragma: no cover - PyYAML built without libyaml
    LOADER = PureLoader


def _measure(text: str, loader: type) -> None:
    """Walk the event stream (no recursion, nothing built) and refuse what would be too
    deep, too large once aliases are expanded, recursive, or tagged as a Python object."""
    expanded: dict[str, int] = {}   # anchor → size of what it names, aliases expanded
    open_: list[list] = []          # [anchor, size so far] of each open collection
    total = 0

    def add(size: int, event) -> None:
        nonlocal total
        if open_:
            open_[-1][1] += size
        else:
            total += size
        if total + sum(s for _, s in open_) > MAX_EXPANDED:
            raise SpecError(f"the spec expands to more than {MAX_EXPANDED:,} nodes and "
                            f"characters (aliases count once per use)", line=_line(event))

    for event in yaml.parse(text, Loader=loader):
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _PLAIN_TAGS and tag != "!":
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise SpecError(f"YAML tag '{quoted(shown)}' is not allowed: specs are plain data",
                            line=_line(event))
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_) >= MAX_DEPTH:
                raise SpecError(f"the spec nests mappings and lists deeper than {MAX_DEPTH}",
                                line=_line(event))
            open_.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_.pop()
            if anchor is not None:
                expanded[anchor] = size
            add(size, event)
        elif isinstance(event, yaml.ScalarEvent):
            size = 1 + len(event.value)
            if event.anchor is not None:
                expanded[event.anchor] = size
            add(size, event)
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _ in open_):
                raise SpecError(f"recursive YAML alias '*{quoted(event.anchor)}': the anchor "
                                f"contains itself", line=_line(event))
            # an undefined alias is left for the composer to report
            add(expanded.get(event.anchor, 1), event)


def parse_yaml(text: str, file: str, loader: type | None = None) -> Any:
    """The document in ``text``; every YAML problem becomes a one-line SpecError."""
    loader = loader or LOADER
    try:
        _measure(text, loader)
        doc = yaml.load(text, Loader=loader)  # noqa: S506 - both loaders are safe loaders
    except SpecError as err:
        raise err.at(file=file) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "malformed YAML"
        if err.context and err.problem:
            problem = f"{err.context}: {problem}"
        kind = "YAML error" if isinstance(err, yaml.constructor.ConstructorError) else "YAML syntax error"
        raise SpecError(f"{kind}: {problem}", file=file, line=_line(mark)) from None
    except yaml.reader.ReaderError as err:
        # the reader's own message carries a second line ("in <unicode string>, position 3")
        line = text.count("\n", 0, err.position) + 1 if isinstance(err.position, int) else None
        char = f" #x{err.character:04x}" if isinstance(err.character, int) else ""
        raise SpecError(f"YAML cannot read character{char}: {err.reason}", file=file,
                        line=line) from None
    except yaml.YAMLError as err:
        raise SpecError(f"YAML error: {err}", file=file) from None
    if doc is None:
        raise SpecError("the spec is empty: expected a mapping with name, input and layers", file=file)
    return doc


def read_spec(path: Path, shown_as: str) -> Any:
    """Read and parse the spec file at ``path``; ``shown_as`` is the name used in errors."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SPEC_BYTES + 1)
    except OSError as err:
        raise SpecError(f"cannot read the spec: {err.strerror}", file=shown_as) from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(f"the spec is larger than {MAX_SPEC_BYTES:,} bytes", file=shown_as)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("the spec is not UTF-8 text", file=shown_as) from None
    return parse_yaml(text, shown_as)


__all__ = ["LineDict", "parse_yaml", "read_spec", "LOADER", "PureLoader", "MAX_SPEC_BYTES",
           "MAX_DEPTH", "MAX_EXPANDED", "MAX_INT_DIGITS"]
