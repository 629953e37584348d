"""Pydantic models from the Dockfile's inline JSON Schema, built once per app.

Inline schemas become strict models (``strict=True``: ``"1"`` is not an integer, ``1`` is
not a boolean), which is what JSON Schema means and what an OpenAPI fuzzer checks. Covered:
``type`` (also lists), ``properties``/``required``, ``enum``/``const``, nested objects and
arrays, ``anyOf``/``oneOf``, local ``$ref`` to ``$defs``, string/number/array bounds,
``pattern``, ``additionalProperties: false``, ``default`` and ``description``. Property names
that are not Python identifiers (``first-name``) or clash with BaseModel attributes become
aliased fields. Keywords without a pydantic equivalent (``format``) are documented, not
enforced. ``hoist_defs`` and ``example_of`` prepare the same schemas for the OpenAPI document.
"""

from __future__ import annotations

import copy
import keyword
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from agentdock.errors import InvalidIOSchemaError

_SCALARS: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "null": type(None),
}
_STRING_BOUNDS = {"minLength": "min_length", "maxLength": "max_length", "pattern": "pattern"}
_NUMBER_BOUNDS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "multipleOf": "multiple_of",
}
_ARRAY_BOUNDS = {"minItems": "min_length", "maxItems": "max_length"}
_MAX_DEPTH = 32


def _field_name(prop: str, index: int) -> str:
    usable = prop.isidentifier() and not keyword.iskeyword(prop) and not prop.startswith("_")
    return prop if usable and not hasattr(BaseModel, prop) else f"field_{index}"


def _pascal(text: str) -> str:
    out = "".join(
        part[:1].upper() + part[1:] for part in "".join(c if c.isalnum() else " " for c in text).split()
    )
    return out or "Model"


class ModelBuilder:
    """Turns one JSON Schema document into pydantic types; ``extra`` applies to open objects."""

    def __init__(
        self, root: dict[str, Any], *, path: str, extra: Literal["allow", "ignore", "forbid"]
    ) -> None:
        self.root = root
        self.path = path
        self.extra = extra
        self._refs: dict[str, Any] = {}

    def model(self, schema: dict[str, Any], name: str, depth: int = 0) -> type[BaseModel]:
        if depth > _MAX_DEPTH:
            raise InvalidIOSchemaError(self.path, f"schema nests deeper than {_MAX_DEPTH} levels")
        properties = schema.get("properties") or {}
        if not isinstance(properties, dict):
            raise InvalidIOSchemaError(self.path, f"{name}: 'properties' must be an object")
        required = set(schema.get("required") or ())
        fields: dict[str, Any] = {}
        for index, (prop, sub) in enumerate(properties.items()):
            if not isinstance(sub, dict):
                sub = {}
            annotation = self.annotation(sub, f"{name}{_pascal(prop)}", depth + 1)
            default = ... if prop in required else sub.get("default")
            fname = _field_name(prop, index)
            fields[fname] = (
                annotation,
                Field(default, alias=None if fname == prop else prop, description=sub.get("description")),
            )
        for index, prop in enumerate(sorted(required - set(properties)), start=len(properties)):
            fname = _field_name(prop, index)
            fields[fname] = (Any, Field(..., alias=None if fname == prop else prop))
        extra = "forbid" if schema.get("additionalProperties") is False else self.extra
        config = ConfigDict(
            strict=True,
            extra=extra,
            regex_engine="python-re",
            title=schema.get("title") or name,
            populate_by_name=False,
        )
        return create_model(name, __config__=config, __doc__=schema.get("description"), **fields)

    def annotation(self, schema: dict[str, Any], name: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise InvalidIOSchemaError(self.path, f"schema nests deeper than {_MAX_DEPTH} levels")
        if "$ref" in schema:
            return self._ref(schema["$ref"], depth)
        if "const" in schema:
            return self._literal([schema["const"]])
        if "enum" in schema:
            return self._literal(list(schema["enum"]))
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                options = tuple(
                    self.annotation(s, f"{name}{i}", depth + 1) for i, s in enumerate(schema[key])
                )
                return Union[options]  # noqa: UP007  (a runtime-built union needs the subscript form)
        kind = schema.get("type")
        if isinstance(kind, list):
            options = tuple(self.annotation({**schema, "type": k}, name, depth) for k in kind)
            return Union[options] if len(options) > 1 else options[0]  # noqa: UP007
        if kind == "object":
            if schema.get("properties") or schema.get("required"):
                return self.model(schema, name, depth)
            values = schema.get("additionalProperties")
            value_type = (
                self.annotation(values, f"{name}Value", depth + 1) if isinstance(values, dict) else Any
            )
            return dict[str, value_type]  # type: ignore[valid-type]
        if kind == "array":
            items = schema.get("items")
            item_type = self.annotation(items, f"{name}Item", depth + 1) if isinstance(items, dict) else Any
            return self._bounded(list[item_type], schema, _ARRAY_BOUNDS)  # type: ignore[valid-type]
        if kind == "string":
            return self._bounded(str, schema, _STRING_BOUNDS)
        if kind == "integer":
            return self._bounded(int, schema, _NUMBER_BOUNDS)
        if kind == "number":  # JSON has no NaN/Infinity: refuse them however the input arrived
            return Annotated[self._bounded(float, schema, _NUMBER_BOUNDS), Field(allow_inf_nan=False)]
        if kind in _SCALARS:
            return _SCALARS[kind]
        if kind is None:
            return Any
        raise InvalidIOSchemaError(self.path, f"{name}: unknown JSON Schema type {kind!r}")

    def _ref(self, ref: str, depth: int) -> Any:
        if ref in self._refs:
            return self._refs[ref]
        if not ref.startswith("#/"):
            raise InvalidIOSchemaError(self.path, f"only local $ref are supported, got {ref!r}")
        target: Any = self.root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            raise InvalidIOSchemaError(self.path, f"$ref {ref!r} points nowhere")
        annotation = self.annotation(target, _pascal(ref.rsplit("/", 1)[-1]), depth + 1)
        self._refs[ref] = annotation
        return annotation

    @staticmethod
    def _literal(values: list[Any]) -> Any:
        if all(v is None or isinstance(v, str | int | float | bool) for v in values):
            return Literal[tuple(values)]
        return Any  # enum of objects/arrays: JSON Schema allows it, Literal cannot express it

    @staticmethod
    def _bounded(base: Any, schema: dict[str, Any], names: dict[str, str]) -> Any:
        bounds = {arg: schema[key] for key, arg in names.items() if key in schema}
        return Annotated[base, Field(**bounds)] if bounds else base


def model_from_schema(
    schema: dict[str, Any], name: str, *, path: str, extra: Literal["allow", "ignore", "forbid"] = "allow"
) -> type[BaseModel]:
    """A strict pydantic model for an inline object schema; raises InvalidIOSchemaError (4004)."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise InvalidIOSchemaError(path, "an inline io_schema must be a JSON Schema with type: object")
    return ModelBuilder(schema, path=path, extra=extra).model(schema, name)


def defaults_of(schema: dict[str, Any]) -> dict[str, Any]:
    """Top-level property defaults, which the graph should see when the client omits them."""
    props = schema.get("properties") or {}
    return {k: v["default"] for k, v in props.items() if isinstance(v, dict) and "default" in v}


def hoist_defs(schema: dict[str, Any], prefix: str, components: dict[str, Any]) -> dict[str, Any]:
    """Move ``$defs`` into components (refs inside a component resolve against the document root)."""
    schema = copy.deepcopy(schema)
    defs = {**schema.pop("definitions", {}), **schema.pop("$defs", {})}
    names = {name: f"{prefix}_{name}" for name in defs}

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                for root in ("#/$defs/", "#/definitions/"):
                    if ref.startswith(root) and ref[len(root) :] in names:
                        node = {**node, "$ref": "#/components/schemas/" + names[ref[len(root) :]]}
            return {k: rewrite(v) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    for name, sub in defs.items():
        components[names[name]] = rewrite(sub)
    return rewrite(schema)  # type: ignore[no-any-return]


def example_of(schema: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for ``schema``: its own examples/default/enum first, else by type."""
    if depth > 8 or not isinstance(schema, dict):
        return None
    for key in ("examples",):
        if isinstance(schema.get(key), list) and schema[key]:
            return schema[key][0]
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: example_of(v, depth + 1) for k, v in props.items()}
    if kind == "array":
        return [example_of(schema.get("items") or {}, depth + 1)]
    if kind == "string":
        return "x" * max(1, int(schema.get("minLength", 0))) if "minLength" in schema else "string"
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = low + (1 if "exclusiveMinimum" in schema else 0)
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    return None
