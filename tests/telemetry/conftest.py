"""Fixtures for telemetry tests: a Langfuse stand-in on 127.0.0.1 and an env pointing at it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdock.testing.langfuse_standin import StandIn


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture
def telemetry_env(standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """LANGFUSE_* at the stand-in (a public key per test: the SDK keeps one client per key),
    a tmp AGENTDOCK_HOME (the spool), the fake model and a JWT secret for the examples."""
    env = {
        "LANGFUSE_PUBLIC_KEY": f"pk-lf-{uuid.uuid4().hex[:12]}",
        "LANGFUSE_SECRET_KEY": "sk-lf-standin",
        "LANGFUSE_BASE_URL": standin.url,
        "AGENTDOCK_HOME": str(tmp_path / "home"),
        "AGENTDOCK_FAKE_MODEL": "1",
        "JWT_SECRET": "s" * 32,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "AGENTDOCK_TELEMETRY"):
        monkeypatch.delenv(name, raising=False)
    return env
