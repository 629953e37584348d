"""The same ``langgraph_sdk`` calls against any LangGraph server, reduced to their shapes.

``sdk_calls(url, api_key, assistant)`` drives the review graph of ``lghelpers`` (draft ->
interrupt -> resume) through the sync client and returns what each call gave back;
``shape(value)`` keeps keys and JSON types only (ids, times and texts differ between servers);
``compare(ours, theirs)`` lists where the two servers' shapes differ. The conformance test runs
it against ``langgraph dev`` and against AgentDock; ``python tests/runtime/lgconformance.py
URL_A URL_B [API_KEY]`` does the same from a shell.
"""

from __future__ import annotations

import sys
from typing import Any

from langgraph_sdk import get_sync_client


def sdk_calls(url: str, api_key: str | None, assistant: str) -> dict[str, Any]:
    client = get_sync_client(url=url, api_key=api_key)
    out: dict[str, Any] = {}
    found = client.assistants.search(graph_id=assistant)
    out["assistants.search"] = found
    out["assistants.get"] = client.assistants.get(found[0]["assistant_id"])
    thread = client.threads.create(metadata={"purpose": "conformance"})
    tid = thread["thread_id"]
    out["threads.create"] = thread
    out["runs.wait(interrupt)"] = client.runs.wait(tid, assistant, input={"request": "INV-1"})
    out["threads.get(interrupted)"] = client.threads.get(tid)
    out["threads.get_state"] = client.threads.get_state(tid)
    resumed = [
        (p.event, p.data)
        for p in client.runs.stream(
            tid, assistant, command={"resume": "yes"}, stream_mode=["values", "updates"]
        )
    ]
    out["runs.stream(resume).events"] = [event for event, _ in resumed]
    out["runs.stream(resume).values"] = [data for event, data in resumed if event == "values"][-1]
    out["threads.get_history"] = client.threads.get_history(tid)[0]
    out["threads.search"] = client.threads.search(metadata={"purpose": "conformance"})[0]
    run = client.runs.create(tid, assistant, input={"request": "INV-2"})
    out["runs.create"] = run
    out["runs.join"] = client.runs.join(tid, run["run_id"])
    out["runs.get"] = client.runs.get(tid, run["run_id"])
    out["runs.list"] = client.runs.list(tid)[0]
    for mode in ("values", "updates", "debug", "custom"):
        parts = client.runs.stream(None, assistant, input={"request": "INV-3"}, stream_mode=mode)
        out[f"runs.stream[{mode}].events"] = sorted({p.event for p in parts})
    out["runs.wait(stateless)"] = client.runs.wait(None, assistant, input={"request": "INV-4"})
    client.threads.delete(tid)
    return out


IGNORED = frozenset({"langsmith_session_name"})  # LangSmith-only; not in langgraph_sdk.schema.Run
OPAQUE = frozenset({"metadata", "kwargs", "config", "context"})  # free-form: compared as "an object"


def _is_id(key: str) -> bool:
    return len(key) >= 32 and all(c in "0123456789abcdef-" for c in key)


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            "<id>" if _is_id(k) else k: "dict" if k in OPAQUE and isinstance(v, dict) else shape(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [shape(value[0])] if value and not isinstance(value[0], str) else ["str"] if value else []
    if value is None:
        return "null"
    return type(value).__name__


def compare(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Differences that matter to a client: a key or type the reference has that we lack or
    type differently (extra keys of ours are fine; ``null`` matches anything)."""
    diffs: list[str] = []
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{path}: expected an object, got {ours!r}"]
        for key, value in theirs.items():
            if key in IGNORED:
                continue
            if key not in ours:
                diffs.append(f"{path}.{key}: missing")
            else:
                diffs += compare(ours[key], value, f"{path}.{key}")
        return diffs
    if isinstance(theirs, list):
        if not isinstance(ours, list):
            return [f"{path}: expected a list, got {ours!r}"]
        if theirs and theirs[0] == "str" or not theirs or not ours:
            return (
                []
                if ours == theirs or not theirs or ours and ours[0] == theirs[0]
                else [f"{path}: {ours} != {theirs}"]
            )
        return compare(ours[0], theirs[0], f"{path}[0]")
    if theirs == "null" or ours == "null" or ours == theirs:
        return []
    return [f"{path}: {ours} != {theirs}"]


if __name__ == "__main__":  # python tests/runtime/lgconformance.py OURS_URL REFERENCE_URL [KEY]
    key = sys.argv[3] if len(sys.argv) > 3 else None
    ours = shape(sdk_calls(sys.argv[1], key, "review_agent"))
    theirs = shape(sdk_calls(sys.argv[2], None, "review_agent"))
    problems = compare(ours, theirs)
    print("\n".join(problems) or "same shapes")
    sys.exit(1 if problems else 0)
