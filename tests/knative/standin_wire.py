"""The wire side of the API stand-in (``standin.py``): request parsing, Kubernetes ``Status`` errors,
JSON merge patches, watch event lines, and the small records the server keeps."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import WSGIRequestHandler

KSVC = ("serving.knative.dev/v1", "services")
KREV = ("serving.knative.dev/v1", "revisions")
SECRETS = ("v1", "secrets")
Start = Callable[[str, list[tuple[str, str]]], Any]


class Reject(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


@dataclass
class Fault:
    method: str
    plural: str
    status: int = 500
    count: int = 1
    after: int = 0  # let this many matching requests through first


@dataclass
class State:
    objects: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)
    events: list[tuple[int, str, tuple[str, str], str, dict[str, Any]]] = field(default_factory=list)
    rv: int = 100
    modes: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # revision -> (mode, reason, msg)
    faults: list[Fault] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)  # every Service body received
    invalid: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)


class Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


def parse(path: str) -> tuple[tuple[str, str], str, str | None]:
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"] and len(parts) >= 4 and parts[2] == "namespaces":
        group, rest = "v1", parts[3:]
    elif parts[:1] == ["apis"] and len(parts) >= 6 and parts[3] == "namespaces":
        group, rest = f"{parts[1]}/{parts[2]}", parts[4:]
    else:
        raise Reject(404, "NotFound", f"the server could not find the requested resource ({path})")
    ns, plural = rest[0], rest[1] if len(rest) > 1 else ""
    kind = (group, plural)
    if kind not in (KSVC, KREV, SECRETS):
        raise Reject(404, "NotFound", f"the server does not serve {group} {plural}")
    return kind, ns, rest[2] if len(rest) > 2 else None


def field_name(query: dict[str, str]) -> str | None:
    selector = query.get("fieldSelector") or ""
    return selector.split("=", 1)[1] if selector.startswith("metadata.name=") else None


def read_json(environ: dict[str, Any]) -> Any:
    size = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(size) if size else b""
    try:
        return json.loads(raw or b"null")
    except ValueError as exc:
        raise Reject(400, "BadRequest", f"body is not JSON: {exc}") from None


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (lists replace; null deletes)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def cond(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
    cond = {"type": kind, "status": status, "lastTransitionTime": "2026-12-05T00:00:00Z"}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def status_body(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def line(event: str, obj: dict[str, Any]) -> bytes:
    return (json.dumps({"type": event, "object": obj}) + "\n").encode()


def json_response(start: Start, code: int, obj: Any) -> list[bytes]:
    data = json.dumps(obj).encode()
    phrase = {
        200: "OK",
        201: "Created",
        400: "Bad Request",
        404: "Not Found",
        409: "Conflict",
        415: "Unsupported Media Type",
        422: "Unprocessable Entity",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }.get(code, "Error")
    start(f"{code} {phrase}", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
