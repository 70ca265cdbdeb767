"""From a parsed spec document to a validated :class:`Model`, a graph of named tensors.

This is the boundary where raw data becomes typed objects: top-level keys are checked,
blocks are expanded with their arguments (``$name`` expressions), ``when:`` conditions
are applied, every layer is built through its declared attributes, names become unique
``/``-joined paths, and every tensor a layer reads is resolved to an earlier node.  Errors
carry the file, the line and the layer.

A layer reads the previous item's output unless it says ``inputs: [a, b, ...]``: names of
earlier layers or block instances, resolved in the enclosing scope (the list, block or
branch the layer is in, then outward), or ``input``.  Merge layers (add, multiply, concat,
crop) always name their inputs.  The structural items are sugar over the graph:
``type: concat`` with ``branches:`` (``[]`` for the identity), ``type: residual``
(``body:``, optional ``shortcut:`` and ``activation:``, an ``add`` at the end) and
``type: side`` (``layers:`` that read the current tensor and feed nothing, named under the
side item, e.g. GoogLeNet's ``aux1/fc1``; their last output becomes a model output).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..core.dtypes import DTYPE_BYTES
from ..core.graph import INPUT, Model, Node
from ..errors import ArchcalcError, SpecError, did_you_mean
from ..layers import REGISTRY
from ..layers.base import ALIASES
from ..layers.folded import folded_activation
from . import fields
from .expr import substitute
from .published import parse_published

TOP_KEYS = ("name", "description", "source", "input", "dtype", "layers", "blocks", "options",
            "notes", "published", "outputs")
BLOCK_KEYS = ("params", "layers", "description", "output")
#: keys every layer item may carry besides its type's attributes
LAYER_KEYS = ("type", "name", "when", "inputs")
ITEM_KEYS = {
    "concat": ("type", "name", "when", "inputs", "branches"),
    "residual": ("type", "name", "when", "inputs", "body", "shortcut", "activation"),
    "side": ("type", "name", "when", "inputs", "layers"),
    "block": ("block", "name", "when", "inputs", "args", "repeat", "first_args"),
}
STRUCTURAL = ("concat", "residual", "side")
MAX_BLOCK_DEPTH = 16
#: Most items (layers, structures, block uses and block repetitions) a spec may expand
#: to after blocks and repeats: bounds the work of building (the bundled specs: < 700).
MAX_LAYERS = 10_000
#: Deepest nesting of layer lists (blocks, branches, bodies, side branches) after
#: expansion, so no later pass over the tree can exhaust Python's stack.
MAX_NESTING = 64


def _line(mapping: Any, key: str | None = None) -> int | None:
    if key is not None and hasattr(mapping, "line_of"):
        return mapping.line_of(key)
    return getattr(mapping, "line", None)


def _yaml(value: Any) -> str:
    """A value as a spec (and --option) would write it: true/false, not True/False."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _is_sugar(kind: str, item: Any) -> bool:
    """``concat`` is sugar only with ``branches``; with ``inputs`` it is the merge layer."""
    return kind in STRUCTURAL and (kind != "concat" or "branches" in item)


@dataclass
class _Scope:
    """Names visible to a layer: those of its list, block or branch, then outward."""

    parent: "_Scope | None" = None
    names: dict = field(default_factory=dict)  # name as written → tensor (node path)

    def find(self, name: str) -> str | None:
        scope = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def visible(self) -> set:
        scope, seen = self, set()
        while scope is not None:
            seen |= set(scope.names)
            scope = scope.parent
        return seen


@dataclass
class _Builder:
    """The state of one build: the nodes made so far and every name and tensor seen."""

    file: str | None
    blocks: Mapping[str, Any]
    names: dict = field(default_factory=dict)   # path → line, every layer and structure
    nodes: list = field(default_factory=list)
    read: set = field(default_factory=set)      # tensors some node reads
    side_ends: list = field(default_factory=list)
    expanded: int = 0   # items built so far, counted against MAX_LAYERS
    nesting: int = 0    # layer lists open now, against MAX_NESTING

    def count(self, item: Any, layer: str | None = None) -> None:
        self.expanded += 1
        if self.expanded > MAX_LAYERS:
            raise self.fail(f"the spec expands to more than {MAX_LAYERS:,} layers and block "
                            f"repetitions (check 'repeat')", item, layer=layer)

    def fail(self, message: str, item: Any = None, key: str | None = None, layer: str | None = None):
        return SpecError(message, file=self.file, line=_line(item, key), layer=layer)

    def claim(self, path: str, item: Any) -> None:
        if path in self.names:
            raise self.fail(f"duplicate layer name (first defined at line {self.names[path]})",
                            item, "name", layer=path)
        self.names[path] = _line(item, "name")

    def add(self, path: str, item: Any, layer, inputs: tuple) -> str:
        self.nodes.append(Node(path, _line(item), layer, inputs))
        self.read.update(inputs)
        return path

    def sequence(self, items: Any, prefix: str, env: Mapping[str, Any], scope: _Scope,
                 current: str, default_prefix: str = "", depth: int = 0, where: Any = None) -> str:
        """Build ``items`` in order; returns the tensor the last of them produces."""
        if not isinstance(items, list):
            raise self.fail(f"expected a list of layers, got {type(items).__name__}", where)
        if self.nesting >= MAX_NESTING:
            raise self.fail(f"layer lists nest deeper than {MAX_NESTING} (blocks, branches "
                            f"and bodies together)", where)
        self.nesting += 1
        for index, item in enumerate(items, 1):
            if not isinstance(item, dict):  # located at the list's owner
                raise self.fail(f"layer {index} must be a mapping with a 'type', got "
                                f"{fields._describe(item)}", where)
            self.count(item)
            current = self.item(item, index, prefix, env, scope, current, default_prefix, depth)
        self.nesting -= 1
        return current

    def item(self, item: Any, index: int, prefix: str, env: Mapping[str, Any], scope: _Scope,
             current: str, default_prefix: str, depth: int) -> str:
        if "when" in item:
            cond = self.resolve(item, "when", env)
            if not isinstance(cond, bool):
                raise self.fail(f"'when' must be true or false, got {cond!r}", item, "when")
            if not cond:
                return current
        if "block" in item:
            return self.block_use(item, index, prefix, env, scope, current, depth)
        kind = item.get("type")
        if not isinstance(kind, str):
            raise self.fail(f"layer {index} has no 'type' (or use 'block:')", item)
        raw_name = self.resolve(item, "name", env) if "name" in item else f"{default_prefix}{kind}{index}"
        if not isinstance(raw_name, (str, int)) or "/" in str(raw_name) or not str(raw_name):
            raise self.fail(f"a layer name must be a non-empty word without '/', got {raw_name!r}",
                            item, "name")
        if str(raw_name) == INPUT:
            raise self.fail(f"'{INPUT}' names the model input; choose another layer name",
                            item, "name")
        path = prefix + str(raw_name)
        if _is_sugar(kind, item):
            self.check_keys(item, ITEM_KEYS[kind], path, kind)
            self.claim(path, item)
            source = self.one_input(item, env, scope, path, current)
            out = self.structure(kind, item, path, prefix, env, scope, source, depth)
            scope.names[str(raw_name)] = out
            return out
        kind = ALIASES.get(kind, kind)  # swish, drop_path: spellings of silu, stochastic_depth
        if kind not in REGISTRY:
            hint = did_you_mean(kind, list(REGISTRY) + list(ALIASES) + list(STRUCTURAL))
            raise self.fail(f"unknown layer type '{kind}'{hint}; layer types: "
                            f"{', '.join(sorted(REGISTRY))}; structures: "
                            f"{', '.join(STRUCTURAL)} (concat with branches:), or 'block:' "
                            f"to use a block", item, "type", layer=path)
        self.claim(path, item)
        attrs = {k: self.resolve(item, k, env, path) for k in item if k not in LAYER_KEYS}
        try:
            layer = fields.build(REGISTRY[kind], attrs, getattr(item, "key_lines", None))
        except ArchcalcError as err:
            raise err.at(file=self.file, line=_line(item), layer=path) from None
        inputs = self.inputs(item, env, scope, path)
        inputs = self.check_arity(layer, item, path, inputs if inputs is not None else (current,),
                                  given="inputs" in item)
        scope.names[str(raw_name)] = path
        return self.add(path, item, layer, inputs)

    def resolve(self, item: Any, key: str, env: Mapping[str, Any], layer: str | None = None) -> Any:
        try:
            return substitute(item[key], env)
        except SpecError as err:
            raise err.at(file=self.file, line=_line(item, key), layer=layer, key=key) from None

    def inputs(self, item: Any, env: Mapping[str, Any], scope: _Scope, path: str) -> tuple | None:
        """The tensors named by ``inputs:``, resolved to node paths (None when absent)."""
        if "inputs" not in item:
            return None
        raw = self.resolve(item, "inputs", env, path)
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise self.fail("'inputs' must be a list of tensor names (earlier layers, block "
                            f"instances or '{INPUT}'), got {raw!r}", item, "inputs", layer=path)
        resolved = []
        for name in raw:
            if not isinstance(name, (str, int)) or isinstance(name, bool) or not str(name):
                raise self.fail(f"'inputs' names tensors (earlier layers, block instances or "
                                f"'{INPUT}'), got {name!r}", item, "inputs", layer=path)
            tensor = scope.find(str(name))
            if tensor is None and str(name) == INPUT:
                tensor = INPUT
            if tensor is None:
                hint = did_you_mean(str(name), scope.visible() | {INPUT})
                raise self.fail(f"input '{name}' is not a layer or block instance defined before "
                                f"this one{hint}", item, "inputs", layer=path)
            resolved.append(tensor)
        return tuple(resolved)

    def one_input(self, item: Any, env: Mapping[str, Any], scope: _Scope, path: str,
                  current: str) -> str:
        """The tensor a structural item or block use reads: ``inputs:`` (one name) or the
        previous item's output."""
        inputs = self.inputs(item, env, scope, path)
        if inputs is None:
            return current
        if len(inputs) != 1:
            raise self.fail(f"this item reads one tensor; 'inputs' lists {len(inputs)}",
                            item, "inputs", layer=path)
        return inputs[0]

    def check_arity(self, layer, item: Any, path: str, inputs: tuple, given: bool) -> tuple:
        arity = layer.arity
        if arity is None:
            if not given or len(inputs) < 2:
                raise self.fail(f"{layer.type_name} merges tensors: 'inputs' must name at least "
                                f"two", item, "inputs" if given else None, layer=path)
        elif len(inputs) != arity:
            wanted = "one tensor" if arity == 1 else f"{arity} tensors"
            said = f"'inputs' lists {len(inputs)}" if given else "name them in 'inputs'"
            raise self.fail(f"{layer.type_name} reads {wanted}; {said}", item,
                            "inputs" if given else None, layer=path)
        return inputs

    def check_keys(self, item: Any, allowed: tuple, path: str, kind: str) -> None:
        for key in item:
            if key not in allowed:
                raise self.fail(f"unknown key '{key}'{did_you_mean(str(key), allowed)}; "
                                f"{kind} takes: {', '.join(allowed)}", item, key, layer=path)

    def structure(self, kind: str, item: Any, path: str, prefix: str, env: Mapping[str, Any],
                  scope: _Scope, x: str, depth: int) -> str:
        """Expand a structural item reading tensor ``x``; returns the tensor after it."""
        if kind == "concat":
            branches = item.get("branches")
            if not isinstance(branches, list) or len(branches) < 2:
                raise self.fail("concat needs 'branches': a list of at least two layer lists "
                                "([] passes the input through)", item, "branches", layer=path)
            outs = tuple(self.sequence(branch, prefix, env, _Scope(scope), x, f"b{j}_", depth, item)
                         for j, branch in enumerate(branches, 1))
            return self.add(path, item, REGISTRY["concat"](), outs)
        if kind == "side":
            # layers are named under the side branch (aux1/conv), and it needs a name
            if "name" not in item:
                raise self.fail("a side branch needs a 'name' (its layers are named under it)",
                                item, layer=path)
            if "layers" not in item:
                raise self.fail("side needs 'layers': the layers that read the current tensor "
                                "without feeding the next layer", item, layer=path)
            count = len(self.nodes)
            end = self.sequence(item["layers"], path + "/", env, _Scope(scope), x, "", depth, item)
            if len(self.nodes) == count:
                raise self.fail("side branch has no layers (are all their 'when' false?)",
                                item, "layers", layer=path)
            self.side_ends.append(end)
            return x
        if "body" not in item:
            raise self.fail("residual needs 'body': the layers whose output is added to the "
                            "shortcut", item, layer=path)
        body = self.sequence(item["body"], prefix, env, _Scope(scope), x, "body_", depth, item)
        shortcut = self.sequence(item.get("shortcut") or [], prefix, env, _Scope(scope), x,
                                 "shortcut_", depth, item)
        activation = None
        if "activation" in item:
            try:
                activation = folded_activation(self.resolve(item, "activation", env, path))
            except SpecError as err:
                raise err.at(file=self.file, line=_line(item, "activation"), layer=path,
                             key="activation") from None
        return self.add(path, item, REGISTRY["add"](activation=activation), (body, shortcut))

    def block_use(self, item: Any, index: int, prefix: str, env: Mapping[str, Any],
                  scope: _Scope, current: str, depth: int) -> str:
        name = item["block"]
        if not isinstance(name, str):
            hint = " (YAML reads yes/no/on/off as booleans: quote the name)" if isinstance(name, bool) else ""
            raise self.fail(f"'block' names a block, got {fields._describe(name)}{hint}", item, "block")
        if name not in self.blocks:
            raise self.fail(f"unknown block '{name}'{did_you_mean(str(name), self.blocks)}",
                            item, "block")
        if depth >= MAX_BLOCK_DEPTH:
            raise self.fail(f"blocks nest deeper than {MAX_BLOCK_DEPTH}: is block '{name}' "
                            f"using itself?", item, "block")
        instance = str(self.resolve(item, "name", env)) if "name" in item else f"{name}{index}"
        path = prefix + instance
        self.check_keys(item, ITEM_KEYS["block"], path, "a block use")
        block = self.blocks[name]
        repeat = 1
        if "repeat" in item:
            try:
                repeat = fields.positive_int(self.resolve(item, "repeat", env, path))
            except SpecError as err:
                raise err.at(file=self.file, line=_line(item, "repeat"), layer=path,
                             key="repeat") from None
        x = self.one_input(item, env, scope, path, current)
        for r in range(repeat):
            if r:
                self.count(item, path)
            args = self.block_args(block, item, env, path, first=(r == 0))
            inner = path if repeat == 1 else f"{path}/{r}"
            # the block sees the names visible where it is used, so tensor arguments
            # (args: {skip: enc3}, read as inputs: [$skip]) resolve there
            body = _Scope(scope)
            x = self.sequence(block["layers"], inner + "/", {**env, **args}, body, x, "",
                              depth + 1, block)
            if "output" in block:
                x = self.block_output(block, name, body, path)
        scope.names[instance] = x
        return x

    def block_output(self, block: Any, name: str, body: _Scope, path: str) -> str:
        wanted = block["output"]
        if not isinstance(wanted, (str, int)) or str(wanted) not in body.names:
            raise self.fail(f"'output' of block '{name}' must name one of its layers, got "
                            f"{wanted!r}{did_you_mean(str(wanted), body.names)}", block,
                            "output", layer=path)
        return body.names[str(wanted)]

    def block_args(self, block: Any, item: Any, env: Mapping[str, Any], path: str, first: bool) -> dict:
        params = block.get("params") or {}
        given = {}
        for key in ("args", "first_args") if first else ("args",):
            raw = item.get(key) or {}
            if not isinstance(raw, dict):
                raise self.fail(f"'{key}' must be a mapping of argument values", item, key, layer=path)
            for arg in raw:
                if arg not in params:
                    raise self.fail(f"unknown argument '{arg}'{did_you_mean(str(arg), params)} for "
                                    f"block '{item['block']}'; it takes: {', '.join(params) or 'none'}",
                                    raw, arg, layer=path)
                given[arg] = self.resolve(raw, arg, env, path)
        args = {}
        for arg, default in params.items():
            if arg in given:
                args[arg] = given[arg]
            elif default is None:
                raise self.fail(f"block '{item['block']}' needs argument '{arg}'", item, layer=path)
            else:
                args[arg] = default
        return args

    def outputs(self, doc: Any, scope: _Scope, last: str) -> tuple:
        """The model's outputs: ``outputs:`` (names of top-level layers, block instances or
        full paths) or the last tensor; then the ends of side branches."""
        declared = doc.get("outputs")
        if declared is None:
            outs = [last]
        else:
            if not isinstance(declared, list) or not declared:
                raise self.fail("'outputs' must be a list of tensor names", doc, "outputs")
            paths = {n.path for n in self.nodes}
            outs = []
            for name in declared:
                tensor = scope.find(str(name)) if isinstance(name, (str, int)) else None
                if tensor is None and str(name) in paths:
                    tensor = str(name)
                if tensor is None:
                    raise self.fail(f"output '{name}' is not a layer or block instance of the model"
                                    f"{did_you_mean(str(name), scope.visible() | paths)}",
                                    doc, "outputs")
                if tensor not in outs:
                    outs.append(tensor)
        outs += [end for end in self.side_ends if end not in outs]
        return tuple(outs)

    def check_used(self, outputs: tuple) -> None:
        """A layer whose output nothing reads and the model does not return is a typo."""
        for node in self.nodes:
            if node.path not in self.read and node.path not in outputs:
                raise SpecError("this layer's output is never used; list it in 'outputs' if the "
                                "model returns it", file=self.file, line=node.line, layer=node.path)


def build_model(doc: Any, file: str | None = None, options: Mapping[str, Any] | None = None,
                default_name: str = "model") -> Model:
    """Validate a parsed spec document and build its :class:`Model`."""
    if not isinstance(doc, dict):
        raise SpecError("a spec must be a mapping with name, input and layers", file=file)

    def fail(message: str, key: str | None = None, where: Any = doc) -> SpecError:
        return SpecError(message, file=file, line=_line(where, key))

    for key in doc:
        if key not in TOP_KEYS:
            raise fail(f"unknown top-level key '{key}'{did_you_mean(str(key), TOP_KEYS)}; "
                       f"allowed: {', '.join(TOP_KEYS)}", key)
    for key in ("input", "layers"):
        if key not in doc:
            raise fail(f"missing required key '{key}'")
    def top(key: str, parse, default: Any = None) -> Any:
        try:
            return parse(doc[key] if key in doc else default)
        except SpecError as err:  # located at the key that failed
            named = None if err.message.startswith(key) else key  # "input must be …" names itself
            raise err.at(file=file, line=_line(doc, key), key=named) from None

    input_shape = top("input", fields.input_shape)
    dtype = top("dtype", fields.choice(*DTYPE_BYTES), "float32")
    texts = {k: top(k, fields.text, "") for k in ("description", "source", "notes")}
    name = top("name", fields.text, default_name)

    declared = doc.get("options") or {}
    if not isinstance(declared, dict):
        raise fail("'options' must be a mapping of option names to default values", "options")
    env = dict(declared)
    for key, value in (options or {}).items():
        if key not in declared:
            known = ", ".join(declared) or "none"
            raise SpecError(f"unknown option '{key}'{did_you_mean(key, declared)}; "
                            f"this model has: {known}", file=file)
        default = declared[key]
        if default is not None and type(value) is not type(default):
            raise SpecError(f"option '{key}' takes a {type(default).__name__} like its default "
                            f"{_yaml(default)}, got {_yaml(value)}", file=file, line=_line(declared, key))
        env[key] = value

    blocks = doc.get("blocks") or {}
    if not isinstance(blocks, dict):
        raise fail("'blocks' must be a mapping of block names to definitions", "blocks")
    for block_name, block in blocks.items():
        if not isinstance(block, dict) or "layers" not in block:
            raise fail(f"block '{block_name}' must be a mapping with 'layers' (and optional 'params')",
                       block_name, blocks)
        for key in block:
            if key not in BLOCK_KEYS:
                raise fail(f"unknown key '{key}' in block '{block_name}'"
                           f"{did_you_mean(str(key), BLOCK_KEYS)}", key, block)
        if not isinstance(block.get("params") or {}, dict):
            raise fail(f"'params' of block '{block_name}' must map argument names to defaults "
                       f"(~ for required)", "params", block)

    builder = _Builder(file, blocks)
    top = _Scope()
    last = builder.sequence(doc["layers"], "", env, top, INPUT, where=doc)
    if not builder.nodes:
        raise fail("the model has no layers", "layers")
    outputs = builder.outputs(doc, top, last)
    builder.check_used(outputs)
    try:
        published = parse_published(doc.get("published"), lambda key: _line(doc, key))
    except SpecError as err:
        raise err.at(file=file) from None
    unknown = [p for p in published if p.layer and p.layer not in builder.names
               and not any(n.startswith(p.layer + "/") for n in builder.names)]
    if unknown:
        raise SpecError(f"published entry names layer '{unknown[0].layer}', which the model does "
                        f"not have{did_you_mean(unknown[0].layer, builder.names)}",
                        file=file, line=unknown[0].line)
    return Model(name=name, input_shape=input_shape, nodes=tuple(builder.nodes), outputs=outputs,
                 dtype=dtype, file=file, published=published, **texts)
