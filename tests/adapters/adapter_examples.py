"""The example agents as adapter configs (own module name: `conftest` is not importable by name
when several test folders each have one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentdock.spec import load_dockfile
from agentdock.spec.models import DockSpec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TEST_ENV = {
    "JWT_SECRET": "adapter-tests-secret-0123456789",
    "LANGFUSE_PUBLIC_KEY": "pk-lf-test",
    "LANGFUSE_SECRET_KEY": "sk-lf-test",
}


def load_spec(example: str) -> DockSpec:
    """The example's Dockfile as a DockSpec, loaded the way the CLI loads it (no import check)."""
    return load_dockfile(EXAMPLES / example / "Dockfile.yaml", env=TEST_ENV, check_imports=False).spec


def example_config(example: str) -> dict[str, Any]:
    spec = load_spec(example)
    return {"base_dir": str(EXAMPLES / example), "spec": spec, **spec.arguments}
