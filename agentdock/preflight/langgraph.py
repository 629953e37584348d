"""The LangGraph Server API checks: what a ``langgraph_sdk`` client does first, over the
platform's transport, with the preflight's credentials.

* ``POST /assistants/search`` lists the agent (``assistant_id`` = the agent's name);
* when the Dockfile keeps threads (``state.checkpointer`` is not ``none``): ``POST /threads``,
  two ``runs/wait`` on it where the second run continues from the first run's checkpoint
  (its first checkpoint's parent is the first run's last one; with a message state, the
  second answer carries the first run's messages too), a ``runs/stream`` on the thread
  (``values`` + ``messages-tuple``, ending without an ``error`` event), then the thread is
  deleted again (a preflight leaves nothing in the function's store).

Raw HTTP on purpose: the function's contract is the wire format, and the operator's
environment need not have ``langgraph_sdk``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from agentdock.errors import PreflightFailed
from agentdock.preflight.transports import Transport
from agentdock.settings import ENV_STORE


def _call(t: Transport, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    status, _, raw = t.request(method, path, headers, data, timeout_s=60)
    if status == 204:
        return None
    if status != 200:
        raise PreflightFailed(f"langgraph {path}", f"{method} {path} answered {status}: {raw[:300]!r}")
    return json.loads(raw)


def sse_events(body: bytes) -> list[tuple[str, Any]]:
    """``(event, data)`` of an SSE body (comments and ids skipped; data parsed as JSON)."""
    out: list[tuple[str, Any]] = []
    for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        event, data = "message", []
        for line in block.decode(errors="replace").split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            text = "\n".join(data)
            try:
                out.append((event, json.loads(text)))
            except ValueError:
                out.append((event, text))
    return out


def _wait(t: Transport, headers: dict[str, str], thread: str, agent: str, sample: Any) -> dict[str, Any]:
    path = f"/threads/{thread}/runs/wait"
    values = _call(t, "POST", path, headers, {"assistant_id": agent, "input": sample})
    if isinstance(values, dict) and "__error__" in values:
        raise PreflightFailed(f"langgraph {path}", f"the run failed: {json.dumps(values['__error__'])[:300]}")
    state = _call(t, "GET", f"/threads/{thread}/state", headers)
    return {"values": values, "checkpoint_id": (state.get("checkpoint") or {}).get("checkpoint_id")}


def langgraph_checks(
    t: Transport, headers: dict[str, str], agent: str, checkpointer: str, sample: Any
) -> dict[str, Any]:
    """Run the checks above; returns what they saw (raises ``PreflightFailed`` naming the route)."""
    headers = {**headers, "content-type": "application/json"}
    found = _call(t, "POST", "/assistants/search", headers, {"limit": 10})
    if not any(isinstance(a, dict) and a.get("assistant_id") == agent for a in found or []):
        raise PreflightFailed("langgraph /assistants/search", f"no assistant {agent!r} in {found!r:.300}")
    out: dict[str, Any] = {"assistants": len(found), "checkpointer": checkpointer}
    if checkpointer == "none":
        return out
    thread = _call(t, "POST", "/threads", headers, {})["thread_id"]
    try:
        first = _wait(t, headers, thread, agent, sample)
        second = _wait(t, headers, thread, agent, sample)
        history = _call(t, "POST", f"/threads/{thread}/history", headers, {"limit": 100})
        if not any(h.get("parent_checkpoint_id") == first["checkpoint_id"] for h in history):
            raise PreflightFailed(
                "langgraph /threads/{id}/runs/wait",
                "the second run on the thread did not continue from the first run's checkpoint "
                f"({first['checkpoint_id']}): the thread's state was not kept",
                hint="check state.checkpointer and the store the function reads (AGENTDOCK_STORE)",
            )
        before, after = (
            r["values"].get("messages") if isinstance(r["values"], dict) else None for r in (first, second)
        )
        if isinstance(before, list) and isinstance(after, list) and len(after) <= len(before):
            raise PreflightFailed(
                "langgraph /threads/{id}/runs/wait",
                f"the second run's state has {len(after)} messages, the first had {len(before)}: "
                "the thread's messages were not kept",
            )
        out["thread_runs"] = 2
        out["checkpoints"] = len(history)
        if isinstance(after, list):
            out["messages"] = [len(before or []), len(after)]
        status, hdrs, body = t.request(
            "POST",
            f"/threads/{thread}/runs/stream",
            {**headers, "accept": "text/event-stream"},
            json.dumps(
                {"assistant_id": agent, "input": sample, "stream_mode": ["values", "messages-tuple"]}
            ).encode(),
            timeout_s=60,
        )
        events = sse_events(body)
        kinds = [e for e, _ in events]
        if status != 200 or "text/event-stream" not in hdrs.get("content-type", ""):
            raise PreflightFailed(
                "langgraph /threads/{id}/runs/stream",
                f"answered {status} {hdrs.get('content-type')}: {body[:300]!r}",
            )
        if not kinds or kinds[0] != "metadata" or "values" not in kinds or "error" in kinds:
            raise PreflightFailed(
                "langgraph /threads/{id}/runs/stream",
                f"events {kinds[:20]}: expected metadata first, values, no error; {body[-300:]!r}",
            )
        out["stream_events"] = {k: kinds.count(k) for k in dict.fromkeys(kinds)}
    finally:
        # the check's own failure matters more than a leftover preflight thread
        with contextlib.suppress(OSError, PreflightFailed):
            _call(t, "DELETE", f"/threads/{thread}", headers)
    return out


def threads_in(raw: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """Where the function keeps LangGraph threads (the runtime's ``checkpointer_url`` order, with
    the function's environment): ``none``, ``memory``, or the store URL's scheme."""
    state = raw.get("state") or {}
    checkpointer = str(state.get("checkpointer") or "none")
    if checkpointer in ("none", "memory"):
        return checkpointer
    url = state.get("url") or env.get(ENV_STORE) or (raw.get("deploy") or {}).get("store") or "memory://"
    return str(url).split("://", 1)[0].lower()
