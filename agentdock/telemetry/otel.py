"""OpenTelemetry plumbing: the resource our spans describe and the standard
``OTEL_EXPORTER_OTLP_*`` export.

Spans are written as OTLP requests after the response (``telemetry.otlp``), so no tracer
provider is involved: the resource is the one the SDK would attach (``Resource.create``, which
adds the SDK's own attributes and honours ``OTEL_RESOURCE_ATTRIBUTES``), and the OTLP export is
one more ``SpoolingExporter`` that receives the same encoded batches as Langfuse's. Imported only
when a trace backend is on (the OTel SDK costs cold-start time).
"""

from __future__ import annotations

import os
from typing import Any

from agentdock.telemetry.otel_env import otlp_configured, otlp_env_endpoint, otlp_env_headers
from agentdock.telemetry.spool import OTLPSink, Record, Spool, SpoolingExporter, spool_root


def resource_attributes(agent: str, version: str, environment: str) -> dict[str, Any]:
    from opentelemetry.sdk.resources import Resource

    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME") or agent,
            "service.version": version,
            "deployment.environment.name": environment,
        }
    )
    return dict(resource.attributes)


def otlp_env_exporter(agent: str, record: Record, timeout_s: float) -> SpoolingExporter | None:
    """An exporter to the OTLP/HTTP endpoint of the ``OTEL_*`` variables (with the spool behind
    it), or None when none is set or the protocol is not http/protobuf."""
    endpoint = otlp_env_endpoint()
    if endpoint is None or not otlp_configured():
        return None
    sink = OTLPSink(endpoint, otlp_env_headers(), timeout_s)
    return SpoolingExporter(sink, Spool(spool_root() / agent / "otlp"), record)
