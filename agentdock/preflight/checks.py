"""The preflight's checks of a started function, over the platform's transport: ``/health``,
``/schema`` with credentials, ``/invoke`` with a sample input, ``/stream`` when exposed, and the
LangGraph Server API for a LangGraph graph (``langgraph.py``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from agentdock.build import flavours as F
from agentdock.errors import PreflightFailed
from agentdock.preflight.auth import Credentials
from agentdock.preflight.langgraph import langgraph_checks, threads_in
from agentdock.preflight.samples import sample_input
from agentdock.preflight.transports import Transport
from agentdock.runtime.arguments import default_resume_window


def fail(check: str, cause: str, repro: str, log: list[str] | None = None) -> PreflightFailed:
    tail = ("\n" + "\n".join(log[-12:])) if log else ""
    return PreflightFailed(check, cause + tail, hint=f"reproduce: {repro}")


def resumable(raw: dict[str, Any], env: Mapping[str, str]) -> bool:
    """Whether the function keeps dropped /stream runs for a rejoin (the runtime's own default)."""
    default = default_resume_window(env)
    window = (raw.get("arguments") or {}).get("resume_window_sec", default)
    return isinstance(window, int | float) and window > 0


def check_resume(t: Transport, headers: Mapping[str, str], body: bytes, repro: str) -> str:
    """A reconnect after the last event of a finished stream must rejoin it and answer 204 (what
    stops an EventSource), never start the agent again."""
    ids = re.findall(rb"^id: (\S+)$", body, flags=re.M)
    if not ids:
        raise fail("/stream", f"POST /stream sent events without ids: {body[:300]!r}", repro)
    last = ids[-1].decode()
    status, _, answer = t.request("GET", "/stream", {**headers, "last-event-id": last})
    if status != 204:
        cause = f"a reconnect with Last-Event-ID {last} answered {status}, not 204: {answer[:300]!r}"
        raise fail("/stream resume", cause, repro)
    return "ok"


def run_checks(
    t: Transport, creds: Credentials, raw: dict[str, Any], env: Mapping[str, str], repro: str
) -> dict[str, Any]:
    spec = raw.get("expose") or {}
    streaming, rest = spec.get("streaming") == "sse", spec.get("rest", True)
    out: dict[str, Any] = {}
    status, _, body = t.request("GET", F.HEALTH_PATH, {})
    if status != 200:
        raise fail(F.HEALTH_PATH, f"GET /health answered {status}: {body[:200]!r}", repro)
    out["health"] = json.loads(body)
    denied = (401, 403) if not creds.strict else ()
    status, _, body = t.request("GET", "/schema", creds.headers)
    if status in denied:
        out |= {"schema": f"auth enforced ({status})", "auth": creds.how}
        return out
    if status != 200:
        raise fail("/schema", f"GET /schema answered {status} ({creds.how}): {body[:300]!r}", repro)
    schema = json.loads(body)
    payload = json.dumps(sample_input(schema.get("input_schema") or {})).encode()
    headers = {**creds.headers, "content-type": "application/json"}
    if rest:
        status, _, body = t.request("POST", "/invoke", headers, payload, timeout_s=60)
        if status != 200:
            raise fail("/invoke", f"POST /invoke answered {status} ({creds.how}): {body[:300]!r}", repro)
        out["invoke"] = "ok"
    if streaming:
        status, hdrs, body = t.request(
            "POST", "/stream", {**headers, "accept": "text/event-stream"}, payload, 60
        )
        if status != 200 or "text/event-stream" not in hdrs.get("content-type", "") or b"data:" not in body:
            raise fail(
                "/stream", f"POST /stream answered {status} {hdrs.get('content-type')}: {body[:300]!r}", repro
            )
        out["stream_events"] = body.count(b"\ndata:") + body.startswith(b"data:")
        if resumable(raw, env):
            out["stream_resume"] = check_resume(t, creds.headers, body, repro)
    agent = raw.get("agent") or {}
    if agent.get("framework") == "langgraph":
        checkpointer = str((raw.get("state") or {}).get("checkpointer") or "none")
        try:
            out["langgraph"] = langgraph_checks(
                t, creds.headers, str(agent.get("name")), checkpointer, json.loads(payload)
            )
        except PreflightFailed as exc:
            raise fail(exc.path, exc.cause, repro) from exc
        except (KeyError, TypeError, AttributeError) as exc:  # an answer without the API's shape
            raise fail("langgraph", f"an answer had an unexpected shape: {exc!r}", repro) from exc
        out["langgraph"]["threads_in"] = threads_in(raw, env)
    out["auth"] = creds.how
    return out
