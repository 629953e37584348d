"""Checks that look at the agent's code: the entrypoint (4003) and the I/O contract (4004).

Imports happen only when ``Context.check_imports`` is set, and always inside
``isolated_imports`` (``run_checks`` takes care of that).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from agentdock.errors import DockfileError, EntrypointNotFoundError, InvalidIOSchemaError
from agentdock.spec.context import Context
from agentdock.spec.imports import OBJECT_PATH, import_entrypoint, import_object

PROPERTY_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")
_TYPELESS_OK = ("enum", "const", "anyOf", "oneOf", "allOf", "$ref")
_IO_EXAMPLE = "io_schema: {input: {type: object, properties: {question: {type: string}}}, output: {...}}"


def check_entrypoint(ctx: Context) -> Iterator[DockfileError]:
    if not ctx.check_imports:
        return
    try:
        target = import_entrypoint(ctx.spec.agent.entrypoint, ctx.base_dir)
    except DockfileError as exc:
        yield exc
        return
    if not callable(target) and getattr(type(target), "invoke", None) is None:
        yield EntrypointNotFoundError(
            "agent.entrypoint",
            f"'{ctx.spec.agent.entrypoint}' is a {type(target).__name__}, not a callable or a graph/runnable",
            hint="point agent.entrypoint at a function that returns the graph, e.g. agent:build_graph",
        )


def check_io_schema(ctx: Context) -> Iterator[DockfileError]:
    io = ctx.spec.io_schema
    inline = [k for k in ("input", "output") if getattr(io, k) is not None]
    classes = [k for k in ("input_class", "output_class") if getattr(io, k) is not None]
    if inline and classes:
        yield InvalidIOSchemaError(
            "io_schema", "use either input/output (inline JSON Schema) or input_class/output_class, not both"
        )
        return
    if not inline and not classes:
        yield InvalidIOSchemaError(
            "io_schema",
            "no I/O contract: give input and output, or input_class and output_class",
            hint=_IO_EXAMPLE,
        )
        return
    pair = ("input", "output") if inline else ("input_class", "output_class")
    for have, need in (pair, pair[::-1]):
        if getattr(io, have) is not None and getattr(io, need) is None:
            yield InvalidIOSchemaError(
                f"io_schema.{need}", f"{have} is set but {need} is missing", hint=f"add io_schema.{need}"
            )
    for key in inline:
        yield from _inline_errors(getattr(io, key), f"io_schema.{key}", root=True)
    for key in classes:
        yield from _class_errors(ctx, key, getattr(io, key))


def _class_errors(ctx: Context, key: str, dotted: str) -> Iterator[DockfileError]:
    path = f"io_schema.{key}"
    if not OBJECT_PATH.match(dotted):
        yield InvalidIOSchemaError(path, f"{dotted!r} is not a class path ('module:Class' or 'module.Class')")
        return
    if not ctx.check_imports:
        return
    try:
        obj = import_object(dotted, ctx.base_dir, path=path, error=InvalidIOSchemaError)
    except DockfileError as exc:
        yield exc
        return
    if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
        yield InvalidIOSchemaError(
            path,
            f"'{dotted}' is not a pydantic model (got {type(obj).__name__} {getattr(obj, '__name__', '')!s})".rstrip(),
            hint="subclass pydantic.BaseModel",
        )


def _inline_errors(schema: Any, path: str, *, root: bool = False) -> Iterator[DockfileError]:
    """A small, strict reading of an inline JSON Schema: what the runtime can enforce and document."""
    if not isinstance(schema, dict):
        yield InvalidIOSchemaError(path, f"expected a JSON Schema mapping, got {type(schema).__name__}")
        return
    kind = schema.get("type")
    if root and kind != "object":
        yield InvalidIOSchemaError(
            f"{path}.type",
            f"the top level must be type: object (got {kind!r})",
            hint=f"add {path}.type: object",
        )
    yield from _type_errors(schema, path, typeless_ok=not root)
    properties = schema.get("properties")
    if root and properties is None:
        yield InvalidIOSchemaError(
            f"{path}.properties",
            "missing properties",
            hint=f"add {path}.properties: {{name: {{type: string}}}}",
        )
    if properties is not None and not isinstance(properties, dict):
        yield InvalidIOSchemaError(f"{path}.properties", "properties must be a mapping of name -> schema")
    elif properties:
        for name, sub in properties.items():
            yield from _inline_errors(sub, f"{path}.properties.{name}")
    if "items" in schema:
        yield from _inline_errors(schema["items"], f"{path}.items")
    yield from _required_errors(schema, path)
    if "description" in schema and not isinstance(schema["description"], str):
        yield InvalidIOSchemaError(f"{path}.description", "description must be a string")
    if "enum" in schema and not (isinstance(schema["enum"], list) and schema["enum"]):
        yield InvalidIOSchemaError(f"{path}.enum", "enum must be a non-empty list")


def _type_errors(schema: dict[str, Any], path: str, *, typeless_ok: bool) -> Iterator[DockfileError]:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if kind is None:
        if typeless_ok and not any(k in schema for k in _TYPELESS_OK):
            yield InvalidIOSchemaError(
                path, "no type", hint=f"add {path}.type: one of {', '.join(PROPERTY_TYPES)}"
            )
        return
    for k in kinds:
        if k not in PROPERTY_TYPES:
            yield InvalidIOSchemaError(
                f"{path}.type", f"unknown type {k!r} (allowed: {', '.join(PROPERTY_TYPES)})"
            )


def _required_errors(schema: dict[str, Any], path: str) -> Iterator[DockfileError]:
    required = schema.get("required")
    if required is None:
        return
    declared = schema.get("properties")
    properties: dict[str, Any] = declared if isinstance(declared, dict) else {}
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        yield InvalidIOSchemaError(f"{path}.required", "required must be a list of property names")
        return
    for i, name in enumerate(required):
        if name not in properties:
            yield InvalidIOSchemaError(f"{path}.required[{i}]", f"'{name}' is required but not in properties")
