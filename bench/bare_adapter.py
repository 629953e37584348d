"""The bare app plus one route running the same graph through AgentDock's LangGraph adapter
(per-run callbacks: tool gate, usage), so the benchmark can tell the adapter's cost from the
serving stack's. ``uvicorn bench.bare_adapter:app``."""

from __future__ import annotations

from typing import Any

from agentdock.adapters import get_adapter
from agentdock.adapters.base import RunContext
from fastapi import Body

from bench.bare import app, graph

adapter = get_adapter("langgraph")
adapted = adapter.prepare(graph, {})


async def _allow(name: str, args: dict[str, Any]) -> None:
    return None


@app.post("/invoke-adapter")
async def invoke_adapter(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
    state = await adapter.invoke(adapted, payload, RunContext(trace_id="bench", on_tool_start=_allow))
    return {"summary": state["summary"]}
