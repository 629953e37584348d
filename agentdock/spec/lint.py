"""Lint warnings: legal Dockfiles that are probably not what the author wants.

Non-fatal unless ``--strict``. Exactly the rules of the v1 contract, one function each:
risky or overlapping redact patterns, a hot model with prompt-injection blocking off, no
roles in a token mode, no output size limit, no trace destination, what a target cannot do
(threads and stream resume on Lambda). A warning carries the code of the area it concerns
(4005 auth, 4006 policy, 4008 telemetry, 4010 exposure) and a fix in config syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from agentdock.errors import (
    AuthConfigError,
    DockfileError,
    ExposureError,
    PolicyValidationError,
    TelemetryConfigError,
)
from agentdock.spec.checks_state import lint_state
from agentdock.spec.context import Check, Context
from agentdock.spec.regexlint import backtracking_risk, example

HOT_TEMPERATURE = 1.2


def lint_redact_patterns(ctx: Context) -> Iterator[DockfileError]:
    patterns = ctx.spec.policies.safety.redact_patterns
    path = "policies.safety.redact_patterns"
    known = [(i, p) for i, p in enumerate(patterns) if ctx.known(f"{path}[{i}]")]
    safe: list[tuple[int, str]] = []
    for i, pattern in known:
        risk = backtracking_risk(pattern)
        if risk is None:
            safe.append((i, pattern))
            continue
        yield PolicyValidationError(
            f"{path}[{i}]",
            f"pattern {pattern!r} may backtrack catastrophically: {risk}",
            hint="use an atomic group (?>...) or a possessive quantifier (a++), or drop the outer repeat",
        )
    # Overlap is probed by running patterns on each other's examples: only the safe ones.
    for a, (i, first) in enumerate(safe):
        sample = example(first)
        for j, second in safe[a + 1 :]:
            if first == second or (sample is not None and _finds(second, sample)):
                shown = (
                    f" ({sample!r} matches both)"
                    if sample and first != second
                    else " (the same pattern twice)"
                )
                yield PolicyValidationError(
                    f"{path}[{j}]",
                    f"overlaps redact_patterns[{i}]{shown}: the first redaction hides text from the second",
                    hint="merge the two patterns or make them disjoint",
                )


def _finds(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def lint_temperature(ctx: Context) -> Iterator[DockfileError]:
    temperature = ctx.spec.model.temperature
    if (
        temperature is not None
        and temperature > HOT_TEMPERATURE
        and not ctx.spec.policies.safety.block_prompt_injection
    ):
        yield PolicyValidationError(
            "model.temperature",
            f"temperature {temperature} > {HOT_TEMPERATURE} with block_prompt_injection: false",
            hint="set policies.safety.block_prompt_injection: true or lower model.temperature",
        )


def lint_roles(ctx: Context) -> Iterator[DockfileError]:
    auth = ctx.spec.auth
    if auth.mode != "api_key" and not auth.roles:
        yield AuthConfigError(
            "auth.roles",
            f"no roles with mode {auth.mode}: the defaults (admin, developer, viewer) apply to token role claims",
            hint="add auth.roles: [{name: developer, permissions: [invoke]}]",
        )


def lint_output_limit(ctx: Context) -> Iterator[DockfileError]:
    if ctx.spec.policies.safety.max_output_chars is None:
        yield PolicyValidationError(
            "policies.safety.max_output_chars",
            "max_output_chars is unset: output size is not limited",
            hint="add policies.safety.max_output_chars: 20000",
        )


def lint_telemetry(ctx: Context) -> Iterator[DockfileError]:
    observability = ctx.spec.observability
    if observability.tracing and observability.langfuse is None:
        yield TelemetryConfigError(
            "observability.langfuse",
            "tracing is on but no trace destination is configured (observability.langfuse keys missing)",
            hint="add observability.langfuse: {public_key: ${LANGFUSE_PUBLIC_KEY}, secret_key: ${LANGFUSE_SECRET_KEY}}",
        )


def lint_resume(ctx: Context) -> Iterator[DockfileError]:
    """A stream resume window on Lambda only spends tokens: the reconnect never reaches the
    execution environment that is still streaming (the runtime's default there is 0)."""
    window = ctx.spec.arguments.get("resume_window_sec")
    deploy = ctx.spec.deploy
    if deploy is None or deploy.lambda_ is None or not isinstance(window, int | float) or window <= 0:
        return
    yield ExposureError(
        "arguments.resume_window_sec",
        "on Lambda a dropped /stream cannot be rejoined (a reconnect reaches another execution "
        "environment): the window only keeps an abandoned run going",
        hint="remove arguments.resume_window_sec (0 on Lambda), or deploy to knative or cloudrun",
    )


def lint_tools(ctx: Context) -> Iterator[DockfileError]:
    """With deny_by_default, tools the agent's module defines but ``allowed`` does not list would
    be refused at run time (403): say so now, with the line to add."""
    tools = ctx.spec.policies.tools
    if not tools.deny_by_default or not ctx.check_imports:
        return
    missing = [name for name in visible_tools(ctx) if name not in tools.allowed]
    if missing:
        listed = ", ".join(missing)
        yield PolicyValidationError(
            "policies.tools.allowed",
            f"the agent's code defines tool(s) {listed} that policies.tools.allowed does not list: "
            "tools are denied by default, so every call to them is refused (403 ToolDenied)",
            hint=f"add to the Dockfile:  policies: {{tools: {{allowed: [{', '.join([*tools.allowed, *missing])}]}}}}",
        )


def visible_tools(ctx: Context) -> list[str]:
    """Names of the LangChain tools (``@tool`` functions, ``BaseTool`` objects) defined at the top
    level of the entrypoint's module: what validate can see without building the graph."""
    import sys
    from contextlib import redirect_stdout

    from agentdock.spec.imports import import_entrypoint, isolated_imports, split_target

    try:
        # stdout stays the report's: an agent that prints on import goes to stderr
        with isolated_imports(ctx.base_dir), redirect_stdout(sys.stderr):
            import_entrypoint(ctx.spec.agent.entrypoint, ctx.base_dir)
            module = sys.modules.get(split_target(ctx.spec.agent.entrypoint)[0])
            base = sys.modules.get("langchain_core.tools")
            tool_type = getattr(base, "BaseTool", None)
            if module is None or tool_type is None:
                return []
            found = {
                str(getattr(value, "name", "") or key)
                for key, value in vars(module).items()
                if isinstance(value, tool_type)
            }
    except Exception:  # check_entrypoint reports import problems; a lint never fails validate
        return []
    return sorted(found)


LINTS: tuple[Check, ...] = (
    lint_redact_patterns,
    lint_temperature,
    lint_roles,
    lint_output_limit,
    lint_telemetry,
    lint_state,
    lint_resume,
    lint_tools,
)


def run_lints(ctx: Context, lints: Iterable[Check] = LINTS) -> list[DockfileError]:
    return [warning for lint in lints for warning in lint(ctx)]
