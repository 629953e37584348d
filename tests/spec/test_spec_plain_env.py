"""``deploy.env``: plain values every target sets; names checked, secrets refused (4002)."""

from __future__ import annotations

from typing import Any

import pytest
from spec_helpers import FULL_ENV, Project

from agentdock.errors import DeployError
from agentdock.runtime.secrets import resolve_frozen
from agentdock.spec import load_dockfile, validate_file
from agentdock.spec.plainenv import function_references, plain_env

pytestmark = pytest.mark.unit


def problems(
    project: Project, env: dict[str, str], values: dict[str, str] | None = None
) -> list[tuple[int, str]]:
    path = project.mutate(lambda d: d["deploy"].update(env=env))
    return [(e.code, e.path) for e in validate_file(path, env={**FULL_ENV, **(values or {})}).errors]


def test_good_names_and_values_load_resolved(full: Project) -> None:
    env = {"LOG_LEVEL": "debug", "_feature": "on", "REGION_LABEL": "${STAGE}-eu", "EMPTY": ""}
    path = full.mutate(lambda d: d["deploy"].update(env=env))
    loaded = load_dockfile(path, env={**FULL_ENV, "STAGE": "prod"}, check_imports=False)
    assert plain_env(loaded.spec) == {
        "EMPTY": "",
        "LOG_LEVEL": "debug",
        "REGION_LABEL": "prod-eu",
        "_feature": "on",
    }
    # The frozen spec keeps the reference, but it is not one the running function resolves.
    assert loaded.raw["deploy"]["env"]["REGION_LABEL"] == "${STAGE}-eu"
    assert "STAGE" not in {r.var for r in function_references(loaded.raw)}


BAD_NAMES = [
    "1ST",
    "BAD-NAME",
    "a.b",
    "AGENTDOCK_STORE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LWA_PORT",
    "PORT",
    "K_SERVICE",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_or_reserved_names_are_refused(full: Project, name: str) -> None:
    assert problems(full, {name: "x"}) == [(4002, f"deploy.env.{name}")]


def test_reserved_error_names_the_fix(full: Project) -> None:
    path = full.mutate(lambda d: d["deploy"].update(env={"AGENTDOCK_STORE": "x"}))
    (error,) = validate_file(path, env=FULL_ENV).errors
    assert "cannot be overridden" in error.cause and "reserved" in (error.hint or "")


def test_a_secret_name_is_refused(full: Project) -> None:
    # JWT_SECRET is in deploy.secrets; LANGFUSE_SECRET_KEY is a ${VAR} of observability.
    assert problems(full, {"JWT_SECRET": "x", "LANGFUSE_SECRET_KEY": "y"}) == [
        (4002, "deploy.env.JWT_SECRET"),
        (4002, "deploy.env.LANGFUSE_SECRET_KEY"),
    ]


def test_a_value_copying_a_secret_is_refused(full: Project) -> None:
    errors = validate_file(
        full.mutate(
            lambda d: d["deploy"].update(env={"COPY": "${JWT_SECRET}", "K": "${LANGFUSE_SECRET_KEY}"})
        ),
        env=FULL_ENV,
    ).errors
    assert [(e.code, e.path) for e in errors] == [(4002, "deploy.env.COPY"), (4002, "deploy.env.K")]
    assert all("function configuration" in e.cause and "deploy.secrets" in (e.hint or "") for e in errors)


def test_an_unresolved_value_refuses_the_deploy(full: Project) -> None:
    path = full.mutate(lambda d: d["deploy"].update(env={"STAGE_NAME": "${STAGE}"}))
    loaded = load_dockfile(path, env=FULL_ENV, allow_unresolved=True, check_imports=False)
    with pytest.raises(DeployError) as info:
        plain_env(loaded.spec)
    assert info.value.path == "deploy.env.STAGE_NAME" and "STAGE" in (info.value.hint or "")


def test_the_runtime_does_not_re_resolve_deploy_env() -> None:
    raw: dict[str, Any] = {"deploy": {"env": {"A": "${NOT_SET_ANYWHERE}"}}, "x": "${SET_HERE}"}
    from agentdock.runtime.secrets import SecretResolver

    resolver = SecretResolver({}, env={"SET_HERE": "v"})
    assert resolve_frozen(raw, resolver=resolver) == {"deploy": {}, "x": "v"}
