"""The baseline server: the plainest FastAPI app calling the same graph (no auth, no policy,
no validation beyond "a JSON object", no metrics). ``uvicorn bench.bare:app``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Body, FastAPI
from fastapi.responses import StreamingResponse

from bench.graph import build_graph

graph = build_graph()
app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/invoke")
async def invoke(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
    state = await graph.ainvoke(payload)
    return {"summary": state["summary"]}


@app.post("/stream")
async def stream(payload: dict[str, Any] = Body(...)) -> StreamingResponse:
    async def events() -> AsyncIterator[str]:
        async for chunk, _meta in graph.astream(payload, stream_mode="messages"):
            if chunk.content:
                yield f"event: token\ndata: {json.dumps({'text': chunk.content})}\n\n"
        yield "event: end\ndata: {}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
