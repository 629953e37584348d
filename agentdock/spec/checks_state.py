"""The ``state`` block (thread state for the LangGraph API): refusals and warnings.

Errors (4002, at ``state.*``): threads asked of a non-LangGraph agent; a checkpointer URL
(``state.url``, else ``deploy.store``) with an unknown scheme (memory, SQLite, Postgres and
DynamoDB are covered). Warnings (4010): on Lambda a background run (``runs.create`` without
wait or stream) cannot outlive the response that started it, and threads on a DynamoDB
``state.url`` other than ``deploy.store`` get no IAM grant from AgentDock; ``memory`` threads
live in one instance only.
"""

from __future__ import annotations

from collections.abc import Iterator

from agentdock.errors import DockfileError, ExposureError, InvalidSchemaError
from agentdock.spec.context import Check, Context


def check_state(ctx: Context) -> Iterator[DockfileError]:
    spec = ctx.spec
    state = spec.state
    if state.checkpointer == "none":
        return
    if spec.agent.framework != "langgraph":
        yield InvalidSchemaError(
            "state.checkpointer",
            f"threads need a LangGraph graph; agent.framework is {spec.agent.framework!r}",
            hint="remove the state block, or serve a LangGraph graph",
        )
        return
    if state.checkpointer != "store":
        return
    path, url = (
        ("state.url", state.url)
        if state.url
        else ("deploy.store", spec.deploy.store if spec.deploy else None)
    )
    if url is None or not ctx.known(path):
        return
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ("sqlite", "postgresql", "postgres", "memory", "dynamodb"):
        yield InvalidSchemaError(
            path,
            f"no checkpointer for {scheme or url!r}",
            hint="use sqlite:///path, postgresql://... or dynamodb://TABLE?region=...",
        )


def lint_state(ctx: Context) -> Iterator[DockfileError]:
    spec = ctx.spec
    if spec.state.checkpointer == "none" or spec.deploy is None:
        return
    if spec.deploy.lambda_ is not None:
        yield ExposureError(
            "state.checkpointer",
            "on Lambda a background run (runs.create without wait/stream) stops when its response ends",
            hint="use runs.wait or runs.stream (they hold the response open), or deploy to knative/cloudrun",
        )
    url = spec.state.url or ""
    if (
        spec.deploy.lambda_ is not None
        and spec.state.checkpointer == "store"
        and url.startswith("dynamodb://")
    ):
        yield ExposureError(
            "state.url",
            "threads on a DynamoDB table named by state.url: the role AgentDock creates grants thread "
            "writes on deploy.store's table only",
            hint="drop state.url (threads then live in deploy.store's table), or grant the function "
            "role PutItem/DeleteItem/BatchWriteItem on that table's THREAD#* keys",
        )
    if spec.state.checkpointer == "memory" and (
        spec.deploy.lambda_ or spec.deploy.knative or spec.deploy.cloudrun
    ):
        yield ExposureError(
            "state.checkpointer",
            "memory threads live in one instance: another instance (or a cold start) does not see them",
            hint="state: {checkpointer: store} (threads in deploy.store: DynamoDB, Postgres or SQLite)",
        )


STATE_CHECKS: tuple[Check, ...] = (check_state,)
