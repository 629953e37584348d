"""Fixtures for the runtime tests; the helpers themselves live in ``rthelpers.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_pepper(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Test keys are hashed without a server pepper; a pepper in the environment would break them."""
    monkeypatch.delenv("AGENTDOCK_KEY_PEPPER", raising=False)
    yield
