"""``agentdock init | validate | schema`` through the real Typer app (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from spec_helpers import Project
from typer.testing import CliRunner

from agentdock.cli.main import app
from agentdock.cli.spec_cmds import SCHEMA_FILE
from agentdock.spec import SCHEMA_ID, json_schema

pytestmark = pytest.mark.functional
runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("template", ["langgraph", "langchain"])
def test_init_then_validate_succeeds(tmp_path: Path, template: str) -> None:
    target = tmp_path / "my_bot"
    created = run("init", str(target), "--template", template)
    assert created.exit_code == 0, created.output
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["Dockfile.yaml", "agent.py", "requirements.txt", ".env.example", "README.md", SCHEMA_FILE]
    )
    dockfile = (target / "Dockfile.yaml").read_text()
    # editors resolve the schema offline from the file init writes beside the Dockfile
    assert dockfile.startswith(f"# yaml-language-server: $schema={SCHEMA_FILE}\n")
    assert json.loads((target / SCHEMA_FILE).read_text()) == json_schema()
    assert json_schema()["$id"] == SCHEMA_ID
    data = yaml.safe_load(dockfile)
    assert data["agent"]["name"] == "my_bot" and data["agent"]["framework"] == template
    assert data["auth"] == {"mode": "api_key", "api_keys": {"enabled": True, "rotation_days": 90}}
    assert data["expose"]["streaming"] == "sse" and data["io_schema"]["input"]["type"] == "object"

    checked = run("validate", str(target / "Dockfile.yaml"))
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.splitlines()[0] == "✓ Validated successfully"


@pytest.mark.parametrize(
    ("template", "entrypoint"), [("langgraph", "agent:build_graph"), ("langchain", "agent:build_chain")]
)
async def test_the_scaffolded_agent_runs_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: str, entrypoint: str
) -> None:
    from agentdock.spec import import_entrypoint, isolated_imports

    monkeypatch.setenv("AGENTDOCK_FAKE_MODEL", "1")
    assert run("init", str(tmp_path / "bot"), "--name", "offline-bot", "--template", template).exit_code == 0
    with isolated_imports(tmp_path / "bot"):
        agent = import_entrypoint(entrypoint, tmp_path / "bot")()
        result = await agent.ainvoke({"question": "what is 2+2?"})
    answer = result["answer"] if isinstance(result, dict) else result
    assert answer.startswith("You asked: what is 2+2?")


def test_init_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "agent.py").write_text("# mine\n")
    refused = run("init", str(tmp_path), "--name", "keeper")
    assert refused.exit_code == 1
    assert "agent.py" in refused.output and "--force" in refused.output
    assert (tmp_path / "agent.py").read_text() == "# mine\n"
    assert not (tmp_path / "Dockfile.yaml").exists()
    forced = run("init", str(tmp_path), "--name", "keeper", "--force", "--json")
    assert forced.exit_code == 0
    assert json.loads(forced.stdout)["files"] == [
        "Dockfile.yaml",
        "agent.py",
        "requirements.txt",
        ".env.example",
        "README.md",
        SCHEMA_FILE,
    ]
    assert "build_graph" in (tmp_path / "agent.py").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--name", "Bad Name"], "invalid agent name"), (["--template", "crewai"], "unknown template")],
)
def test_init_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = run("init", str(tmp_path / "x"), *args)
    assert result.exit_code == 2 and message in result.output


BROKEN = [
    (
        lambda d: d["agent"].pop("entrypoint"),
        "agent.entrypoint: required field missing (4002 InvalidSchemaError)",
    ),
    (
        lambda d: d["auth"].update(mode="jwt"),
        "auth.jwt.secret_key: mode is jwt but no secret_key is set (4005 AuthConfigError)",
    ),
    (
        lambda d: d["agent"].update(entrypoint="agent:nothing_here"),
        "agent.entrypoint: module 'agent' has no attribute 'nothing_here' (4003 EntrypointNotFoundError)",
    ),
    (
        lambda d: d.update(io_schema={"input_class": "schemas:Query"}),
        "io_schema.output_class: input_class is set but output_class is missing (4004 InvalidIOSchemaError)",
    ),
    (
        lambda d: d.setdefault("policies", {}).update(safety={"redact_patterns": ["ok", "(("]}),
        "policies.safety.redact_patterns[1]: invalid regex",
    ),
    (
        lambda d: d["agent"].update(framework="autogen"),
        "agent.framework: unsupported framework 'autogen' (supported: langgraph, langchain, callable) (4007 UnsupportedFrameworkError)",
    ),
    (
        lambda d: d.update(observability={"langfuse": {"project": "p", "secret_key": "sk"}}),
        "observability.langfuse.public_key: an observability.langfuse block needs public_key (missing or empty) (4008 TelemetryConfigError)",
    ),
    (
        lambda d: d["expose"].update(rest=False, streaming="none"),
        "expose: nothing is served: rest is false and streaming is none (4010 ExposureError)",
    ),
    (lambda d: d["agent"].update(description="${UNSET_VAR}"), "agent.description: ${UNSET_VAR} is not set"),
    (
        lambda d: d.update(version="2.0"),
        "version: unsupported version '2.0' (supported: 1.0, 1.1) (4002 InvalidSchemaError)",
    ),
]


@pytest.mark.parametrize(("change", "line"), BROKEN, ids=[b[1].split(":")[0] for b in BROKEN])
def test_validate_broken_files_exit_1_with_path_and_code(
    minimal: Project, clean_env: pytest.MonkeyPatch, change: Any, line: str
) -> None:
    result = run("validate", str(minimal.mutate(change)))
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"✗ {line}"), result.stdout
    assert result.stdout.splitlines()[-1].startswith("✗ ") and "1 error(s)" in result.stdout.splitlines()[-1]


def test_validate_include_cycle_exit_1(minimal: Project) -> None:
    minimal.write(text="metadata: !include Dockfile.yaml\n", name="meta.yaml")
    text = minimal.dockfile.read_text() + "metadata: !include meta.yaml\n"
    result = run("validate", str(minimal.write(text=text)))
    assert result.exit_code == 1 and "(4009 IncludeCycleError)" in result.stdout


def test_validate_json_shape(minimal: Project, clean_env: pytest.MonkeyPatch) -> None:
    ok = run("validate", str(minimal.dockfile), "--json")
    assert ok.exit_code == 0
    body = json.loads(ok.stdout)
    assert set(body) == {"valid", "errors", "warnings"} and body["valid"] is True and body["errors"] == []
    assert body["warnings"][0] == {
        "code": 4006,
        "name": "PolicyValidationError",
        "path": "policies.safety.max_output_chars",
        "message": "max_output_chars is unset: output size is not limited",
        "hint": "add policies.safety.max_output_chars: 20000",
        "file": None,
        "line": None,
    }
    bad = run("validate", str(minimal.mutate(lambda d: d["auth"].update(mode="jwt"))), "--json", "--strict")
    assert bad.exit_code == 1
    body = json.loads(bad.stdout)
    assert body["valid"] is False and body["warnings"] == []
    assert [(e["code"], e["path"]) for e in body["errors"]] == [
        (4005, "auth.jwt.secret_key"),
        (4005, "auth.roles"),
        (4006, "policies.safety.max_output_chars"),
        (4008, "observability.langfuse"),
    ]
    assert set(body["errors"][0]) == {"code", "name", "path", "message", "hint", "file", "line"}


def test_validate_env_option_resolves_references(minimal: Project, clean_env: pytest.MonkeyPatch) -> None:
    file = minimal.mutate(lambda d: d["agent"].update(description="${UNSET_VAR}"))
    assert run("validate", str(file)).exit_code == 1
    assert run("validate", str(file), "--env", "UNSET_VAR=set", "--env", "OTHER=a=b").exit_code == 0


def test_validate_usage_errors_exit_2(
    tmp_path: Path, minimal: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = run("validate", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2 and "no Dockfile at" in missing.output
    assert run("validate", str(minimal.dockfile), "--env", "NOEQUALS").exit_code == 2
    as_json = run("validate", str(tmp_path / "nope.yaml"), "--json")
    assert as_json.exit_code == 2 and json.loads(as_json.stdout)["ok"] is False
    monkeypatch.chdir(minimal.root)  # FILE defaults to ./Dockfile.yaml
    assert run("validate").exit_code == 0


def test_schema_command(tmp_path: Path) -> None:
    printed = run("schema")
    assert printed.exit_code == 0 and json.loads(printed.stdout) == json_schema()
    out = tmp_path / "schemas" / "dockfile-1.0.json"
    written = run("schema", "--out", str(out), "--json")
    assert written.exit_code == 0 and json.loads(written.stdout) == {
        "ok": True,
        "out": str(out),
        "id": SCHEMA_ID,
    }
    assert json.loads(out.read_text()) == json_schema()


def test_an_agent_that_prints_on_import_keeps_json_clean(minimal: Project) -> None:
    (minimal.root / "agent.py").write_text("print('hello from import')\n\ndef build_graph():\n    return 1\n")
    result = run("validate", str(minimal.dockfile), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["valid"] is True
