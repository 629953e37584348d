"""Read a Dockfile: safe YAML, ``!include`` expanded, a file/line mark for every path.

PyYAML composes a node tree (each node knows its line); we build plain data from it
ourselves instead of letting ``construct_document`` do it, so that we can record a mark per
path, expand ``!include`` in place, refuse duplicate keys (PyYAML keeps the last silently) and
keep the result JSON-compatible: dates stay the strings they were written as, and any tag
other than the core ones is an error, not an object.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from agentdock.errors import DockfileError, IncludeCycleError, YAMLParseError
from agentdock.spec.paths import Mark, Marks, child

INCLUDE_TAG = "!include"
MAX_INCLUDE_DEPTH = 8
MAX_NODES = 200_000  # alias expansion guard ("billion laughs")
MAX_FILE_BYTES = 1 << 20  # a Dockfile or an included file; /dev/zero must not fill memory
INCLUDE_SUFFIXES = (".yaml", ".yml", ".json")
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class DockfileLoader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type: ``2024-05-01`` stays a string."""


DockfileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Document:
    """The Dockfile data after ``!include``; ``files`` lists every file read, the Dockfile first."""

    data: Any = None
    marks: Marks = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    errors: list[DockfileError] = field(default_factory=list)


def read_document(path: Path) -> Document:
    """Parse ``path`` and everything it includes. Problems land in ``Document.errors``."""
    reader = _Reader(path.resolve().parent)
    reader.doc.data = reader.load_file(path.resolve(), stack=(), at="")
    return reader.doc


class _Reader:
    def __init__(self, root_dir: Path) -> None:
        self.root_dir = root_dir
        self.doc = Document()
        self.nodes = 0

    def label(self, file: Path) -> str:
        try:
            return str(file.relative_to(self.root_dir))
        except ValueError:
            return str(file)

    def fail(self, error: DockfileError, file: Path, line: int | None) -> None:
        self.doc.errors.append(error.at(self.label(file), line))

    def load_file(self, file: Path, stack: tuple[Path, ...], at: str) -> Any:
        what = "the Dockfile" if not stack else f"included file '{self.label(file)}'"
        try:
            text = read_regular_file(file, MAX_FILE_BYTES)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            if isinstance(exc, UnicodeDecodeError):
                reason = "not UTF-8 text"  # never the bytes themselves
            self.doc.errors.append(YAMLParseError(at, f"cannot read {what}: {reason}"))
            return None
        self.doc.files.append(file)
        try:
            # the reader refuses control characters in its constructor: inside the try
            loader = DockfileLoader(text)
        except yaml.YAMLError as exc:
            self.fail(YAMLParseError(at, f"invalid YAML: {_reader_problem(exc)}"), file, None)
            return None
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            return self.build(loader, node, file, (*stack, file), at, ())
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = " ".join(filter(None, [exc.context, exc.problem]))
            self.fail(
                YAMLParseError(at, f"invalid YAML: {problem}{where}"), file, mark.line + 1 if mark else None
            )
        except yaml.YAMLError as exc:
            self.fail(YAMLParseError(at, f"invalid YAML: {exc}"), file, None)
        except RecursionError:
            self.fail(YAMLParseError(at, "invalid YAML: nested too deeply"), file, None)
        except _ScalarError as exc:
            self.fail(YAMLParseError(at, f"invalid YAML: {exc.problem}"), file, exc.line)
        finally:
            loader.dispose()
        return None

    def build(
        self,
        loader: DockfileLoader,
        node: Node,
        file: Path,
        stack: tuple[Path, ...],
        at: str,
        active: tuple[int, ...],
    ) -> Any:
        self.nodes += 1
        line = node.start_mark.line + 1
        self.doc.marks.setdefault(at, Mark(self.label(file), line))
        if self.nodes > MAX_NODES:
            raise yaml.MarkedYAMLError(
                problem="document too large (anchors/aliases expand too far)", problem_mark=node.start_mark
            )
        if id(node) in active:
            raise yaml.MarkedYAMLError(
                problem="an alias refers to itself (recursive structure)", problem_mark=node.start_mark
            )
        if node.tag == INCLUDE_TAG:
            return self.include(node, file, stack, at)
        if isinstance(node, MappingNode):
            return self.mapping(loader, node, file, stack, at, (*active, id(node)))
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ:
                raise yaml.MarkedYAMLError(
                    problem=f"unsupported tag {node.tag!r}", problem_mark=node.start_mark
                )
            return [
                self.build(loader, item, file, stack, child(at, i), (*active, id(node)))
                for i, item in enumerate(node.value)
            ]
        value = _construct(loader, node)
        if value is not None and not isinstance(value, str | int | float | bool):
            raise yaml.MarkedYAMLError(
                problem=f"unsupported YAML value of type {type(value).__name__} (tag {node.tag!r})",
                problem_mark=node.start_mark,
            )
        return value

    def mapping(
        self,
        loader: DockfileLoader,
        node: MappingNode,
        file: Path,
        stack: tuple[Path, ...],
        at: str,
        active: tuple[int, ...],
    ) -> dict[Any, Any]:
        if node.tag != _MAP:
            raise yaml.MarkedYAMLError(problem=f"unsupported tag {node.tag!r}", problem_mark=node.start_mark)
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.key(loader, key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                error = YAMLParseError(child(at, key), f"duplicate key {key!r} (first on line {seen[key]})")
                self.fail(error, file, line)
            seen[key] = line
        loader.flatten_mapping(node)  # expands `<<: *anchor`; explicit keys come last and win
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.key(loader, key_node)
            # A mapping entry is marked at its key: `agent:` rather than the first line inside it.
            self.doc.marks.setdefault(child(at, key), Mark(self.label(file), key_node.start_mark.line + 1))
            result[key] = self.build(loader, value_node, file, stack, child(at, key), active)
        return result

    @staticmethod
    def key(loader: DockfileLoader, node: Node) -> Any:
        if not isinstance(node, ScalarNode) or node.tag == INCLUDE_TAG:
            raise yaml.MarkedYAMLError(
                problem="mapping keys must be plain scalars", problem_mark=node.start_mark
            )
        return _construct(loader, node)

    def include(self, node: Node, file: Path, stack: tuple[Path, ...], at: str) -> Any:
        line = node.start_mark.line + 1
        if not isinstance(node, ScalarNode) or not str(node.value).strip():
            self.fail(
                YAMLParseError(at, "!include takes a file path, e.g. `auth: !include auth.yaml`"), file, line
            )
            return None
        written = str(node.value).strip()
        target = (file.parent / written).resolve()
        # Confined: the Dockfile's folder and below (symlinks resolved first), YAML/JSON only, so
        # `!include /proc/self/environ` or `../../x` never reads, nor echoes, a file outside.
        if not target.is_relative_to(self.root_dir) or target.suffix.lower() not in INCLUDE_SUFFIXES:
            self.fail(
                YAMLParseError(
                    at,
                    f"!include {written!r} is refused: includes must be .yaml/.yml/.json files "
                    "inside the Dockfile's folder",
                    hint="move the file next to the Dockfile (or below it) and include it by relative path",
                ),
                file,
                line,
            )
            return None
        if target in stack:
            chain = " -> ".join(self.label(f) for f in (*stack, target))
            self.fail(
                IncludeCycleError(at, f"!include cycle: {chain}", hint="remove one of the includes"),
                file,
                line,
            )
            return None
        if len(stack) > MAX_INCLUDE_DEPTH:
            self.fail(
                IncludeCycleError(
                    at, f"!include nested deeper than {MAX_INCLUDE_DEPTH} files ({self.label(target)})"
                ),
                file,
                line,
            )
            return None
        before = len(self.doc.errors)
        value = self.load_file(target, stack, at)
        for error in self.doc.errors[before:]:
            if error.line is None:  # the included file could not be read: point at the !include
                error.at(self.label(file), line)
        return value


class _ScalarError(Exception):
    """A scalar PyYAML could not construct (``!!int abc``, a 5,000-digit integer, ``!!float x``)."""

    def __init__(self, problem: str, line: int) -> None:
        super().__init__(problem)
        self.problem, self.line = problem, line


def _construct(loader: DockfileLoader, node: Node) -> Any:
    """``construct_object`` whose ValueError/TypeError/OverflowError becomes a placed YAML error;
    the message names the tag and the line, never a (possibly long) value."""
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError, yaml.constructor.ConstructorError) as exc:
        kind = "a number too long" if "digits" in str(exc) else f"not a valid {node.tag.rsplit(':', 1)[-1]}"
        raise _ScalarError(
            f"value at line {node.start_mark.line + 1}, column {node.start_mark.column + 1} is {kind}",
            node.start_mark.line + 1,
        ) from None


def _reader_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        return f"control character #x{exc.character:04x} at position {exc.position} is not allowed"
    return type(exc).__name__


def read_regular_file(file: Path, max_bytes: int) -> str:
    """UTF-8 text of a regular file of at most ``max_bytes``. Opened non-blocking and checked
    with fstat on the open descriptor, so a FIFO or a device is refused instead of hanging or
    streaming forever (no window between the check and the read)."""
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"larger than {max_bytes} bytes")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise ValueError(f"larger than {max_bytes} bytes")
    return data.decode("utf-8")
