"""Fixtures for the runtime tests; the helpers themselves live in ``rthelpers.py``."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_pepper(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Test keys are hashed without a server pepper; a pepper in the environment would break them."""
    monkeypatch.delenv("AGENTDOCK_KEY_PEPPER", raising=False)
    yield


@pytest.fixture(autouse=True)
def _telemetry_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Examples carry Langfuse keys: any telemetry spool goes to a tmp home, never ~/.agentdock."""
    if "AGENTDOCK_HOME" not in os.environ:
        monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path_factory.mktemp("home")))
