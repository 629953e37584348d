"""Fixtures for the adapter tests: example Dockfiles as DockSpecs, a refund ledger, a tool gate.

Every test runs with AGENTDOCK_FAKE_MODEL=1 so the examples use the offline fake model even on
a machine where a provider key is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agentdock.adapters import RunContext

from agentdock import settings
from agentdock.errors import ToolDenied


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
