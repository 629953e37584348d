"""The standard ``OTEL_EXPORTER_OTLP_*`` variables, read without importing OpenTelemetry."""

from __future__ import annotations

import os
from urllib.parse import unquote


def otlp_env_endpoint() -> str | None:
    """The traces URL the standard variables name, or None when OTLP export is not configured."""
    traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if traces:
        return traces
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return base.rstrip("/") + "/v1/traces" if base else None


def otlp_env_headers() -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_[TRACES_]HEADERS``: ``k=v,k2=v2`` with URL-encoded values (OTel spec)."""
    raw = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
        or os.environ.get("OTEL_EXPORTER_OTLP_HEADERS")
        or ""
    )
    headers: dict[str, str] = {}
    for item in raw.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            headers[key.strip()] = unquote(value.strip())
    return headers


def otlp_env_protocol() -> str:
    return os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )


def otlp_configured() -> bool:
    """An OTLP endpoint is set with the one protocol we export (http/protobuf)."""
    return otlp_env_endpoint() is not None and otlp_env_protocol() == "http/protobuf"
