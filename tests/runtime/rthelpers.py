"""Helpers for the runtime tests: specs, API keys, a scripted adapter double, app runners.

A uniquely named module (not ``conftest``) so test files can import it whatever other test
folders run in the same session.

The scripted adapter (``ScriptAdapter`` + ``ScriptAgent``) lets a test say exactly what the
agent does (tokens and their pacing, a tool call, a failure, a slow run) without a model.
Security and policy are the real ``agentdock.security`` / ``agentdock.policy`` stages, with
API keys held in memory.
"""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from agentdock.adapters.base import Event, RunContext
from fastapi import FastAPI

from agentdock.policy import build_policy
from agentdock.runtime.app import create_app
from agentdock.runtime.components import Components
from agentdock.security import InMemoryKeyResolver, build_authenticator, build_authorizer, build_rate_limiter
from agentdock.security.apikeys import generate_api_key
from agentdock.spec.models import DockSpec
from agentdock.store.base import APIKeyRecord

AGENT = "test_agent"


def spec_dict(**overrides: Any) -> dict[str, Any]:
    """A valid Dockfile as data; ``overrides`` replace top-level sections (deep-merged)."""
    base: dict[str, Any] = {
        "version": "1.0",
        "agent": {
            "name": AGENT,
            "entrypoint": "agent:build",
            "framework": "callable",
            "description": "A test agent.",
        },
        "model": {"provider": "openai", "name": "gpt-4o-mini"},
        "io_schema": {
            "input": {
                "type": "object",
                "properties": {
                    "text": {"type": "string", "description": "The text.", "maxLength": 500},
                    "mode": {"type": "string", "enum": ["short", "long"]},
                },
                "required": ["text"],
            },
            "output": {
                "type": "object",
                "properties": {"summary": {"type": "string", "description": "The summary."}},
                "required": ["summary"],
            },
        },
        "arguments": {"timeout_sec": 5, "heartbeat_sec": 15},
        "policies": {"tools": {"allowed": ["lookup"], "deny_by_default": True}},
        "auth": {"mode": "api_key", "api_keys": {"enabled": True}},
        "expose": {"rest": True, "streaming": "sse"},
    }
    return _merge(base, overrides)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def make_spec(**overrides: Any) -> DockSpec:
    return DockSpec.model_validate(spec_dict(**overrides))


@dataclass
class Keys:
    """One API key per default role, and the resolver that knows them."""

    admin: str
    developer: str
    viewer: str
    resolver: InMemoryKeyResolver

    def headers(self, role: str = "developer") -> dict[str, str]:
        return {"x-api-key": getattr(self, role)}


def make_keys(agent: str = AGENT) -> Keys:
    made = {role: generate_api_key(pepper="") for role in ("admin", "developer", "viewer")}
    records = [
        APIKeyRecord(
            key_id=k.key_id, agent=agent, role=role, key_hash=k.key_hash, created_at=datetime.now(UTC)
        )
        for role, k in made.items()
    ]
    return Keys(made["admin"].key, made["developer"].key, made["viewer"].key, InMemoryKeyResolver(records))


def components_for(spec: DockSpec, keys: Keys) -> Components:
    return Components(
        authenticator=build_authenticator(spec, key_resolver=keys.resolver),
        authorizer=build_authorizer(spec),
        rate_limiter=build_rate_limiter(spec),
        policy=build_policy(spec),
    )


# --- the scripted adapter double --------------------------------------------------------


@dataclass
class ScriptAgent:
    """What the agent does: stream ``tokens`` ``delay_s`` apart, maybe call ``tool`` first,
    maybe fail (``raises``; the first ``fail_times`` calls only), then return ``output``
    (default: the joined tokens as ``summary``)."""

    tokens: list[str] = field(default_factory=lambda: ["Hello ", "world"])
    delay_s: float = 0.0
    tool: str | None = None
    raises: BaseException | None = None
    fail_times: int | None = None
    output: Any = None
    usage: tuple[int, int] = (7, 3)
    tool_output: Any = None  # with ``tool``: stream tool_start/tool_end events carrying this output
    calls: int = 0
    cancelled: int = 0
    finished: int = 0
    inputs: list[dict[str, Any]] = field(default_factory=list)

    def result(self) -> Any:
        return self.output if self.output is not None else {"summary": "".join(self.tokens)}

    async def _begin(self, data: dict[str, Any], ctx: RunContext) -> None:
        self.calls += 1
        self.inputs.append(data)
        if self.tool is not None and ctx.on_tool_start is not None:
            await ctx.on_tool_start(self.tool, {"q": data.get("text")})
        if self.raises is not None and (self.fail_times is None or self.calls <= self.fail_times):
            raise self.raises
        ctx.usage["input_tokens"] += self.usage[0]
        ctx.usage["output_tokens"] += self.usage[1]

    async def invoke(self, data: dict[str, Any], ctx: RunContext) -> Any:
        try:
            await self._begin(data, ctx)
            for _ in self.tokens:
                await asyncio.sleep(self.delay_s)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.finished += 1
        return self.result()

    async def stream(self, data: dict[str, Any], ctx: RunContext) -> AsyncIterator[Event]:
        try:
            yield Event("start", {"run_id": "r1"})
            await self._begin(data, ctx)
            if self.tool is not None and self.tool_output is not None:
                yield Event("tool_start", {"name": self.tool, "args": {"q": data.get("text")}})
                yield Event("tool_end", {"name": self.tool, "output": self.tool_output})
            yield Event("update", {"node": "model", "keys": ["summary"]})
            for token in self.tokens:
                await asyncio.sleep(self.delay_s)
                yield Event("token", {"text": token})
        except (asyncio.CancelledError, GeneratorExit):
            self.cancelled += 1
            raise
        self.finished += 1
        yield Event("usage", {"input_tokens": self.usage[0], "output_tokens": self.usage[1]})
        yield Event("end", {"output": self.result()})


class ScriptAdapter:
    """Implements adapters.base.Adapter over a ScriptAgent."""

    name = "script"

    def __init__(self, agent: ScriptAgent | None = None) -> None:
        self.agent = agent or ScriptAgent()
        self.loads = 0

    def load(self, entrypoint: str, config: dict[str, Any]) -> Any:
        self.loads += 1
        return self.agent

    async def invoke(self, agent: Any, input: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
        result: dict[str, Any] = await agent.invoke(input, ctx)
        return result

    def stream(self, agent: Any, input: dict[str, Any], ctx: RunContext) -> AsyncIterator[Event]:
        return agent.stream(input, ctx)  # type: ignore[no-any-return]


@dataclass
class Built:
    app: FastAPI
    agent: ScriptAgent
    adapter: ScriptAdapter
    logs: list[str]
    keys: Keys
    spec: DockSpec


def build(spec: DockSpec | None = None, agent: ScriptAgent | None = None, keys: Keys | None = None) -> Built:
    spec = spec or make_spec()
    keys = keys or make_keys(spec.agent.name)
    adapter = ScriptAdapter(agent)
    logs: list[str] = []
    app = create_app(spec, components=components_for(spec, keys), adapter=adapter, log_sink=logs.append)
    return Built(app, adapter.agent, adapter, logs, keys, spec)


def post_scope(path: str, api_key: str) -> dict[str, Any]:
    """The ASGI scope of an authenticated JSON POST, for tests that drive the app's ``receive`` and
    ``send`` themselves (a client that stalls, a socket that never drains)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"x-api-key", api_key.encode()), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


@asynccontextmanager
async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """In-process client with the app's lifespan run around it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agent.test") as client:
            yield client


# --- a real server ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 (a free port) in a thread; yield the base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(10)
