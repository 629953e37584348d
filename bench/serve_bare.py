"""Baseline for ``bench.serve``: the same agent+tool graph behind the plainest FastAPI route.
``uvicorn bench.serve_bare:app``."""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI

from bench.tools_graph import build_graph

graph = build_graph()
app = FastAPI()


@app.post("/invoke")
async def invoke(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
    state = await graph.ainvoke(payload)
    return {"summary": state["summary"]}
