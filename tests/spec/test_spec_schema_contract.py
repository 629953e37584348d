"""The JSON Schema and the pydantic models are one contract.

1. The checked-in ``dockfile-1.0.json`` is exactly what the models generate.
2. jsonschema (Draft 2020-12) and pydantic accept and reject the same documents: the golden
   files, hand-picked edge cases, every field of the full file replaced by every JSON type,
   every key removed, an unknown key added to every mapping, and random JSON values placed
   at random paths (hypothesis).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from spec_helpers import fixture_data

from agentdock.spec import DockSpec, generate_schema, json_schema
from agentdock.spec.schema import SCHEMA_FILE, SCHEMA_ID, render_schema

pytestmark = pytest.mark.unit

VALIDATOR = Draft202012Validator(json_schema())
REPLACEMENTS: list[Any] = [7, 7.5, 0, -1, "text", "", True, None, [], {}, ["x"], {"x": 1}]
Path_ = tuple[str | int, ...]


def schema_ok(doc: Any) -> bool:
    return VALIDATOR.is_valid(doc)


def pydantic_ok(doc: Any) -> bool:
    try:
        DockSpec.model_validate(doc, by_name=False)
    except ValidationError:
        return False
    return True


def paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from paths(value, (*prefix, index))


def mappings(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    if isinstance(node, dict):
        yield prefix
        for key, value in node.items():
            yield from mappings(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from mappings(value, (*prefix, index))


def replaced(doc: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    parent: Any = out
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return out


def removed(doc: dict[str, Any], path: Path_) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    parent: Any = out
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return out


def variations(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in paths(doc):
        for value in REPLACEMENTS:
            yield f"{path} = {value!r}", replaced(doc, path, value)
        yield f"del {path}", removed(doc, path)
    for path in mappings(doc):
        yield (
            f"{path} += zz_unknown",
            replaced(doc, (*path, "zz_unknown"), 1) if path else {**doc, "zz_unknown": 1},
        )


def disagreements(cases: Iterator[tuple[str, Any]]) -> tuple[int, list[str], int, int]:
    count, accepted, rejected, wrong = 0, 0, 0, []
    for label, doc in cases:
        count += 1
        by_schema, by_models = schema_ok(doc), pydantic_ok(doc)
        accepted += by_schema
        rejected += not by_schema
        if by_schema != by_models:
            wrong.append(f"{label}: jsonschema={by_schema} pydantic={by_models}")
    return count, wrong, accepted, rejected


def test_checked_in_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(generate_schema()), (
        "dockfile-1.0.json is stale: run `python -m agentdock.spec`"
    )
    Draft202012Validator.check_schema(json_schema())
    assert json_schema()["$id"] == SCHEMA_ID
    assert json_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_field_has_a_description_for_editors() -> None:
    schema = json_schema()

    def described(prop: dict[str, Any]) -> bool:
        target = prop.get("$ref", "").rsplit("/", 1)[-1]
        return bool(prop.get("description") or schema["$defs"].get(target, {}).get("description"))

    missing = [
        f"{model}.{name}"
        for model, body in [("DockSpec", schema), *schema["$defs"].items()]
        for name, prop in body.get("properties", {}).items()
        if not described(prop)
    ]
    assert missing == []


@pytest.mark.parametrize("fixture", ["minimal", "full"])
def test_golden_files_are_accepted_by_both(fixture: str) -> None:
    doc = fixture_data(fixture)
    assert schema_ok(doc) and pydantic_ok(doc)


EDGE_CASES: list[tuple[str, Any]] = [
    ("version float", lambda d: d.update(version=1.0)),
    ("version 1.1", lambda d: d.update(version="1.1")),
    ("integral float port", lambda d: d["expose"].update(port=8080.0)),
    ("fractional port", lambda d: d["expose"].update(port=8080.5)),
    ("bool port", lambda d: d["expose"].update(port=True)),
    ("string port", lambda d: d["expose"].update(port="8080")),
    ("int temperature", lambda d: d["model"].update(temperature=1)),
    ("bool temperature", lambda d: d["model"].update(temperature=False)),
    ("name with newline", lambda d: d["agent"].update(name="invoice\n")),
    ("name uppercase", lambda d: d["agent"].update(name="Invoice")),
    ("python name lambda_", lambda d: d["deploy"].update(lambda_={})),
    ("memory float", lambda d: d["deploy"]["lambda"].update(memory_mb=2048.0)),
    ("metadata extra", lambda d: d["metadata"].update(anything={"x": [1, None]})),
    ("arguments free", lambda d: d["arguments"].update(nested={"a": [1, 2]})),
    ("empty model extra", lambda d: d["model"].update(extra={})),
    ("null safety", lambda d: d["policies"].update(safety=None)),
    ("null langfuse", lambda d: d["observability"].update(langfuse=None)),
    ("role name short", lambda d: d["auth"]["roles"][0].update(name="ab")),
    ("string bool", lambda d: d["expose"].update(rest="true")),
    ("tuple-like list", lambda d: d["metadata"].update(tags="billing")),
    ("top-level list", None),
]


@pytest.mark.parametrize(("label", "change"), EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_edge_cases_agree(label: str, change: Any) -> None:
    doc: Any = fixture_data("full")
    if change is None:
        doc = [doc]
    else:
        change(doc)
    assert schema_ok(doc) == pydantic_ok(doc), label


@pytest.mark.parametrize("fixture", ["minimal", "full"])
def test_every_field_mutation_agrees(fixture: str) -> None:
    count, wrong, accepted, rejected = disagreements(variations(fixture_data(fixture)))
    assert wrong == [], f"{len(wrong)} of {count} disagree, e.g. {wrong[:5]}"
    assert accepted > 50 and rejected > 100  # the cases really exercise both outcomes


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
FULL = fixture_data("full")
FULL_PATHS = list(paths(FULL))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picks=st.lists(st.tuples(st.sampled_from(FULL_PATHS), JSON), min_size=1, max_size=3))
def test_random_values_at_random_paths_agree(picks: list[tuple[Path_, Any]]) -> None:
    doc: Any = FULL
    for path, value in picks:
        try:
            doc = replaced(doc, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier pick replaced a parent of this path
    assert schema_ok(doc) == pydantic_ok(doc), json.dumps(doc, default=str)[:500]
