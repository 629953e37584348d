"""Mapping Dockfile input fields to framework input, and framework results to output fields.

The declared fields come from the Dockfile ``io_schema``: inline ``properties`` or the JSON
Schema of the pydantic ``input_class`` / ``output_class``. Result mapping (all adapters):

* a ``str`` -> the single string output field;
* a message -> its text, as for a ``str``;
* a dict (a graph's final state, a chain's dict) -> each declared output field takes the key
  of the same name; if exactly one declared string field is still missing and the dict has
  ``messages``, it gets the text of the last AI message;
* a pydantic model -> its fields, as for a dict.

Without a spec (an agent handed over already built) there are no declared fields: a string
becomes ``{"output": text}`` and a dict keeps its keys (minus ``messages``, plus ``output`` =
the last AI message's text when there is one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel

from agentdock.errors import InvalidIOSchemaError, SchemaMismatchError

# Input fields that become the HumanMessage of a message-based graph, in order of preference.
MESSAGE_FIELDS = ("messages", "input", "question", "query", "text")


@dataclass(frozen=True)
class IOFields:
    """Declared field names, in order, each with "is it a string?"."""

    inputs: dict[str, bool] = field(default_factory=dict)
    outputs: dict[str, bool] = field(default_factory=dict)
    known: bool = False

    @property
    def string_inputs(self) -> list[str]:
        return [name for name, is_str in self.inputs.items() if is_str]

    @property
    def string_outputs(self) -> list[str]:
        return [name for name, is_str in self.outputs.items() if is_str]


def _is_string(prop: Any) -> bool:
    if not isinstance(prop, dict):
        return False
    kind = prop.get("type")
    if kind == "string" or (isinstance(kind, list) and "string" in kind):
        return True
    if any(_is_string(p) for key in ("anyOf", "oneOf") for p in prop.get(key, [])):
        return True
    enum = prop.get("enum")
    return kind is None and isinstance(enum, list) and bool(enum) and all(isinstance(v, str) for v in enum)


def _fields(schema: dict[str, Any] | None) -> dict[str, bool]:
    props = (schema or {}).get("properties") or {}
    return {name: _is_string(prop) for name, prop in props.items()}


def _class_schema(
    dotted: str, base_dir: str | Path, path: str, importer: Callable[..., Any]
) -> dict[str, Any]:
    cls = importer(dotted, base_dir, path_hint=path)
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        raise InvalidIOSchemaError(path, f"{dotted} is not a pydantic model")
    schema: dict[str, Any] = cls.model_json_schema()
    return schema


def io_fields(spec: Any, base_dir: str | Path, importer: Callable[..., Any]) -> IOFields:
    """Declared input/output fields of a DockSpec (``None`` -> unknown: heuristics apply)."""
    if spec is None:
        return IOFields()
    io = spec.io_schema
    if io.input_class and io.output_class:
        inputs = _class_schema(io.input_class, base_dir, "io_schema.input_class", importer)
        outputs = _class_schema(io.output_class, base_dir, "io_schema.output_class", importer)
    else:
        inputs, outputs = io.input or {}, io.output or {}
    return IOFields(inputs=_fields(inputs), outputs=_fields(outputs), known=True)


def message_field(data: dict[str, Any], io: IOFields) -> str | None:
    """Which input field holds the user's message (a string), if any."""
    present = [k for k, v in data.items() if isinstance(v, str)]
    for name in MESSAGE_FIELDS:
        if name in present:
            return name
    declared = io.string_inputs if io.known else present
    if len(declared) == 1 and declared[0] in present:
        return declared[0]
    return None


def last_ai_text(state: dict[str, Any]) -> str | None:
    messages = state.get("messages")
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            return message.text
    return None


def plain(value: Any) -> Any:
    """Framework objects -> JSON-able values (a message -> its text, a model -> its dict)."""
    if isinstance(value, BaseMessage):
        return value.text
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _from_text(text: str, io: IOFields) -> dict[str, Any]:
    if not io.known:
        return {"output": text}
    strings = io.string_outputs
    if len(strings) != 1:
        raise SchemaMismatchError(
            f"the agent returned text but the output schema has {len(strings)} string fields",
            path="io_schema.output",
            hint="return a dict keyed by the output field names",
        )
    return {strings[0]: text}


def _from_dict(state: dict[str, Any], io: IOFields) -> dict[str, Any]:
    text = last_ai_text(state)
    if not io.known:
        out = {k: plain(v) for k, v in state.items() if k != "messages"}
        if text is not None:
            out.setdefault("output", text)
        return out
    out = {name: plain(state[name]) for name in io.outputs if name in state}
    missing = [name for name in io.string_outputs if name not in out]
    if len(missing) == 1 and text is not None:
        out[missing[0]] = text
    return out


def map_output(result: Any, io: IOFields) -> dict[str, Any]:
    """Turn whatever the agent returned into the declared output fields (rules in the module doc)."""
    if isinstance(result, BaseMessage):
        return _from_text(result.text, io)
    if isinstance(result, str):
        return _from_text(result, io)
    if isinstance(result, BaseModel):
        return _from_dict(dict(result), io)
    if isinstance(result, dict):
        return _from_dict(result, io)
    if io.known and len(io.outputs) == 1:
        return {next(iter(io.outputs)): plain(result)}
    raise SchemaMismatchError(
        f"the agent returned {type(result).__name__}, which does not map to the output fields",
        path="io_schema.output",
        hint="return a dict keyed by the output field names, or a string for a single string field",
    )
