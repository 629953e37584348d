"""Helpers for the LangGraph API tests: served agents, keys per principal, a graph with interrupt().

A uniquely named module (see ``rthelpers.py`` for why). Servers are real uvicorn on 127.0.0.1
(``rthelpers.serve``); security and policy are the real stages, with API keys held in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

from fastapi import FastAPI
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from rthelpers import make_spec, serve

from agentdock.policy import build_policy
from agentdock.runtime.app import create_app
from agentdock.runtime.components import Components
from agentdock.security import InMemoryKeyResolver, build_authenticator, build_authorizer, build_rate_limiter
from agentdock.security.apikeys import generate_api_key
from agentdock.spec import load_dockfile
from agentdock.spec.models import DockSpec, State
from agentdock.store.base import APIKeyRecord

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
INVOICE_ENV = {"JWT_SECRET": "s" * 32, "LANGFUSE_PUBLIC_KEY": "pk-test", "LANGFUSE_SECRET_KEY": "sk-test"}


@dataclass
class Served:
    url: str
    keys: dict[str, str]  # principal name -> API key (alice, bob: developers; root: admin)
    spec: DockSpec


def principal_keys(agent: str) -> tuple[dict[str, str], InMemoryKeyResolver]:
    roles = {"alice": "developer", "bob": "developer", "root": "admin", "vera": "viewer"}
    made = {name: generate_api_key(pepper="") for name in roles}
    records = [
        APIKeyRecord(
            key_id=k.key_id, agent=agent, role=roles[n], key_hash=k.key_hash, created_at=datetime.now(UTC)
        )
        for n, k in made.items()
    ]
    return {n: k.key for n, k in made.items()}, InMemoryKeyResolver(records)


def with_state(spec: DockSpec, checkpointer: str, url: str | None = None) -> DockSpec:
    return spec.model_copy(update={"state": State(checkpointer=checkpointer, url=url)})  # type: ignore[arg-type]


def invoice_spec(checkpointer: str = "memory", url: str | None = None) -> tuple[DockSpec, Path]:
    loaded = load_dockfile(EXAMPLES / "invoice_copilot" / "Dockfile.yaml", env=INVOICE_ENV)
    return with_state(loaded.spec, checkpointer, url), loaded.base_dir


def app_for(
    spec: DockSpec,
    base_dir: Path | str = ".",
    agent: Any = None,
    principals: tuple[dict[str, str], InMemoryKeyResolver] | None = None,
) -> tuple[FastAPI, dict[str, str]]:
    """The runtime app with the real security and policy stages, and the principals' keys."""
    keys, resolver = principals or principal_keys(spec.agent.name)
    components = Components(
        authenticator=build_authenticator(spec, key_resolver=resolver),
        authorizer=build_authorizer(spec),
        rate_limiter=build_rate_limiter(spec),
        policy=build_policy(spec),
    )
    app = create_app(spec, base_dir=base_dir, components=components, agent=agent, log_sink=lambda line: None)
    return app, keys


@contextmanager
def serve_agent(
    spec: DockSpec,
    base_dir: Path | str = ".",
    agent: Any = None,
    principals: tuple[dict[str, str], InMemoryKeyResolver] | None = None,
) -> Iterator[Served]:
    """Serve under uvicorn; ``principals`` (from ``principal_keys``) lets two servers share keys."""
    app, keys = app_for(spec, base_dir, agent, principals)
    with serve(app) as url:
        yield Served(url, keys, spec)


# --- a graph that asks a human (interrupt) ---------------------------------------------------


class ReviewState(TypedDict, total=False):
    request: str
    draft: str
    approved: bool


async def _draft(state: ReviewState) -> ReviewState:
    """Reports progress on the ``custom`` stream; a request starting with "slow" takes 0.2 s per step."""
    write = get_stream_writer()
    steps = 8 if state["request"].startswith("slow") else 1
    for step in range(steps):
        write({"progress": step + 1, "of": steps})
        if steps > 1:
            await asyncio.sleep(0.2)
    return {"draft": f"refund for {state['request']}"}


def _review(state: ReviewState) -> ReviewState:
    answer = interrupt({"question": "approve this draft?", "draft": state["draft"]})
    return {"approved": answer == "yes"}


def review_graph() -> Any:
    graph = StateGraph(ReviewState)
    graph.add_node("draft", _draft)
    graph.add_node("review", _review)
    graph.add_edge(START, "draft")
    graph.add_edge("draft", "review")
    graph.add_edge("review", END)
    return graph.compile(name="review_agent")


def review_spec(checkpointer: str = "memory", url: str | None = None) -> DockSpec:
    spec = make_spec(
        agent={"name": "review_agent", "entrypoint": "agent:build", "framework": "langgraph"},
        io_schema={
            "input": {
                "type": "object",
                "properties": {"request": {"type": "string"}},
                "required": ["request"],
            },
            "output": {"type": "object", "properties": {"approved": {"type": "boolean"}}},
        },
    )
    return with_state(spec, checkpointer, url)
