"""Inline JSON Schema -> strict pydantic models, the contract, and the OpenAPI helpers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from rthelpers import make_spec

from agentdock.errors import InvalidIOSchemaError, SchemaMismatchError, ValidationFailed
from agentdock.runtime.contract import IOContract, build_contract
from agentdock.runtime.openapi import build_openapi
from agentdock.runtime.schemas import example_of, hoist_defs, model_from_schema

pytestmark = pytest.mark.unit

ORDER = {
    "type": "object",
    "description": "An order.",
    "properties": {
        "id": {"type": "integer", "minimum": 1, "description": "Order id."},
        "status": {"type": "string", "enum": ["open", "paid"]},
        "price": {"type": "number", "exclusiveMinimum": 0},
        "rush": {"type": "boolean"},
        "note": {"type": ["string", "null"]},
        "first-name": {"type": "string", "pattern": "^[A-Z]"},
        "model_config": {"type": "string"},
        "lines": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string", "minLength": 2}, "qty": {"type": "integer"}},
                "required": ["sku", "qty"],
                "additionalProperties": False,
            },
        },
        "meta": {"type": "object", "additionalProperties": {"type": "integer"}},
        "ref": {"$ref": "#/$defs/Ref"},
        "either": {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 3}]},
    },
    "required": ["id", "status", "lines"],
    "$defs": {"Ref": {"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]}},
}
VALID: dict[str, Any] = {
    "id": 1,
    "status": "paid",
    "price": 2,
    "rush": False,
    "note": None,
    "first-name": "Ada",
    "model_config": "kept",
    "lines": [{"sku": "ab", "qty": 2}],
    "meta": {"a": 1},
    "ref": {"code": "x"},
    "either": "abc",
}


@pytest.fixture(scope="module")
def order_model() -> type[BaseModel]:
    return model_from_schema(ORDER, "Order", path="io_schema.input")


def test_valid_document_passes(order_model: type[BaseModel]) -> None:
    order_model.model_validate(VALID)
    order_model.model_validate({"id": 1, "status": "open", "lines": [{"sku": "ab", "qty": 1}]})


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"id": "1"}, ("id",)),  # strict: no string -> int coercion
        ({"id": 0}, ("id",)),
        ({"id": 1.5}, ("id",)),
        ({"status": "void"}, ("status",)),
        ({"price": 0}, ("price",)),
        ({"rush": 1}, ("rush",)),
        ({"first-name": "ada"}, ("first-name",)),
        ({"lines": []}, ("lines",)),
        ({"lines": [{"sku": "a", "qty": 1}]}, ("lines", 0, "sku")),
        ({"lines": [{"sku": "ab", "qty": 1, "extra": 1}]}, ("lines", 0, "extra")),
        ({"meta": {"a": "1"}}, ("meta", "a")),
        ({"ref": {}}, ("ref", "code")),
        ({"note": 3}, ("note",)),
        ({"model_config": None}, ("model_config",)),
    ],
)
def test_violations_are_rejected_at_the_right_place(
    order_model: type[BaseModel], change: dict[str, Any], loc: tuple[Any, ...]
) -> None:
    with pytest.raises(ValidationError) as info:
        order_model.model_validate({**VALID, **change})
    assert any(err["loc"][: len(loc)] == loc for err in info.value.errors()), info.value.errors()


def test_missing_required_fields_are_named(order_model: type[BaseModel]) -> None:
    with pytest.raises(ValidationError) as info:
        order_model.model_validate({"id": 1})
    assert {err["loc"] for err in info.value.errors()} == {("status",), ("lines",)}


def test_descriptions_reach_the_model(order_model: type[BaseModel]) -> None:
    schema = order_model.model_json_schema()
    assert schema["properties"]["id"]["description"] == "Order id."
    assert order_model.__doc__ == "An order."


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "array"},
        {"type": "object", "properties": {"x": {"type": "date"}}},
        {"type": "object", "properties": {"x": {"$ref": "http://x"}}},
    ],
)
def test_malformed_schemas_are_4004(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidIOSchemaError) as info:
        model_from_schema(bad, "In", path="io_schema.input")
    assert info.value.code == 4004 and info.value.path == "io_schema.input"


def test_contract_applies_defaults_and_reports_fields() -> None:
    spec = make_spec(
        io_schema={
            "input": {
                "properties": {"mode": {"type": "string", "enum": ["short", "long"], "default": "short"}}
            }
        }
    )
    contract = build_contract(spec, ".")
    assert contract.parse_body(b'{"text": "x"}') == {"text": "x", "mode": "short"}
    with pytest.raises(ValidationFailed) as info:
        contract.parse_body(b'{"text": 3, "mode": "huge"}')
    fields = info.value.envelope("t")["fields"]
    assert {tuple(f["loc"]) for f in fields} == {("body", "text"), ("body", "mode")}
    assert all("input" not in f for f in fields)  # the submitted values are not echoed


class Question(BaseModel):
    question: str


class Answer(BaseModel):
    answer: str
    score: float = 0.0


def test_class_based_contract() -> None:
    spec = make_spec(
        io_schema={"input": None, "output": None, "input_class": "m:Question", "output_class": "m:Answer"}
    )
    models = {"m:Question": Question, "m:Answer": Answer}
    contract = build_contract(spec, ".", import_object=lambda dotted, base: models[dotted])
    assert contract.parse_body(b'{"question": "why"}') == {"question": "why"}
    assert contract.check_output(contract.project({"answer": "because", "messages": []})) == {
        "answer": "because",
        "score": 0.0,
    }
    assert contract.check_output(contract.project(Answer(answer="x"))) == {"answer": "x", "score": 0.0}
    with pytest.raises(SchemaMismatchError):
        contract.check_output({"score": 1})
    assert contract.input_schema["properties"]["question"]["type"] == "string"


def test_class_that_is_not_a_model_is_4004() -> None:
    spec = make_spec(io_schema={"input": None, "output": None, "input_class": "m:A", "output_class": "m:B"})
    with pytest.raises(InvalidIOSchemaError):
        build_contract(spec, ".", import_object=lambda dotted, base: dict)


def test_hoist_moves_defs_into_components() -> None:
    components: dict[str, Any] = {}
    hoisted = hoist_defs(ORDER, "Input", components)
    assert "$defs" not in hoisted
    assert hoisted["properties"]["ref"] == {"$ref": "#/components/schemas/Input_Ref"}
    assert components["Input_Ref"]["required"] == ["code"]


def test_example_of_prefers_declared_values() -> None:
    assert example_of({"type": "object", "properties": {"a": {"type": "string", "examples": ["hi"]}}}) == {
        "a": "hi"
    }
    assert example_of({"type": "integer", "minimum": 3}) == 3
    assert example_of({"type": "array", "items": {"type": "boolean"}}) == [True]


def test_openapi_per_auth_mode() -> None:
    spec = make_spec(auth={"mode": "jwt", "jwt": {"secret_key": "x" * 32}, "api_keys": {"enabled": True}})
    contract: IOContract = build_contract(spec, ".")
    doc = build_openapi(spec, contract, version="3")
    assert doc["paths"]["/invoke"]["post"]["security"] == [{"bearer": []}, {"apiKey": []}]
    assert doc["info"]["version"] == "3"
    ws_spec = make_spec(expose={"streaming": "websocket"})
    ws_doc = build_openapi(ws_spec, build_contract(ws_spec, "."), version="1")
    assert "/stream" not in ws_doc["paths"] and "/ws/stream" in ws_doc["info"]["description"]
