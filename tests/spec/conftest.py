"""Fixtures for the Dockfile tests: the golden minimal/full files and a project folder to mutate.

``project`` copies a fixture folder (Dockfile + its small agent modules) into ``tmp_path``;
tests change the data and write it back, so every case is a real file on disk that goes
through the real loader (YAML marks, includes, imports).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_helpers import FULL_ENV, Project


@pytest.fixture
def minimal(tmp_path: Path) -> Project:
    return Project(tmp_path / "minimal", "minimal")


@pytest.fixture
def full(tmp_path: Path) -> Project:
    return Project(tmp_path / "full", "full")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No process-environment values for the variables the fixtures reference."""
    for name in (*FULL_ENV, "UNSET_VAR", "DOCK_X", "DOCK_Y"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch
