"""A local stand-in for Langfuse's ingestion endpoints (and any OTLP/HTTP collector), for tests,
the telemetry bench and trying things out without an account.

It serves, on 127.0.0.1:

* ``POST /api/public/otel/v1/traces`` and ``POST /v1/traces`` (OTLP/HTTP): the protobuf
  ``ExportTraceServiceRequest`` (gzip or not) decoded with ``opentelemetry-proto``; JSON bodies
  are accepted too;
* ``POST /api/public/ingestion``: the legacy JSON batch, answered 207 like Langfuse;
* ``GET /api/public/health``.

Every span is kept as a plain dict (ids in hex, attributes decoded), with the request headers,
so a test can assert what reached the backend. ``python -m agentdock.testing.langfuse_standin
[port]`` runs it and prints one line per trace.
"""

from __future__ import annotations

import gzip
import json
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: _value(item.value) for item in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def decode_otlp(body: bytes) -> list[dict[str, Any]]:
    """Spans of an OTLP/HTTP protobuf request as dicts."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    {
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_id": span.parent_span_id.hex() or None,
                        "name": span.name,
                        "start_ns": span.start_time_unix_nano,
                        "end_ns": span.end_time_unix_nano,
                        "attributes": {a.key: _value(a.value) for a in span.attributes},
                        "events": [
                            {"name": e.name, "attributes": {a.key: _value(a.value) for a in e.attributes}}
                            for e in span.events
                        ],
                        "scope": scope_spans.scope.name,
                        "resource": resource,
                    }
                )
    return spans


@dataclass
class Received:
    spans: list[dict[str, Any]] = field(default_factory=list)
    ingestion: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)  # names lowercased
    raw: list[bytes] = field(default_factory=list)  # decompressed request bodies
    lock: threading.Lock = field(default_factory=threading.Lock)

    def traces(self) -> dict[str, list[dict[str, Any]]]:
        with self.lock:
            grouped: dict[str, list[dict[str, Any]]] = {}
            for span in self.spans:
                grouped.setdefault(span["trace_id"], []).append(span)
            return grouped


class StandIn:
    """Start with ``start()`` (port 0 picks a free one); ``stop()``; ``start()`` again reuses
    the port, so a client configured once sees the backend go down and come back."""

    def __init__(self, port: int = 0, on_spans: Any = None) -> None:
        self.port = port
        self.received = Received()
        self.on_spans = on_spans
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.startswith("/api/public/health"):
                    self._reply(200, {"status": "OK"})
                else:
                    self._reply(404, {"message": "not found"})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                path = self.path.split("?")[0]
                received = standin.received
                if path in ("/api/public/otel/v1/traces", "/v1/traces"):
                    if "json" in (self.headers.get("content-type") or ""):
                        self._reply(415, {"message": "this stand-in decodes protobuf only"})
                        return
                    spans = decode_otlp(body)
                    with received.lock:
                        received.spans.extend(spans)
                        received.headers.append({k.lower(): v for k, v in self.headers.items()})
                        received.raw.append(body)
                    if standin.on_spans is not None:
                        standin.on_spans(spans)
                    self._reply(200, {})
                elif path == "/api/public/ingestion":
                    batch = json.loads(body or b"{}").get("batch") or []
                    with received.lock:
                        received.ingestion.extend(batch)
                        received.headers.append({k.lower(): v for k, v in self.headers.items()})
                        received.raw.append(body)
                    self._reply(
                        207, {"successes": [{"id": e.get("id"), "status": 201} for e in batch], "errors": []}
                    )
                else:
                    self._reply(404, {"message": "not found"})

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str]) -> None:
    def show(spans: list[dict[str, Any]]) -> None:
        for span in spans:
            if span["parent_id"] is None or span["attributes"].get("langfuse.observation.type") == "agent":
                print(json.dumps({"trace_id": span["trace_id"], "name": span["name"]}), flush=True)

    standin = StandIn(int(argv[0]) if argv else 0, on_spans=show).start()
    print(json.dumps({"url": standin.url}), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
