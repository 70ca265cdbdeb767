"""The bundled specs kept parsed, so that naming a bundled model reads no YAML.

Importing PyYAML and parsing a spec cost a start-up about 10 ms.  specs/parsed.marshal
holds, for each bundled spec, the bytes of its file and the document the loader makes of
them, in archcalc.spec.document's plain form.  :func:`document` gives the stored document
only while the file holds exactly the recorded bytes; an edited spec is read from its
YAML like any other file, so an out-of-date store costs time, never a wrong figure or
line.  ``python -m archcalc.spec.parsed`` rewrites the store (a test fails while it is out
of date); nothing writes it at run time.
"""
from __future__ import annotations

import marshal
from functools import lru_cache
from pathlib import Path
from typing import Any

from .document import from_plain, to_plain

STORE = "parsed.marshal"
#: the store's layout; a store of another layout is ignored
LAYOUT = 1
#: marshal's format 4 (Python 3.4 on), which later Pythons read too
MARSHAL_VERSION = 4


@lru_cache(maxsize=None)
def _entries(folder: Path) -> dict:
    """Spec name → its entry, marshalled on its own so a start-up unpacks only the one
    it reads; {} without a readable store."""
    try:
        layout, entries = marshal.loads((folder / STORE).read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return entries if layout == LAYOUT and isinstance(entries, dict) else {}


def document(path: Path) -> Any:
    """The stored document of the bundled spec file ``path``, or None when the store has
    none for it or the file no longer holds the recorded bytes."""
    entry = _entries(path.parent).get(path.stem)
    if entry is None:
        return None
    try:
        recorded, plain = marshal.loads(entry)
        with path.open("rb") as handle:
            data = handle.read(len(recorded) + 1)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return from_plain(plain) if data == recorded else None


def build(folder: Path) -> bytes:
    """The store of the specs in ``folder``: each parsed by the loader, as every file
    is.  A spec whose document shares nodes (YAML aliases) is left out: a copy would not
    share them."""
    from .loader import read_spec

    entries = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            plain = to_plain(read_spec(path, path.name))
        except ValueError:
            continue
        entries[path.stem] = marshal.dumps((path.read_bytes(), plain), MARSHAL_VERSION)
    return marshal.dumps((LAYOUT, entries), MARSHAL_VERSION)


def main() -> None:
    from .catalog import specs_dir

    store = specs_dir() / STORE
    store.write_bytes(build(specs_dir()))
    print(f"wrote {store}")


if __name__ == "__main__":
    main()
