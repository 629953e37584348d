"""The one-way import rule is enforced: the contracts in pyproject ([tool.importlinter]) hold on
the tree as it is, and break when a module adds a forbidden import."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("importlinter")
pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "lint_imports.py"


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lint_imports", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["lint_imports"] = module
    spec.loader.exec_module(module)
    return module


def test_the_contracts_are_kept() -> None:
    result = _runner().run(capture=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("path", "source", "broken"),
    [
        # a leaf reaching up into the runtime (what store/security did with runtime.stages)
        ("store/_forbidden.py", "from agentdock.runtime import app\n", "agentdock.store._forbidden"),
        # build reaching into targets (what build/context.py did for Artifact)
        ("build/_forbidden.py", "import agentdock.targets.base\n", "agentdock.build._forbidden"),
        # one target package using another's internals
        ("targets/local/_forbidden.py", "from agentdock.targets.lambda_ import ops\n", "lambda_"),
    ],
)
def test_a_forbidden_import_breaks_the_contracts(path: str, source: str, broken: str) -> None:
    result = _runner().run({path: source}, capture=True)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and broken in result.stdout
