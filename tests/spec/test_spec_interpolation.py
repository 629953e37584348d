"""``${VAR}`` resolution: order (--env > environment > .env), defaults, escapes, what raw keeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_helpers import FULL_ENV, Project

from agentdock.errors import DockfileInvalid
from agentdock.spec import interpolate, load_dockfile, read_dotenv, references, validate_file

pytestmark = pytest.mark.unit


def described(project: Project, text: str) -> Path:
    return project.mutate(lambda d: d["agent"].update(description=text))


def test_env_argument_beats_process_env_beats_dotenv(minimal: Project, clean_env: pytest.MonkeyPatch) -> None:
    file = described(minimal, "from ${DOCK_X}")
    (minimal.root / ".env").write_text("DOCK_X=dotenv\n")
    assert load_dockfile(file).spec.agent.description == "from dotenv"
    clean_env.setenv("DOCK_X", "process")
    assert load_dockfile(file).spec.agent.description == "from process"
    loaded = load_dockfile(file, env={"DOCK_X": "cli"})
    assert loaded.spec.agent.description == "from cli"
    assert loaded.raw["agent"]["description"] == "from ${DOCK_X}"


def test_defaults_apply_when_unset_or_empty(minimal: Project, clean_env: pytest.MonkeyPatch) -> None:
    file = described(minimal, "${DOCK_X:-fallback}|${DOCK_Y:-}|$${DOCK_X}")
    assert load_dockfile(file).spec.agent.description == "fallback||${DOCK_X}"
    assert load_dockfile(file, env={"DOCK_X": ""}).spec.agent.description == "fallback||${DOCK_X}"
    assert load_dockfile(file, env={"DOCK_X": "set"}).spec.agent.description == "set||${DOCK_X}"


def test_an_empty_value_without_default_is_set(minimal: Project, clean_env: pytest.MonkeyPatch) -> None:
    assert load_dockfile(described(minimal, "[${DOCK_X}]"), env={"DOCK_X": ""}).spec.agent.description == "[]"


def test_unresolved_reports_every_path(full: Project, clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(DockfileInvalid) as raised:
        load_dockfile(full.dockfile, env={"JWT_SECRET": FULL_ENV["JWT_SECRET"]})
    assert [(e.code, e.name, e.path) for e in raised.value.errors] == [
        (4001, "EnvInterpolationError", "observability.langfuse.public_key"),
        (4001, "EnvInterpolationError", "observability.langfuse.secret_key"),
    ]
    assert raised.value.errors[0].hint == (
        "export LANGFUSE_PUBLIC_KEY=... or add LANGFUSE_PUBLIC_KEY=... to .env, or write ${LANGFUSE_PUBLIC_KEY:-default}"
    )


def test_allow_unresolved_keeps_the_reference_and_skips_checks_on_it(
    full: Project, clean_env: pytest.MonkeyPatch
) -> None:
    loaded = load_dockfile(full.dockfile, allow_unresolved=True)
    assert (
        loaded.spec.auth.jwt is not None and loaded.spec.auth.jwt.secret_key == "${JWT_SECRET}"
    )  # not "too short"
    assert loaded.raw["auth"]["jwt"]["secret_key"] == "${JWT_SECRET}"


def test_a_short_resolved_secret_is_4005(full: Project, clean_env: pytest.MonkeyPatch) -> None:
    errors = validate_file(full.dockfile, env={**FULL_ENV, "JWT_SECRET": "short"}).errors
    assert [(e.code, e.path) for e in errors] == [(4005, "auth.jwt.secret_key")]
    assert errors[0].cause == "secret_key is 5 characters; at least 16 are required"
    assert "short" not in str(errors[0]) + str(errors[0].hint)  # the secret itself is never echoed


@pytest.mark.parametrize("bad", ["${1X}", "${X", "${X:default}", "${}"])
def test_malformed_references_are_4001_even_when_unresolved_is_allowed(minimal: Project, bad: str) -> None:
    errors = validate_file(described(minimal, f"a {bad} b"), allow_unresolved=True).errors
    assert [(e.code, e.path) for e in errors] == [(4001, "agent.description")]
    assert errors[0].cause.startswith("malformed reference")


def test_a_reference_in_a_number_field_says_why_it_fails(minimal: Project) -> None:
    file = minimal.mutate(lambda d: d["expose"].update(port="${DOCK_PORT:-8080}"))
    errors = validate_file(file).errors
    assert [(e.code, e.path) for e in errors] == [(4002, "expose.port")]
    assert errors[0].hint == "a ${VAR} reference always gives a string: write this value literally"


def test_interpolate_api() -> None:
    values = {"A": "1"}
    data = {"x": ["${A}", {"y": "${B:-2}", "z": 3}], "${A}": "keys are not interpolated"}
    assert interpolate(data, values.get) == {
        "x": ["1", {"y": "2", "z": 3}],
        "${A}": "keys are not interpolated",
    }
    with pytest.raises(DockfileInvalid) as raised:
        interpolate({"x": [{"y": "${C}"}]}, values.get)
    assert [(e.code, e.path) for e in raised.value.errors] == [(4001, "x[0].y")]
    assert interpolate({"x": "${C}"}, values.get, allow_unresolved=True) == {"x": "${C}"}
    refs = references({"a": "${A} ${B:-b}", "l": ["$${NOT}", "${C}"]})
    assert [(r.path, r.var, r.default) for r in refs] == [
        ("a", "A", None),
        ("a", "B", "b"),
        ("l[1]", "C", None),
    ]


def test_dotenv_parsing(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "# comment\n"
        "PLAIN=value # trailing comment\n"
        "export EXPORTED=yes\n"
        'DOUBLE="two words\\nnext # kept"\n'
        "SINGLE='$literal \\n'\n"
        "EMPTY=\n"
        "  SPACED = padded  \n"
        "not an assignment\n"
        "1BAD=x\n"
    )
    assert read_dotenv(env) == {
        "PLAIN": "value",
        "EXPORTED": "yes",
        "DOUBLE": "two words\nnext # kept",
        "SINGLE": "$literal \\n",
        "EMPTY": "",
        "SPACED": "padded",
    }
    assert read_dotenv(tmp_path / "missing.env") == {}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["expose"].update(port="${DOCK_X}"), "expose.port"),
        (lambda d: d["agent"].update(name="${DOCK_X}"), "agent.name"),
        (lambda d: d["auth"].update(mode="${DOCK_X}"), "auth.mode"),
        (lambda d: d.update(version="${DOCK_X}"), "version"),
    ],
)
def test_values_from_references_are_never_echoed(minimal: Project, change: object, path: str) -> None:
    secret = "Sup3r Secret Value!"
    report = validate_file(minimal.mutate(change), env={"DOCK_X": secret})  # type: ignore[arg-type]
    assert [(e.code, e.path) for e in report.errors] == [(4002, path)]
    text = str(report.to_dict())
    assert secret not in text and "${VAR}" in text
