"""The serving stack alone: CPU per request with an agent that answers instantly, in process.

No network and no graph, so what is left is exactly what AgentDock adds around an agent (auth,
rate limit, policies, validation, metrics, the log line, security headers) next to the plainest
FastAPI route. CPU time (``time.process_time``) over batches, median of the batches: stable on a
busy machine where wall-clock throughput is not.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from fastapi import Body, FastAPI

from bench.graph import INPUT, REPLY

INSTANT_AGENT = f'async def answer(data):\n    return {{"summary": {REPLY!r}}}\n'


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }


async def _call(app: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    status = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope("/invoke", headers), receive, send)
    return status


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/invoke")
    async def invoke(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
        return {"summary": REPLY}

    return app


def agentdock_app(spec: dict[str, Any], folder: Path) -> Any:
    from agentdock.runtime.app import app_from_frozen

    (folder / "instant_agent.py").write_text(INSTANT_AGENT, encoding="utf-8")
    instant = json.loads(json.dumps(spec))
    instant["agent"].update({"entrypoint": "instant_agent:answer", "framework": "callable"})
    (folder / "spec-instant.json").write_text(json.dumps(instant), encoding="utf-8")
    app = app_from_frozen(folder / "spec-instant.json")
    app.state.runtime.host.load()
    app.state.runtime.host.log.sink = lambda line: None  # the line is still built, not written
    return app


def measure(
    spec: dict[str, Any], folder: Path, key: str, *, batches: int = 7, per_batch: int = 2000
) -> dict[str, Any]:
    body = json.dumps(INPUT).encode()
    common = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    variants = {
        "bare_fastapi": (bare_app(), common),
        "agentdock": (agentdock_app(spec, folder), [(b"x-api-key", key.encode()), *common]),
    }

    async def run() -> dict[str, list[float]]:
        for app, headers in variants.values():
            for _ in range(300):
                assert await _call(app, headers, body) == 200
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(batches):
            for name, (app, headers) in variants.items():
                started = time.process_time()
                for _ in range(per_batch):
                    await _call(app, headers, body)
                samples[name].append((time.process_time() - started) / per_batch * 1e6)
        return samples

    medians = {name: round(statistics.median(values), 1) for name, values in asyncio.run(run()).items()}
    return {
        "bare_fastapi_us": medians["bare_fastapi"],
        "agentdock_us": medians["agentdock"],
        "added_us": round(medians["agentdock"] - medians["bare_fastapi"], 1),
    }
