"""Structural validation of Dockfile data, with errors a person can act on (4002).

The models are validated with pydantic (strict, so they agree with the JSON Schema: a
contract test proves it). Each pydantic error becomes an ``InvalidSchemaError`` with a dotted
path and a plain cause: ``required field missing``, ``unknown key 'foo' (allowed: ...)``,
``unsupported version '2.0' (supported: 1.0, 1.1)``. Allowed keys and field descriptions for
hints come from the JSON Schema, the same document editors use.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from agentdock.errors import InvalidSchemaError
from agentdock.spec.models import SUPPORTED_VERSIONS, DockSpec
from agentdock.spec.paths import join
from agentdock.spec.schema import schema_document

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "less_than_equal": ("le", "<="),
    "greater_than": ("gt", ">"),
    "less_than": ("lt", "<"),
}


def validate_model(
    data: Any, substituted: Iterable[str] = ()
) -> tuple[DockSpec | None, list[InvalidSchemaError]]:
    """``(DockSpec, [])`` or ``(None, errors)``: every structural error at once."""
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {_type_name(data)}"
        return None, [InvalidSchemaError("", f"a Dockfile is a mapping (version:, agent:, ...), got {got}")]
    try:
        return DockSpec.model_validate(data, by_name=False), []
    except ValidationError as exc:
        from_refs = set(substituted)
        return None, [_translate(err, from_refs) for err in exc.errors(include_url=False)]


def best_effort_model(data: Any) -> DockSpec | None:
    """The spec without its unknown keys, when unknown keys are its only structural errors.

    Unknown keys never change what the other keys mean, so the semantic checks can still run
    and a typo (``secret_ky``) is reported together with what it causes (no secret_key).
    """
    if not isinstance(data, dict):
        return None
    try:
        return DockSpec.model_validate(data, by_name=False)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    if any(err["type"] != "extra_forbidden" for err in errors):
        return None
    pruned = copy.deepcopy(data)
    for err in errors:
        parent: Any = pruned
        for part in err["loc"][:-1]:
            parent = parent[part]
        parent.pop(err["loc"][-1], None)
    try:
        return DockSpec.model_validate(pruned, by_name=False)
    except ValidationError:
        return None


def _translate(err: Any, from_refs: set[str]) -> InvalidSchemaError:
    loc = list(err["loc"])
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if loc and loc[-1] == "[key]":
        loc.pop()
        return InvalidSchemaError(
            join(loc), f"keys must be strings, got {_type_name(loc[-1])} {loc[-1]!r}", hint="quote the key"
        )
    path = join(loc)
    if kind == "missing":
        return InvalidSchemaError(path, "required field missing", hint=_add_hint(loc))
    if loc == ["version"] and path not in from_refs:
        return _version_error(value)
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    # A value that came from ${VAR} may be a secret: say where it came from, never what it is.
    from_ref = path in from_refs
    shown = "the value of a ${VAR} reference" if from_ref else repr(value)
    if kind == "literal_error":
        return InvalidSchemaError(path, f"{shown} is not one of: {_choices(loc)}")
    if kind == "string_pattern_mismatch":
        return InvalidSchemaError(path, f"{shown} does not match {ctx.get('pattern')}", hint=_describe(loc))
    if kind in _BOUNDS:
        key, sign = _BOUNDS[kind]
        return InvalidSchemaError(path, f"must be {sign} {ctx.get(key)} (got {shown})")
    got = "a string from a ${VAR} reference" if from_ref else _shown(value)
    if kind in _EXPECTED:
        return InvalidSchemaError(
            path, f"expected {_EXPECTED[kind]}, got {got}", hint=_type_hint(kind, value, from_ref)
        )
    return InvalidSchemaError(path, f"{err['msg'][:1].lower()}{err['msg'][1:]} (got {got})")


def _version_error(value: Any) -> InvalidSchemaError:
    supported = ", ".join(SUPPORTED_VERSIONS)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return InvalidSchemaError(
            "version",
            f"version must be a string, got the number {value!r} (supported: {supported})",
            hint=f'quote it: version: "{value}"',
        )
    return InvalidSchemaError(
        "version", f"unsupported version {value!r} (supported: {supported})", hint='version: "1.0"'
    )


def _unknown_key(loc: list[Any]) -> InvalidSchemaError:
    key = loc[-1]
    allowed = sorted(_node(loc[:-1]).get("properties", {}))
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f"did you mean '{close[0]}'?" if close else None
    where = f" (allowed: {', '.join(allowed)})" if allowed else ""
    return InvalidSchemaError(join(loc), f"unknown key '{key}'{where}", hint=hint)


def _add_hint(loc: list[Any]) -> str:
    """``add agent.entrypoint: ...  # 'module.path:callable' returning a graph/runnable``."""
    about = _describe(loc)
    return f"add {join(loc)}: ..." + (f"  # {about}" if about else "")


def _type_hint(kind: str, value: Any, from_ref: bool) -> str | None:
    if from_ref:
        return "a ${VAR} reference always gives a string: write this value literally"
    if value is None:
        return "the key has no value: fill it in or remove the key"
    if (
        isinstance(value, str)
        and kind in ("int_type", "float_type")
        and value.strip().lstrip("-").replace(".", "", 1).isdigit()
    ):
        return f"remove the quotes: {value.strip()}"
    if isinstance(value, str) and kind == "bool_type" and value.lower() in ("true", "false", "yes", "no"):
        return "write true or false without quotes"
    if kind == "string_type" and isinstance(value, int | float | bool):
        return f'quote it: "{str(value).lower() if isinstance(value, bool) else value}"'
    return None


def _describe(loc: list[Any]) -> str | None:
    description = _node(loc).get("description")
    return str(description) if description else None


def _choices(loc: list[Any]) -> str:
    node = _node(loc)
    values = node.get("enum") or ([node["const"]] if "const" in node else [])
    return ", ".join(str(v) for v in values)


def _node(loc: list[Any]) -> dict[str, Any]:
    """The JSON Schema node describing the value at ``loc`` (``{}`` when unknown)."""
    root = schema_document()
    node: dict[str, Any] = root
    for part in loc:
        node = _object_branch(root, node)
        if isinstance(part, int):
            node = node.get("items", {})
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return {}
    return _object_branch(root, node)


def _object_branch(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and pick the non-null branch of ``anyOf`` (how pydantic writes ``X | None``)."""
    for _ in range(16):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            node = {**root.get("$defs", {}).get(name, {}), **{k: v for k, v in node.items() if k != "$ref"}}
        elif "anyOf" in node:
            branches = [b for b in node["anyOf"] if b.get("type") != "null"]
            extra = {k: v for k, v in node.items() if k != "anyOf"}
            node = {**(branches[0] if branches else {}), **extra}
        else:
            break
    return node


def _type_name(value: Any) -> str:
    return {
        dict: "mapping",
        list: "list",
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
    }.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict | list):
        return f"a {_type_name(value)}"
    text = repr(value)
    return f"{_type_name(value)} {text if len(text) <= 40 else text[:37] + '...'}"
