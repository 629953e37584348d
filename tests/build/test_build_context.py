"""build_context end to end on a real Dockfile: secrets never land in a context, the hash is
deterministic, requirements are pinned, the agent's folder is filtered."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

import agentdock
from agentdock.build import FLAVOURS, build_context, content_hash, read_context
from agentdock.build.context import default_out_dir, write_context
from agentdock.build.wheel import agentdock_wheel
from agentdock.errors import BuildError
from tests.build.conftest import DOTENV_SECRETS, ENV_SECRETS

pytestmark = pytest.mark.functional


def test_no_secret_value_in_any_flavour(project: Path, tmp_path: Path) -> None:
    secrets = [*DOTENV_SECRETS.values(), *ENV_SECRETS.values(), "prod-secret-should-never-ship"]
    for flavour in FLAVOURS:
        artifact = build_context(
            project, flavour=flavour, out_dir=tmp_path / "ctx" / flavour, env={"EXTRA": "x"}
        )
        files = read_context(Path(artifact.context_dir))
        for rel, data in files.items():
            for secret in secrets:
                assert secret.encode() not in data, f"{flavour}: {secret!r} leaked into {rel}"
        frozen = json.loads(files["agent/agentdock.spec.json"])
        assert frozen["auth"]["jwt"]["secret_key"] == "${JWT_SECRET}"
        assert frozen["observability"]["langfuse"]["public_key"] == "${LANGFUSE_PUBLIC_KEY}"
        assert not [r for r in files if ".env" in r or ".git" in r or "__pycache__" in r or "myenv" in r]
        assert "agent/prompts/system.txt" in files and "agent/agent.py" in files


def test_same_project_same_hash_and_bytes(project: Path, tmp_path: Path) -> None:
    a = build_context(project, flavour="lambda-stream", out_dir=tmp_path / "a")
    os.utime(project.parent / "agent.py", (1, 1))  # timestamps never enter a context
    b = build_context(project, flavour="lambda-stream", out_dir=tmp_path / "b")
    assert a.content_hash == b.content_hash
    assert read_context(Path(a.context_dir)) == read_context(Path(b.context_dir))
    assert content_hash(read_context(Path(a.context_dir))) == a.content_hash
    default = build_context(project, flavour="lambda-stream")
    assert Path(default.context_dir) == default_out_dir("echo_agent", "lambda-stream", a.content_hash)
    (project.parent / "agent.py").write_text((project.parent / "agent.py").read_text() + "# changed\n")
    assert (
        build_context(project, flavour="lambda-stream", out_dir=tmp_path / "c").content_hash != a.content_hash
    )


def test_requirements_are_pinned_and_deduplicated(project: Path, tmp_path: Path) -> None:
    local = build_context(project, flavour="local", out_dir=tmp_path / "l")
    lines = (Path(local.context_dir) / "requirements.txt").read_text().splitlines()
    assert lines[1:] == [f"agentdock[runtime,langfuse]=={agentdock.__version__}", "httpx==0.28.1"]
    # image flavours: everything locked with hashes, agentdock by path with its sha256, no index pin
    text = (
        Path(build_context(project, flavour="knative", out_dir=tmp_path / "k").context_dir)
        / "requirements.txt"
    ).read_text()
    assert "httpx==0.28.1 \\\n    --hash=sha256:" in text
    assert f"./wheels/agentdock-{agentdock.__version__}-py3-none-any.whl \\\n    --hash=sha256:" in text
    assert "agentdock[" not in text and "agentdock==" not in text


def test_pyproject_dependencies_when_no_requirements_txt(project: Path, tmp_path: Path) -> None:
    (project.parent / "requirements.txt").unlink()
    (project.parent / "pyproject.toml").write_text(
        '[project]\nname = "echo"\ndependencies = ["rich==13.7.1"]\n'
    )
    artifact = build_context(project, flavour="cloudrun", out_dir=tmp_path / "c")
    assert "rich==13.7.1 \\\n" in (Path(artifact.context_dir) / "requirements.txt").read_text()


def test_editable_requirement_is_refused(project: Path, tmp_path: Path) -> None:
    (project.parent / "requirements.txt").write_text("-e ../mylib\n")
    with pytest.raises(BuildError) as err:
        build_context(project, flavour="knative", out_dir=tmp_path / "k")
    assert err.value.path == "requirements.txt:1"


def test_wheel_is_shipped_and_installed_from_the_context(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = tmp_path / f"agentdock-{agentdock.__version__}-py3-none-any.whl"
    wheel.write_bytes(agentdock_wheel().data)
    monkeypatch.setenv("AGENTDOCK_WHEEL", str(wheel))
    ctx = Path(build_context(project, flavour="lambda-buffered", out_dir=tmp_path / "w").context_dir)
    assert (ctx / "wheels" / wheel.name).read_bytes() == wheel.read_bytes()
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert f"./wheels/{wheel.name} \\\n    --hash=sha256:{digest}\n" in (ctx / "requirements.txt").read_text()
    assert "COPY wheels/ /var/task/wheels/" in (ctx / "Dockerfile").read_text()
    wrong = tmp_path / "agentdock-9.9.9-py3-none-any.whl"
    wrong.write_bytes(b"PK")
    monkeypatch.setenv("AGENTDOCK_WHEEL", str(wrong))
    with pytest.raises(BuildError, match="is not agentdock"):
        build_context(project, flavour="knative", out_dir=tmp_path / "w2")


def test_output_inside_the_agent_folder_is_not_copied_back(project: Path) -> None:
    out = project.parent / "build-out"
    first = build_context(project, flavour="knative", out_dir=out)
    second = build_context(project, flavour="knative", out_dir=out)
    assert first.content_hash == second.content_hash
    assert not any(r.startswith("agent/build-out") for r in read_context(out))


def test_write_context_refuses_a_foreign_folder(project: Path, tmp_path: Path) -> None:
    from agentdock.build import prepare
    from agentdock.spec import load_dockfile

    rendered = prepare(load_dockfile(project, allow_unresolved=True), flavour="local")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "important.txt").write_text("keep me\n")
    with pytest.raises(BuildError, match="not an agentdock build context"):
        write_context(rendered, foreign)
    assert (foreign / "important.txt").read_text() == "keep me\n"


def test_literal_secret_is_warned_about(project: Path) -> None:
    from agentdock.build import prepare
    from agentdock.spec import load_dockfile

    text = project.read_text().replace('"${JWT_SECRET}"', '"a-literal-secret-value-123456"')
    project.write_text(text)
    rendered = prepare(load_dockfile(project, allow_unresolved=True), flavour="knative")
    assert any(w.startswith("auth.jwt.secret_key is a literal value") for w in rendered.warnings)
