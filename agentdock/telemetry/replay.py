"""``agentdock telemetry replay``: deliver spooled trace batches (see ``spool``).

Each sink's folder remembers its endpoint URL; credentials come from the environment at replay
time (``LANGFUSE_PUBLIC_KEY`` / ``LANGFUSE_SECRET_KEY`` for Langfuse, ``OTEL_EXPORTER_OTLP_HEADERS``
for OTLP), never from disk. ``LANGFUSE_BASE_URL`` / ``OTEL_EXPORTER_OTLP_*`` override the
remembered endpoint (a backend that moved).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agentdock.errors import TelemetryReplayError
from agentdock.telemetry.spool import OTLPSink, Spool, spool_root

SINKS = ("langfuse", "otlp")


@dataclass
class ReplayResult:
    agent: str
    sink: str
    endpoint: str
    batches: int
    spans: int
    left: int  # batches still spooled (the backend failed again)


def _sink(sink: str, remembered: str | None, timeout_s: float) -> OTLPSink:
    if sink == "langfuse":
        from agentdock.telemetry.langfuse import OTLP_PATH, LangfuseSettings

        public, secret = os.environ.get("LANGFUSE_PUBLIC_KEY"), os.environ.get("LANGFUSE_SECRET_KEY")
        if not public or not secret:
            raise TelemetryReplayError(
                "LANGFUSE_PUBLIC_KEY",
                "spooled Langfuse traces need the project's keys to be delivered",
                "export LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY (the agent's keys), then replay again",
            )
        base = os.environ.get("LANGFUSE_BASE_URL") or os.environ.get("LANGFUSE_HOST")
        settings = LangfuseSettings(public, secret, base or (remembered or "").removesuffix(OTLP_PATH))
        return OTLPSink(settings.endpoint, settings.headers(), timeout_s)
    from agentdock.telemetry.otel_env import otlp_env_endpoint, otlp_env_headers

    return OTLPSink(otlp_env_endpoint() or remembered or "", otlp_env_headers(), timeout_s)


def replay(agent: str | None = None, root: Path | None = None, timeout_s: float = 10.0) -> list[ReplayResult]:
    """Deliver every spooled batch of ``agent`` (all agents when None), oldest first."""
    base = root or spool_root()
    agents = (
        [agent] if agent else sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    )
    results = []
    for name in agents:
        for sink_name in SINKS:
            spool = Spool(base / name / sink_name)
            if not spool.batches():
                continue
            sink = _sink(sink_name, spool.endpoint(), timeout_s)
            batches, spans = spool.drain(sink.send)
            results.append(ReplayResult(name, sink_name, sink.endpoint, batches, spans, len(spool.batches())))
    return results
