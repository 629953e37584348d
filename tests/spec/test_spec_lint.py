"""Lint warnings: each rule of the contract, non-fatal unless strict; and the rate-limit parser."""

from __future__ import annotations

from typing import Any

import pytest
from spec_helpers import FULL_ENV, Project

from agentdock.errors import DockfileInvalid
from agentdock.spec import format_rate_limit, load_dockfile, parse_rate_limit, validate_file
from agentdock.spec.regexlint import backtracking_risk, example

pytestmark = pytest.mark.unit


def warnings_of(project: Project, change: Any) -> list[tuple[int, str]]:
    report = validate_file(project.mutate(change), env=FULL_ENV)
    assert report.valid, [str(e) for e in report.errors]
    return [(w.code, w.path) for w in report.warnings]


def test_the_full_file_is_lint_clean(full: Project) -> None:
    assert validate_file(full.dockfile, env=FULL_ENV, strict=True).warnings == []


def test_the_minimal_file_warns_about_output_limit_and_telemetry(minimal: Project) -> None:
    report = validate_file(minimal.dockfile)
    assert report.valid
    assert [(w.code, w.path) for w in report.warnings] == [
        (4006, "policies.safety.max_output_chars"),
        (4008, "observability.langfuse"),
    ]
    assert report.warnings[0].hint == "add policies.safety.max_output_chars: 20000"


def test_strict_turns_warnings_into_errors(minimal: Project) -> None:
    report = validate_file(minimal.dockfile, strict=True)
    assert not report.valid and report.warnings == []
    assert [e.path for e in report.errors] == ["policies.safety.max_output_chars", "observability.langfuse"]
    with pytest.raises(DockfileInvalid):
        load_dockfile(minimal.dockfile, strict=True)
    assert [w.code for w in load_dockfile(minimal.dockfile).warnings] == [4006, 4008]


def test_tracing_off_means_no_telemetry_warning(minimal: Project) -> None:
    assert (4008, "observability.langfuse") not in warnings_of(
        minimal, lambda d: d.update(observability={"tracing": False})
    )


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        ([r"(\w+\s?)+$"], [(4006, "policies.safety.redact_patterns[0]")]),
        ([r"(?>\w+\s?)+$"], []),
        ([r"\d{4}", r"\d{4}"], [(4006, "policies.safety.redact_patterns[1]")]),
        ([r"\b\d{16}\b", r"\d{12,19}"], [(4006, "policies.safety.redact_patterns[1]")]),
        ([r"\b\d{3}-\d{2}-\d{4}\b", r"[\w.+-]+@[\w-]+\.\w+"], []),
        ([r"\d{40}", r"(\d+)+x"], [(4006, "policies.safety.redact_patterns[1]")]),  # never run on each other
    ],
    ids=["nested-quantifier", "atomic-ok", "duplicate", "overlap", "disjoint", "risky-not-probed"],
)
def test_redact_pattern_lint(full: Project, patterns: list[str], expected: list[tuple[int, str]]) -> None:
    assert warnings_of(full, lambda d: d["policies"]["safety"].update(redact_patterns=patterns)) == expected


def test_hot_model_without_injection_blocking(full: Project) -> None:
    def hot(d: dict[str, Any]) -> None:
        d["model"]["temperature"] = 1.5
        d["policies"]["safety"]["block_prompt_injection"] = False

    assert warnings_of(full, hot) == [(4006, "model.temperature")]
    assert warnings_of(full, lambda d: d["model"].update(temperature=1.5)) == []


def test_no_roles_in_a_token_mode(full: Project) -> None:
    def no_roles(d: dict[str, Any]) -> None:
        d["auth"].pop("roles")
        d["auth"].pop("rate_limits")

    assert warnings_of(full, no_roles) == [(4005, "auth.roles")]


def test_regex_helpers() -> None:
    assert backtracking_risk(r"(a+)+b") is not None
    assert backtracking_risk(r"(a{2})+b") is None
    assert backtracking_risk("(") is None
    assert example(r"\d{3}-\d{4}") == "111-1111"
    assert example(r"[^@\s]+@x") is not None
    assert example(r"(a)\1") is None


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("100/m", (100, 60)),
        ("5/s", (5, 1)),
        ("1000/h", (1000, 3600)),
        ("10000/d", (10000, 86400)),
        ("100 requests/minute", (100, 60)),
        ("100 requests per minute", (100, 60)),
        ("  7 / Hour ", (7, 3600)),
        ("3/sec", (3, 1)),
    ],
)
def test_parse_rate_limit(text: str, parsed: tuple[int, int]) -> None:
    assert parse_rate_limit(text) == parsed


@pytest.mark.parametrize("text", ["", "lots", "0/m", "10/fortnight", "-1/s", "1.5/m", "100"])
def test_parse_rate_limit_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rate_limit(text)


def test_format_rate_limit_round_trips() -> None:
    assert format_rate_limit(*parse_rate_limit("100 requests/minute")) == "100/m"
    with pytest.raises(ValueError):
        format_rate_limit(1, 7)


def test_a_stream_resume_window_on_lambda_warns(full: Project) -> None:
    def window(seconds: float) -> Any:
        return lambda d: d["arguments"].update(resume_window_sec=seconds)

    assert (4010, "arguments.resume_window_sec") in warnings_of(full, window(10))
    assert (4010, "arguments.resume_window_sec") not in warnings_of(full, window(0))
    no_lambda = warnings_of(
        full, lambda d: (d["arguments"].update(resume_window_sec=10), d["deploy"].pop("lambda"))
    )
    assert (4010, "arguments.resume_window_sec") not in no_lambda
