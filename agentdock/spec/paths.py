"""Dotted paths (``policies.safety.redact_patterns[1]``) and where each one was written.

Every error names a path; the loader records, for every path it builds, the file and line
the value came from, so an error can also say ``Dockfile.yaml:12`` (or the included file).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from agentdock.errors import DockfileError


@dataclass(frozen=True, slots=True)
class Mark:
    file: str
    line: int


Marks = dict[str, Mark]


def child(path: str, key: object) -> str:
    """The path of ``key`` inside ``path``: list indexes as ``[i]``, mapping keys as ``.key``."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def join(parts: Iterable[object]) -> str:
    path = ""
    for part in parts:
        path = child(path, part)
    return path


def ancestors(path: str) -> Iterator[str]:
    """``a.b[1].c`` -> ``a.b[1].c``, ``a.b[1]``, ``a.b``, ``a``, ``""``."""
    while path:
        yield path
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    yield ""


def locate(error: DockfileError, marks: Marks) -> DockfileError:
    """Attach the file/line of the nearest written ancestor of ``error.path`` (unless already set).

    The document root is no place: an error about a top-level key nobody wrote stays unplaced.
    """
    if error.line is not None:
        return error
    for path in ancestors(error.path):
        if not path:
            break
        mark = marks.get(path)
        if mark is not None:
            return error.at(mark.file, mark.line)
    return error
