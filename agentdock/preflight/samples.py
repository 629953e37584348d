"""A small valid input for a JSON Schema (the agent's input schema from ``/schema``): enough to
prove an authenticated ``/invoke`` runs the graph. Examples and defaults win when present."""

from __future__ import annotations

from typing import Any


def sample_input(schema: dict[str, Any]) -> Any:
    for key in ("examples", "default", "const", "enum"):
        if key in schema:
            value = schema[key]
            return value[0] if key in ("examples", "enum") and isinstance(value, list) and value else value
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return sample_input(schema[key][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {name: sample_input(props.get(name) or {}) for name in schema.get("required") or []}
    if kind == "array":
        return [sample_input(schema.get("items") or {})] * int(schema.get("minItems") or 0)
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        return int(low) + 1 if kind == "integer" else float(low) + 1.0
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    text = "Hello from the agentdock preflight. It checks that the image answers."
    return text[: schema["maxLength"]] if "maxLength" in schema else text
