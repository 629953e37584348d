"""Semantic checks, run once the Dockfile is structurally valid.

Each check is a small function ``(Context) -> Iterable[DockfileError]``; ``CHECKS`` lists
them in report order and ``run_checks`` walks the list, so adding a rule is adding a
function, never growing one long validator. Checks that depend on a value still holding an
unresolved ``${VAR}`` (allowed for dry runs and builds) skip that value: it is only known
when the function runs.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext, redirect_stdout
from typing import Any

from agentdock.errors import (
    DockfileError,
    ExposureError,
    InvalidSchemaError,
    PolicyValidationError,
    TelemetryConfigError,
    UnsupportedFrameworkError,
)
from agentdock.spec.checks_auth import AUTH_CHECKS
from agentdock.spec.checks_code import check_entrypoint, check_io_schema
from agentdock.spec.checks_deploy import DEPLOY_CHECKS
from agentdock.spec.checks_state import STATE_CHECKS
from agentdock.spec.context import Check, Context
from agentdock.spec.imports import isolated_imports
from agentdock.spec.models import SUPPORTED_FRAMEWORKS

TOOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def check_framework(ctx: Context) -> Iterator[DockfileError]:
    framework = ctx.spec.agent.framework
    if framework not in SUPPORTED_FRAMEWORKS:
        yield UnsupportedFrameworkError(
            "agent.framework",
            f"unsupported framework '{framework}' (supported: {', '.join(SUPPORTED_FRAMEWORKS)})",
            hint="agent.framework: langgraph",
        )


def check_policies(ctx: Context) -> Iterator[DockfileError]:
    for i, pattern in enumerate(ctx.spec.policies.safety.redact_patterns):
        path = f"policies.safety.redact_patterns[{i}]"
        if not ctx.known(path):
            continue
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            hint = (
                "write the pattern in single quotes ('\\d+') so YAML keeps its backslashes"
                if "escape" in str(exc)
                else None
            )
            yield PolicyValidationError(path, f"invalid regex {pattern!r}: {exc}", hint=hint)
            continue
        if compiled.fullmatch(""):  # the policy engine refuses these at startup: say so now
            yield PolicyValidationError(
                path,
                f"regex {pattern!r} matches the empty string",
                hint="make at least one character mandatory",
            )
    for i, name in enumerate(ctx.spec.policies.tools.allowed):
        path = f"policies.tools.allowed[{i}]"
        if ctx.known(path) and not TOOL_NAME.match(name):
            yield PolicyValidationError(path, f"invalid tool name {name!r} (must match {TOOL_NAME.pattern})")


def check_telemetry(ctx: Context) -> Iterator[DockfileError]:
    langfuse = ctx.spec.observability.langfuse
    if langfuse is None:
        return
    for key in ("public_key", "secret_key"):
        path = f"observability.langfuse.{key}"
        value = getattr(langfuse, key)
        if ctx.known(path) and not (value or "").strip():
            env = "LANGFUSE_PUBLIC_KEY" if key == "public_key" else "LANGFUSE_SECRET_KEY"
            yield TelemetryConfigError(
                path,
                f"an observability.langfuse block needs {key} (missing or empty)",
                hint=f"add observability.langfuse.{key}: ${{{env}}} (or remove the langfuse block)",
            )


def check_exposure(ctx: Context) -> Iterator[DockfileError]:
    expose = ctx.spec.expose
    if not expose.rest and expose.streaming == "none":
        yield ExposureError(
            "expose",
            "nothing is served: rest is false and streaming is none",
            hint="set expose.rest: true or expose.streaming: sse",
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# Known keys of the free ``arguments`` map: (accepts, what to write), as the runtime reads them.
KNOWN_ARGUMENTS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "timeout_sec": (
        lambda v: v is None or (_is_number(v) and v >= 0),
        "a number of seconds >= 0 (0 or null = no limit)",
    ),
    "max_retries": (lambda v: _is_number(v) and isinstance(v, int) and v >= 0, "an integer >= 0"),
    "enable_streaming": (lambda v: isinstance(v, bool), "true or false"),
}


def check_arguments(ctx: Context) -> Iterator[DockfileError]:
    for key, (accepts, expected) in KNOWN_ARGUMENTS.items():
        path = f"arguments.{key}"
        value = ctx.spec.arguments.get(key)
        if key in ctx.spec.arguments and ctx.known(path) and not accepts(value):
            yield InvalidSchemaError(path, f"{key} must be {expected} (got {value!r})")


CHECKS: tuple[Check, ...] = (
    check_entrypoint,  # 4003
    check_framework,  # 4007
    check_io_schema,  # 4004
    *AUTH_CHECKS,  # 4005
    check_policies,  # 4006
    check_telemetry,  # 4008
    check_exposure,  # 4010
    check_arguments,  # 4002 (known keys of the free map)
    *DEPLOY_CHECKS,  # 4002 (deploy block sanity)
    *STATE_CHECKS,  # 4002 (state block: thread checkpointer)
)


def run_checks(ctx: Context, checks: Iterable[Check] | None = None) -> list[DockfileError]:
    """Every error of every check; imports (entrypoint, I/O classes) leave nothing behind."""
    guard = isolated_imports(ctx.base_dir) if ctx.check_imports else nullcontext()
    errors: list[DockfileError] = []
    # An agent module that prints while being imported must not corrupt `validate --json`.
    with guard, redirect_stdout(sys.stderr):
        for check in checks if checks is not None else CHECKS:
            errors.extend(check(ctx))
    return errors
