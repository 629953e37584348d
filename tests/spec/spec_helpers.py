"""Shared helpers of the Dockfile tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).parent / "fixtures"
# Values for the full fixture's ${VAR} references (the JWT secret is >= 16 characters).
FULL_ENV = {"JWT_SECRET": "s" * 32, "LANGFUSE_PUBLIC_KEY": "pk-lf-test", "LANGFUSE_SECRET_KEY": "sk-lf-test"}


def fixture_data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((FIXTURES / name / "Dockfile.yaml").read_text())
    return copy.deepcopy(data)


class Project:
    """A Dockfile folder under tmp_path, seeded from a fixture."""

    def __init__(self, root: Path, fixture: str) -> None:
        self.root = root
        shutil.copytree(FIXTURES / fixture, root, dirs_exist_ok=True)
        self.data = fixture_data(fixture)

    @property
    def dockfile(self) -> Path:
        return self.root / "Dockfile.yaml"

    def write(
        self, data: dict[str, Any] | None = None, *, text: str | None = None, name: str = "Dockfile.yaml"
    ) -> Path:
        path = self.root / name
        path.write_text(
            text
            if text is not None
            else yaml.safe_dump(data if data is not None else self.data, sort_keys=False)
        )
        return path

    def mutate(self, change: Callable[[dict[str, Any]], Any]) -> Path:
        data = copy.deepcopy(self.data)
        change(data)
        return self.write(data)
