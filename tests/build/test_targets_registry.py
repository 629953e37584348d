"""The target registry: built-ins by plain dict, third parties by entry point, unknown -> listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from agentdock.targets import TARGETS, available_targets, get_target
from agentdock.targets.local import LocalTarget
from typer.testing import CliRunner

from agentdock.errors import TargetNotFound
from agentdock.store import open_store

pytestmark = pytest.mark.unit

THIRD_PARTY = """
class EchoTarget:
    name = "echo"

    def __init__(self, store, **settings):
        self.store, self.settings = store, settings
"""


def test_local_is_default_and_first() -> None:
    known = available_targets()
    assert next(iter(known)) == "local"
    assert known["local"] == TARGETS["local"]


def test_get_target_builds_the_class(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    target = get_target("local", store=store, home=tmp_path / "h")
    assert isinstance(target, LocalTarget) and target.store is store and target.home == tmp_path / "h"


def test_unknown_target_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(TargetNotFound) as err:
        get_target("heroku", store=open_store("memory://"))
    assert "local" in (err.value.hint or "")


def test_third_party_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "echo_target.py").write_text(THIRD_PARTY)
    dist = tmp_path / "agentdock_echo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: agentdock-echo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[agentdock.targets]\necho = echo_target:EchoTarget\nlocal = echo_target:EchoTarget\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    known = available_targets()
    assert known["echo"] == "echo_target:EchoTarget"
    assert known["local"] == TARGETS["local"]  # a built-in cannot be hijacked
    target = get_target("echo", store=open_store("memory://"), region="x")
    assert type(target).__name__ == "EchoTarget" and target.settings == {"region": "x"}  # type: ignore[attr-defined]


def test_cli_unknown_target_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentdock.cli.main import app

    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["status", "someagent", "--target", "heroku"])
    assert result.exit_code == 2
    assert "known targets: local" in result.output
