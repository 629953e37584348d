"""`agentdock build` through the real CLI, and container-engine detection with real probes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentdock.build.builder import detect_builder
from agentdock.cli.main import app

pytestmark = pytest.mark.functional
runner = CliRunner()


def _fake_engine(folder: Path, name: str, script: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_build_json_for_each_target(project: Path, tmp_path: Path) -> None:
    seen = {}
    for target in ("local", "lambda", "knative", "cloudrun"):
        result = runner.invoke(
            app, ["build", str(project), "--target", target, "--out", str(tmp_path / target), "--json"]
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["context_dir"] == str((tmp_path / target).resolve())
        assert data["image"] is None and data["image_built"] is False
        seen[target] = data["flavour"]
    assert seen == {"local": "local", "lambda": "lambda-stream", "knative": "knative", "cloudrun": "cloudrun"}


def test_image_requested_without_a_working_engine_says_context_only(project: Path, tmp_path: Path) -> None:
    if detect_builder().builder is not None:
        pytest.skip("a container engine works on this machine; the 'not available' path cannot be shown here")
    result = runner.invoke(
        app, ["build", str(project), "--image", "echo:1", "--out", str(tmp_path / "o"), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["image"] is None and data["image_built"] is False
    assert data["image_note"].startswith("NOT built, only the build context was produced")
    assert (tmp_path / "o" / "Dockerfile").is_file()
    human = runner.invoke(app, ["build", str(project), "--image", "echo:1", "--out", str(tmp_path / "o")])
    assert "only the build context was produced" in human.output
    assert f"docker build -t echo:1 {(tmp_path / 'o').resolve()}" in human.output


def test_detection_reports_why_no_engine_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert detect_builder().builder is None
    assert "no container engine found" in detect_builder().reason
    _fake_engine(empty, "docker", 'echo "Cannot connect to the Docker daemon" >&2\nexit 1\n')
    found = detect_builder()
    assert found.builder is None
    assert "docker found at" in found.reason and "Cannot connect to the Docker daemon" in found.reason
    _fake_engine(empty, "podman", 'echo "5.0.0"\n')
    working = detect_builder()
    assert working.builder is not None and working.builder.name == "podman"
    argv = working.builder.build_argv(Path("/ctx"), "t:1", platform="linux/arm64")
    assert argv == [str(empty / "podman"), "build", "-t", "t:1", "--platform", "linux/arm64", "/ctx"]


def test_image_is_built_with_a_working_engine(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    record = tmp_path / "calls.txt"
    _fake_engine(
        bin_dir, "docker", f'if [ "$1" = version ]; then echo 27.0.0; exit 0; fi\necho "$@" >> {record}\n'
    )
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + os.environ["PATH"])
    result = runner.invoke(
        app, ["build", str(project), "-t", "lambda", "--image", "echo:2", "-o", str(tmp_path / "o"), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["image"] == "echo:2" and data["image_built"] is True
    assert record.read_text().split() == [
        "build",
        "-t",
        "echo:2",
        "--platform",
        "linux/arm64",
        str((tmp_path / "o").resolve()),
    ]


def test_usage_errors_exit_2(project: Path, tmp_path: Path) -> None:
    unknown = runner.invoke(app, ["build", str(project), "--target", "heroku"])
    assert unknown.exit_code == 2
    assert "lambda" in unknown.output and "knative" in unknown.output
    missing = runner.invoke(app, ["build", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2
    assert "Traceback" not in missing.output


def test_invalid_dockfile_exits_1_with_the_errors(project: Path) -> None:
    project.write_text(project.read_text().replace("framework: langgraph", "framework: autogen"))
    result = runner.invoke(app, ["build", str(project)])
    assert result.exit_code == 1
    assert "4007" in result.output
