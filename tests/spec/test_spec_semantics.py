"""Semantic checks past the schema: auth 4005, I/O 4004, policies 4006, telemetry 4008, deploy 4002."""

from __future__ import annotations

from typing import Any

import pytest
from spec_helpers import FULL_ENV, Project

from agentdock.spec import validate_file

pytestmark = pytest.mark.unit


def problems(project: Project, change: Any) -> list[tuple[int, str]]:
    report = validate_file(project.mutate(change), env=FULL_ENV)
    return [(e.code, e.path) for e in report.errors]


def causes(project: Project, change: Any) -> list[str]:
    return [e.cause for e in validate_file(project.mutate(change), env=FULL_ENV).errors]


AUTH_CASES = [
    ("api_key without keys", lambda d: d["auth"].pop("api_keys"), [(4005, "auth.api_keys.enabled")]),
    (
        "api_key keys off",
        lambda d: d["auth"]["api_keys"].update(enabled=False),
        [(4005, "auth.api_keys.enabled")],
    ),
    (
        "oauth2 without issuer/jwks",
        lambda d: d["auth"].update(mode="oauth2", oauth2={"audience": "x"}),
        [(4005, "auth.oauth2.issuer"), (4005, "auth.oauth2.jwks_url")],
    ),
    (
        "oauth2 bad jwks url",
        lambda d: d["auth"].update(mode="oauth2", oauth2={"issuer": "https://i", "jwks_url": "ftp://x"}),
        [(4005, "auth.oauth2.jwks_url")],
    ),
    (
        "unknown permission",
        lambda d: d["auth"].update(
            roles=[
                {"name": "ops", "permissions": ["invoke"]},
                {"name": "dev", "permissions": ["fly", "invoke"]},
            ]
        ),
        [(4005, "auth.roles[1].permissions[0]")],
    ),
    (
        "duplicate role",
        lambda d: d["auth"].update(
            roles=[{"name": "ops", "permissions": []}, {"name": "ops", "permissions": []}]
        ),
        [(4005, "auth.roles[1].name")],
    ),
    (
        "rate limit unknown role",
        lambda d: d["auth"].update(rate_limits={"robots": "5/s"}),
        [(4005, "auth.rate_limits.robots")],
    ),
    (
        "rate limit unparsable",
        lambda d: d["auth"].update(rate_limits={"admin": "lots"}),
        [(4005, "auth.rate_limits.admin")],
    ),
]


@pytest.mark.parametrize(("label", "change", "expected"), AUTH_CASES, ids=[c[0] for c in AUTH_CASES])
def test_auth_consistency(minimal: Project, label: str, change: Any, expected: list[tuple[int, str]]) -> None:
    assert problems(minimal, change) == expected


def test_auth_causes_and_hints(minimal: Project) -> None:
    report = validate_file(minimal.mutate(lambda d: d["auth"]["api_keys"].update(enabled=False)))
    assert report.errors[0].hint == "add auth.api_keys.enabled: true"
    assert causes(minimal, lambda d: d["auth"].update(rate_limits={"admin": "lots"})) == [
        "cannot parse rate limit 'lots' (use N/s|m|h|d (e.g. 100/m) or '100 requests/minute')"
    ]
    assert causes(minimal, lambda d: d["auth"].update(rate_limits={"robots": "5/s"})) == [
        "rate limit for unknown role 'robots' (roles: admin, developer, viewer)"
    ]


IO_CASES = [
    ("no schema at all", lambda d: d.update(io_schema={}), [(4004, "io_schema")]),
    (
        "both forms",
        lambda d: d["io_schema"].update(input_class="schemas:Query", output_class="schemas:Query"),
        [(4004, "io_schema")],
    ),
    ("output without input", lambda d: d["io_schema"].pop("input"), [(4004, "io_schema.input")]),
    (
        "top type not object",
        lambda d: d["io_schema"]["input"].update(type="string"),
        [(4004, "io_schema.input.type")],
    ),
    (
        "no properties",
        lambda d: d["io_schema"]["output"].pop("properties"),
        [(4004, "io_schema.output.properties"), (4004, "io_schema.output.required[0]")],
    ),
    (
        "unknown property type",
        lambda d: d["io_schema"]["input"]["properties"]["text"].update(type="text"),
        [(4004, "io_schema.input.properties.text.type")],
    ),
    (
        "typeless property",
        lambda d: d["io_schema"]["input"]["properties"].update(n={"description": "?"}),
        [(4004, "io_schema.input.properties.n")],
    ),
    (
        "bad nested items",
        lambda d: d["io_schema"]["input"]["properties"].update(
            tags={"type": "array", "items": {"type": "str"}}
        ),
        [(4004, "io_schema.input.properties.tags.items.type")],
    ),
    (
        "required not declared",
        lambda d: d["io_schema"]["input"].update(required=["text", "ghost"]),
        [(4004, "io_schema.input.required[1]")],
    ),
    (
        "class not importable",
        lambda d: d.update(io_schema={"input_class": "nowhere:In", "output_class": "schemas:Query"}),
        [(4004, "io_schema.input_class")],
    ),
    (
        "class not a model",
        lambda d: d.update(io_schema={"input_class": "schemas:Query", "output_class": "agent:build_graph"}),
        [(4004, "io_schema.output_class")],
    ),
    (
        "class path syntax",
        lambda d: d.update(io_schema={"input_class": "Query", "output_class": "schemas:Query"}),
        [(4004, "io_schema.input_class")],
    ),
]


@pytest.mark.parametrize(("label", "change", "expected"), IO_CASES, ids=[c[0] for c in IO_CASES])
def test_io_schema(minimal: Project, label: str, change: Any, expected: list[tuple[int, str]]) -> None:
    assert problems(minimal, change) == expected


def test_io_valid_forms(minimal: Project) -> None:
    def richer(d: dict[str, Any]) -> None:
        props = d["io_schema"]["input"]["properties"]
        props["mode"] = {"enum": ["short", "long"]}
        props["tags"] = {"type": ["array", "null"], "items": {"type": "string"}}
        props["opts"] = {"type": "object", "properties": {"depth": {"type": "integer"}}}

    assert problems(minimal, richer) == []
    assert (
        problems(
            minimal,
            lambda d: d.update(io_schema={"input_class": "schemas.Query", "output_class": "schemas:Query"}),
        )
        == []
    )


def test_policy_checks(minimal: Project) -> None:
    def policies(d: dict[str, Any]) -> None:
        d["policies"] = {
            "tools": {"allowed": ["ok_tool", "bad tool", "x" * 65]},
            "safety": {"redact_patterns": ["(", r"\d+", "[z-a]"]},
        }

    assert problems(minimal, policies) == [
        (4006, "policies.tools.allowed[1]"),
        (4006, "policies.tools.allowed[2]"),
        (4006, "policies.safety.redact_patterns[0]"),
        (4006, "policies.safety.redact_patterns[2]"),
    ]


def test_langfuse_block_needs_both_keys(full: Project) -> None:
    assert problems(full, lambda d: d["observability"]["langfuse"].pop("secret_key")) == [
        (4008, "observability.langfuse.secret_key")
    ]
    report = validate_file(full.write(), env={**FULL_ENV, "LANGFUSE_PUBLIC_KEY": ""})
    assert [(e.code, e.path) for e in report.errors] == [(4008, "observability.langfuse.public_key")]


DEPLOY_CASES = [
    (
        "function name",
        lambda d: d["deploy"]["lambda"].update(function_name="bad name!"),
        "deploy.lambda.function_name",
    ),
    (
        "ecr repository",
        lambda d: d["deploy"]["lambda"].update(ecr_repository="Agentdock/Upper"),
        "deploy.lambda.ecr_repository",
    ),
    ("alias digits", lambda d: d["deploy"]["lambda"].update(alias="123"), "deploy.lambda.alias"),
    ("region", lambda d: d["deploy"]["lambda"].update(region="europe"), "deploy.lambda.region"),
    ("role arn", lambda d: d["deploy"]["lambda"].update(role_arn="role/x"), "deploy.lambda.role_arn"),
    (
        "provisioned > reserved",
        lambda d: d["deploy"]["lambda"].update(provisioned_concurrency=20),
        "deploy.lambda.provisioned_concurrency",
    ),
    ("namespace", lambda d: d["deploy"]["knative"].update(namespace="Agents_NS"), "deploy.knative.namespace"),
    ("knative memory", lambda d: d["deploy"]["knative"].update(memory="512MB"), "deploy.knative.memory"),
    ("min > max scale", lambda d: d["deploy"]["knative"].update(min_scale=9), "deploy.knative.min_scale"),
    ("gcp project", lambda d: d["deploy"]["cloudrun"].update(project="Bad"), "deploy.cloudrun.project"),
    (
        "secret scheme",
        lambda d: d["deploy"]["secrets"].update(JWT_SECRET="vault://x"),
        "deploy.secrets.JWT_SECRET",
    ),
    (
        "secret var name",
        lambda d: d["deploy"]["secrets"].update({"BAD-NAME": "env"}),
        "deploy.secrets.BAD-NAME",
    ),
    ("store url", lambda d: d["deploy"].update(store="agentdock.db"), "deploy.store"),
]


@pytest.mark.parametrize(("label", "change", "path"), DEPLOY_CASES, ids=[c[0] for c in DEPLOY_CASES])
def test_deploy_block_sanity(full: Project, label: str, change: Any, path: str) -> None:
    assert problems(full, change) == [(4002, path)]


def test_valid_secret_references(full: Project) -> None:
    refs = {"A": "env", "B": "aws-sm://prod/x", "C": "ssm:///app/key", "D": "k8s://my-secret/api.key"}
    assert problems(full, lambda d: d["deploy"].update(secrets=refs)) == []


def test_known_arguments_have_runtime_types(minimal: Project) -> None:
    bad = {"timeout_sec": "30", "max_retries": 1.5, "enable_streaming": "yes", "custom": object.__name__}
    assert problems(minimal, lambda d: d.update(arguments=bad)) == [
        (4002, "arguments.timeout_sec"),
        (4002, "arguments.max_retries"),
        (4002, "arguments.enable_streaming"),
    ]
    good = {"timeout_sec": 0, "max_retries": 2, "enable_streaming": False, "anything": [1]}
    assert problems(minimal, lambda d: d.update(arguments=good)) == []


def test_a_redact_pattern_matching_the_empty_string_is_refused_with_its_index(minimal: Project) -> None:
    change = lambda d: d.setdefault("policies", {}).update(safety={"redact_patterns": [r"\d{16}", "x*"]})  # noqa: E731
    assert problems(minimal, change) == [(4006, "policies.safety.redact_patterns[1]")]
    assert "matches the empty string" in causes(minimal, change)[0]
