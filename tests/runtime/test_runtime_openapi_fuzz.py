"""Schemathesis against the served /openapi.json of a real uvicorn: no 5xx, no undocumented
status code, content types and bodies as documented, and schema-violating input rejected.

Bounded: a few examples per operation and mode, so the file runs in seconds.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from rthelpers import ScriptAgent, build, make_spec, serve
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.integration

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 8

NESTED_IO = {
    "input": {
        "type": "object",
        "properties": {
            "text": {"type": "string", "maxLength": 50, "description": "Text."},
            "mode": {"type": "string", "enum": ["short", "long"]},
            "limit": {"type": "integer", "minimum": 1, "maximum": 10},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            "options": {
                "type": "object",
                "properties": {"strict": {"type": "boolean"}, "ratio": {"type": "number"}},
                "required": ["strict"],
            },
        },
        "required": ["text"],
    },
}


def _run(operation: Any, mode: GenerationMode, url: str, headers: dict[str, str], checks: list[Any]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=url, headers=headers, timeout=10)
        case.validate_response(response, checks=checks)

    run()


@pytest.mark.parametrize("public_docs", [False, True])
def test_fuzz_every_documented_operation(public_docs: bool) -> None:
    spec = make_spec(io_schema=NESTED_IO, auth={"public_docs": public_docs})
    built = build(spec, agent=ScriptAgent(tokens=["fine"]))
    headers = built.keys.headers("admin")
    with serve(built.app) as url:
        document = httpx.get(f"{url}/openapi.json", headers=headers).json()
        schema = schemathesis.openapi.from_dict(document)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {f"{op.method.upper()} {op.path}" for op in operations} == {
            "POST /invoke",
            "GET /stream",
            "POST /stream",
            "GET /stream/{run_id}",
            "GET /schema",
            "GET /health",
            "GET /ready",
            "GET /metrics",
        }
        for operation in operations:
            _run(operation, GenerationMode.POSITIVE, url, headers, CHECKS)
            if operation.body or operation.query:
                _run(operation, GenerationMode.NEGATIVE, url, headers, [*CHECKS, negative_data_rejection])
            # Unauthenticated calls must also answer with documented statuses only.
            _run(operation, GenerationMode.POSITIVE, url, {}, CHECKS)
