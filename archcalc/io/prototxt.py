"""A reader for the protobuf text format, as Caffe's ``deploy.prototxt`` files use it.

Why a parser of its own rather than a library: the maintained parser of this format is
protobuf's ``text_format``, and it parses only against a compiled schema — here Caffe's
1,400-line ``caffe.proto``, which no maintained package ships (the PyPI packages that
bundle a ``caffe_pb2`` are unmaintained converters, or placeholders), and whose generated
code is tied to one protobuf runtime.  Vendoring that schema would make reading a text
file depend on protobuf and on a generated module that breaks when protobuf moves.  The
text format itself is small — ``key: value``, ``name { ... }`` (the colon optional),
repeated keys, ``[a, b]`` lists, ``#`` comments, quoted strings that may be split —, so it
is read here in one module, without a schema: a message is a list of (key, value, line)
in file order, a value a number, a word (an enum name or true/false), a string or a
nested message.  What a key means is decided by :mod:`archcalc.io.caffe_in`.

Hostile input gives one error line: the file is at most :data:`MAX_BYTES`, nesting at
most :data:`MAX_DEPTH` deep, numbers at most :data:`MAX_DIGITS` characters
(tests/test_prototxt.py fuzzes it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ArchcalcError, quoted

MAX_BYTES = 4 * 2**20
MAX_DEPTH = 64
MAX_DIGITS = 40

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\f\v]+|\n)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|inf(?:inity)?|nan)[fF]?(?![A-Za-z0-9_]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>[{}\[\]:,;<>])
""", re.VERBOSE)


@dataclass
class Message:
    """A text-format message: its fields in order, each (key, value, line)."""

    fields: list = field(default_factory=list)
    line: int = 1

    def all(self, key: str) -> list:
        return [v for k, v, _ in self.fields if k == key]

    def get(self, key: str, default=None):
        values = self.all(key)
        return values[-1] if values else default

    def line_of(self, key: str) -> int:
        return next((line for k, _, line in self.fields if k == key), self.line)


@dataclass(frozen=True)
class Word:
    """An unquoted identifier value: an enum name (MAX, ACROSS_CHANNELS) or true/false."""

    text: str


def _unescape(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), body)


class _Parser:
    def __init__(self, text: str, file: str):
        self.file = file
        self.tokens = []
        line, pos = 1, 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise self.error(f"unexpected character {quoted(repr(text[pos]))}", line)
            kind = m.lastgroup
            value = m.group()
            if kind == "space":
                line += value.count("\n")
            elif kind != "comment":
                if kind == "number" and len(value) > MAX_DIGITS:
                    raise self.error(f"a number of {len(value)} characters", line)
                self.tokens.append((kind, value, line))
            pos = m.end()
        self.i = 0

    def error(self, message: str, line: int | None = None) -> ArchcalcError:
        if line is None:
            line = self.tokens[self.i][2] if self.i < len(self.tokens) else \
                (self.tokens[-1][2] if self.tokens else 1)
        return ArchcalcError(f"prototxt syntax error: {message}", file=self.file, line=line)

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None, None)

    def take(self):
        token = self.peek()
        self.i += 1
        return token

    def message(self, depth: int, closing: str | None, line: int) -> Message:
        if depth > MAX_DEPTH:
            raise self.error(f"messages nest deeper than {MAX_DEPTH}")
        msg = Message(line=line)
        while True:
            kind, value, at = self.peek()
            if kind is None:
                if closing:
                    raise self.error(f"'{closing}' missing for the message opened at line {line}")
                return msg
            if kind == "punct" and value == closing:
                self.take()
                return msg
            if kind != "word":
                raise self.error(f"expected a field name, got {quoted(value)}")
            self.take()
            self.field(msg, value, at, depth)
            kind, value, _ = self.peek()
            if kind == "punct" and value in ",;":
                self.take()

    def field(self, msg: Message, key: str, line: int, depth: int) -> None:
        kind, value, _ = self.peek()
        colon = kind == "punct" and value == ":"
        if colon:
            self.take()
            kind, value, _ = self.peek()
        if kind == "punct" and value in "{<":
            self.take()
            msg.fields.append((key, self.message(depth + 1, "}" if value == "{" else ">", line), line))
            return
        if not colon:
            raise self.error(f"expected ':' or '{{' after '{quoted(key)}'")
        if kind == "punct" and value == "[":
            self.take()
            while True:
                kind, value, _ = self.peek()
                if kind == "punct" and value == "]":
                    self.take()
                    return
                if kind == "punct" and value in "{<":
                    self.take()
                    msg.fields.append((key, self.message(depth + 1, "}" if value == "{" else ">",
                                                         line), line))
                else:
                    msg.fields.append((key, self.scalar(), line))
                kind, value, _ = self.peek()
                if kind == "punct" and value == ",":
                    self.take()
                elif not (kind == "punct" and value == "]"):
                    raise self.error("expected ',' or ']' in a list")
        msg.fields.append((key, self.scalar(), line))

    def scalar(self):
        kind, value, _ = self.take()
        if kind == "number":
            text = value.rstrip("fF")
            lowered = text.lower().lstrip("+-")
            if lowered.startswith(("inf", "nan")):
                return float(text)
            if re.fullmatch(r"[-+]?\d+", text):
                return int(text)
            return float(text)
        if kind == "string":
            parts = [_unescape(value)]
            while self.peek()[0] == "string":  # "a" "b" is "ab"
                parts.append(_unescape(self.take()[1]))
            return "".join(parts)
        if kind == "word":
            return Word(value)
        self.i -= 1
        raise self.error(f"expected a value, got {quoted(value) if value else 'the end of the file'}")


def parse_text(text: str, file: str) -> Message:
    """The top-level message of a text-format document."""
    parser = _Parser(text, file)
    return parser.message(0, None, 1)


def read(path: Path, shown: str) -> Message:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as err:
        raise ArchcalcError(f"cannot read the file: {err.strerror or err}", file=shown) from None
    if len(data) > MAX_BYTES:
        raise ArchcalcError(f"the file is larger than {MAX_BYTES:,} bytes", file=shown)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ArchcalcError("the file is not UTF-8 text", file=shown) from None
    return parse_text(text, shown)


__all__ = ["Message", "Word", "parse_text", "read", "MAX_BYTES", "MAX_DEPTH", "MAX_DIGITS"]
