"""The golden cases of dockfile-spec.md: each one with its exact code and path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from spec_helpers import FULL_ENV, Project

from agentdock.errors import DockfileError, DockfileInvalid
from agentdock.spec import DockSpec, load_dockfile, validate_file

pytestmark = pytest.mark.unit


def only(errors: list[DockfileError]) -> DockfileError:
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_minimal_fixture_is_valid(minimal: Project, clean_env: pytest.MonkeyPatch) -> None:
    loaded = load_dockfile(minimal.dockfile)
    assert isinstance(loaded.spec, DockSpec)
    assert loaded.spec.agent.name == "doc_summarizer"
    assert loaded.spec.auth.mode == "api_key"
    assert loaded.spec.expose.streaming == "sse"
    assert loaded.base_dir == minimal.root.resolve()
    assert loaded.raw["io_schema"]["input"]["required"] == ["text"]


def test_full_fixture_is_valid_and_raw_keeps_references(full: Project, clean_env: pytest.MonkeyPatch) -> None:
    loaded = load_dockfile(full.dockfile, env=FULL_ENV)
    assert loaded.warnings == []
    assert loaded.spec.auth.jwt is not None and loaded.spec.auth.jwt.secret_key == FULL_ENV["JWT_SECRET"]
    assert loaded.raw["auth"]["jwt"]["secret_key"] == "${JWT_SECRET}"
    assert loaded.raw["observability"]["langfuse"]["secret_key"] == "${LANGFUSE_SECRET_KEY}"
    assert loaded.spec.roles()["developer"] == ("invoke", "view_metrics", "read_logs")
    assert loaded.spec.deploy is not None and loaded.spec.deploy.lambda_ is not None
    assert loaded.spec.deploy.lambda_.function_name == "invoice-copilot"
    assert loaded.spec.metadata.model_extra == {"team": "payments"}


@pytest.mark.parametrize(
    ("change", "code", "path", "in_message"),
    [
        (lambda d: d["agent"].pop("entrypoint"), 4002, "agent.entrypoint", "required field missing"),
        (lambda d: d["auth"].update(mode="jwt"), 4005, "auth.jwt.secret_key", "no secret_key"),
        (lambda d: d["expose"].update(rest=False, streaming="none"), 4010, "expose", "nothing is served"),
        (
            lambda d: d.setdefault("policies", {}).update(safety={"redact_patterns": [r"\d+", "([a-z"]}),
            4006,
            "policies.safety.redact_patterns[1]",
            "invalid regex",
        ),
        (
            lambda d: d.update(io_schema={"input_class": "schemas:Query"}),
            4004,
            "io_schema.output_class",
            "input_class is set but output_class is missing",
        ),
        (
            lambda d: d["agent"].update(description="${UNSET_VAR}"),
            4001,
            "agent.description",
            "${UNSET_VAR} is not set",
        ),
        (
            lambda d: d["agent"].update(framework="autogen"),
            4007,
            "agent.framework",
            "supported: langgraph, langchain",
        ),
        (
            lambda d: d.update(version="2.0"),
            4002,
            "version",
            "unsupported version '2.0' (supported: 1.0, 1.1)",
        ),
    ],
    ids=[
        "no-entrypoint",
        "jwt-no-secret",
        "no-exposure",
        "bad-regex",
        "half-io-class",
        "unset-var",
        "autogen",
        "v2",
    ],
)
def test_golden_failures(
    minimal: Project, clean_env: pytest.MonkeyPatch, change: Any, code: int, path: str, in_message: str
) -> None:
    file = minimal.mutate(change)
    error = only(validate_file(file).errors)
    assert (error.code, error.path) == (code, path)
    assert in_message in error.cause
    with pytest.raises(DockfileInvalid) as raised:
        load_dockfile(file)
    assert [(e.code, e.path) for e in raised.value.errors] == [(code, path)]


def test_include_cycle_is_4009(minimal: Project) -> None:
    minimal.write(text="auth: !include auth.yaml\n", name="a.yaml")
    minimal.write(text="mode: !include a.yaml\n", name="auth.yaml")
    text = minimal.dockfile.read_text().replace(
        "auth:\n  mode: api_key\n  api_keys:\n    enabled: true\n", ""
    )
    minimal.write(text=text + "auth: !include a.yaml\n")
    error = only(validate_file(minimal.dockfile).errors)
    assert error.code == 4009 and error.name == "IncludeCycleError"
    assert "a.yaml -> auth.yaml -> a.yaml" in error.cause


def test_version_as_yaml_float_hints_to_quote_it(minimal: Project) -> None:
    text = minimal.dockfile.read_text().replace('version: "1.0"', "version: 1.0")
    error = only(validate_file(minimal.write(text=text)).errors)
    assert (error.code, error.path) == (4002, "version")
    assert error.hint == 'quote it: version: "1.0"'
    assert error.line == 2


def test_every_error_of_a_file_is_reported_in_one_run(
    minimal: Project, clean_env: pytest.MonkeyPatch
) -> None:
    def break_many(d: dict[str, Any]) -> None:
        d["agent"]["framework"] = "autogen"
        d["auth"] = {"mode": "jwt", "roles": [{"name": "ops", "permissions": ["invoke", "fly"]}]}
        d["expose"] = {"rest": False, "streaming": "none"}
        d["agent"]["description"] = "${UNSET_VAR}"

    report = validate_file(minimal.mutate(break_many))
    found = {(e.code, e.path) for e in report.errors}
    assert found == {
        (4001, "agent.description"),
        (4007, "agent.framework"),
        (4005, "auth.jwt.secret_key"),
        (4005, "auth.roles[0].permissions[1]"),
        (4010, "expose"),
    }
    lines = [e.line or 0 for e in report.errors]
    assert all(e.line is not None for e in report.errors) and lines == sorted(lines)


def test_schema_errors_are_all_reported_with_plain_causes(minimal: Project) -> None:
    def break_schema(d: dict[str, Any]) -> None:
        d["agent"].pop("name")
        d["agent"]["foo"] = 1
        d["model"]["temperature"] = "hot"
        d["expose"]["port"] = 0

    errors = {e.path: e for e in validate_file(minimal.mutate(break_schema)).errors}
    assert set(errors) == {"agent.name", "agent.foo", "model.temperature", "expose.port"}
    assert all(e.code == 4002 for e in errors.values())
    assert errors["agent.name"].cause == "required field missing"
    assert errors["agent.foo"].cause.startswith(
        "unknown key 'foo' (allowed: description, entrypoint, framework, name)"
    )
    assert errors["model.temperature"].cause == "expected a number, got string 'hot'"
    assert errors["expose.port"].cause == "must be >= 1 (got 0)"


def test_error_json_has_code_name_path_message_hint_and_place(minimal: Project) -> None:
    file = minimal.mutate(lambda d: d["auth"].update(mode="jwt"))
    error = only(validate_file(file).errors)
    assert error.to_dict() == {
        "code": 4005,
        "name": "AuthConfigError",
        "path": "auth.jwt.secret_key",
        "message": "mode is jwt but no secret_key is set",
        "hint": "add auth.jwt.secret_key: ${JWT_SECRET}",
        "file": "Dockfile.yaml",
        "line": Path(file).read_text().splitlines().index("auth:") + 1,
    }


def test_semantics_still_run_when_only_unknown_keys_fail_the_schema(minimal: Project) -> None:
    def typo(d: dict[str, Any]) -> None:
        d["auth"] = {"mode": "jwt", "jwt": {"secret_ky": "a-long-enough-secret"}}

    errors = validate_file(minimal.mutate(typo)).errors
    assert [(e.code, e.path, e.hint) for e in errors] == [  # in file order: `jwt:` comes before its keys
        (4005, "auth.jwt.secret_key", "add auth.jwt.secret_key: ${JWT_SECRET}"),
        (4002, "auth.jwt.secret_ky", "did you mean 'secret_key'?"),
    ]
