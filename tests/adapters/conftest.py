"""Fixtures for the adapter tests: example Dockfiles as DockSpecs, a refund ledger, a tool gate.

Every test runs with AGENTDOCK_FAKE_MODEL=1 so the examples use the offline fake model even on
a machine where a provider key is set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from agentdock.adapters import RunContext

from agentdock import settings
from agentdock.errors import ToolDenied
from agentdock.spec.models import DockSpec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TEST_ENV = {
    "JWT_SECRET": "adapter-tests-secret-0123456789",
    "LANGFUSE_PUBLIC_KEY": "pk-lf-test",
    "LANGFUSE_SECRET_KEY": "sk-lf-test",
}


def _interpolate(text: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: env.get(m.group(1), m.group(2) or ""), text)


def load_spec(example: str) -> DockSpec:
    """The example's Dockfile as a DockSpec (structural validation only; the loader has its own tests)."""
    text = (EXAMPLES / example / "Dockfile.yaml").read_text()
    return DockSpec.model_validate(yaml.safe_load(_interpolate(text, {**os.environ, **TEST_ENV})))


def example_config(example: str) -> dict[str, Any]:
    spec = load_spec(example)
    return {"base_dir": str(EXAMPLES / example), "spec": spec, **spec.arguments}


@pytest.fixture(autouse=True)
def _offline_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.ENV_FAKE_MODEL, "1")


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where invoice_copilot's issue_refund would write; tests assert it never appears."""
    path = tmp_path / "refunds.jsonl"
    monkeypatch.setenv("INVOICE_REFUND_LEDGER", str(path))
    return path


class Gate:
    """A stand-in for the policy engine: allows ``allowed`` tools, raises ToolDenied otherwise."""

    def __init__(self, allowed: set[str]) -> None:
        self.allowed = allowed
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.raised: list[ToolDenied] = []

    async def __call__(self, name: str, args: dict[str, Any]) -> None:
        self.seen.append((name, args))
        if name not in self.allowed:
            error = ToolDenied(f"tool {name!r} is not allowed", path="policies.tools.allowed")
            self.raised.append(error)
            raise error


@pytest.fixture
def gate() -> Gate:
    return Gate({"lookup_invoice"})


@pytest.fixture
def make_ctx(gate: Gate) -> Iterator[Any]:
    counter = iter(range(10_000))

    def make(hook: Any = gate) -> RunContext:
        return RunContext(trace_id=f"trace-{next(counter)}", on_tool_start=hook)

    yield make
