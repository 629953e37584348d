"""Threads kept in the checkpointer itself: no second table, one backend.

A thread is its checkpoint history. ``create`` writes a root checkpoint whose metadata holds
the owner, the creation time and the thread's metadata; every run on the thread carries the
same three values in its config metadata, which LangGraph copies into each checkpoint it
writes (scalar values only, hence the metadata travels as a JSON string). So the newest
checkpoint of a thread answers "whose is it" in one read, on every saver.

Ownership: the owner is ``<kind>:<id>`` of the principal that created the thread (an API key
id or a JWT ``sub``). Anyone else gets 404, as if the thread did not exist, except admins
(principals holding ``key_manage``), who can read and manage every thread.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple, empty_checkpoint

from agentdock.errors import Conflict, NotFound
from agentdock.runtime.langgraph_api.wire import now_iso

if TYPE_CHECKING:  # annotations only (the protocols' module moves on main: agentdock.stages)
    from agentdock.stages import Principal

OWNER = "agentdock_owner"
CREATED = "agentdock_created_at"
META = "agentdock_thread_metadata"
ROOT = "agentdock_root"


def root_config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}


class ThreadStore:
    def __init__(self, saver: BaseCheckpointSaver[Any]) -> None:
        self.saver = saver

    async def latest(self, thread_id: str) -> CheckpointTuple | None:
        return await self.saver.aget_tuple(root_config(thread_id))  # type: ignore[arg-type]

    async def create(
        self, thread_id: str, principal: Principal, metadata: dict[str, Any], if_exists: str | None
    ) -> CheckpointTuple:
        found = await self.latest(thread_id)
        if found is not None:
            self.check_owner(found, principal, thread_id)
            if if_exists == "do_nothing":
                return found
            raise Conflict(
                f"thread {thread_id} already exists", path="thread_id", hint="use if_exists='do_nothing'"
            )
        meta = {
            "source": "input",
            "step": -1,
            "parents": {},
            OWNER: principal.owner,
            CREATED: now_iso(),
            META: json.dumps(metadata, separators=(",", ":")),
            ROOT: True,
        }
        await self.saver.aput(root_config(thread_id), empty_checkpoint(), meta, {})  # type: ignore[arg-type]
        created = await self.latest(thread_id)
        assert created is not None
        return created

    def check_owner(
        self, found: CheckpointTuple | None, principal: Principal, thread_id: str
    ) -> CheckpointTuple:
        """The thread's newest checkpoint, or 404 when it does not exist or is someone else's."""
        if found is None or (found.metadata.get(OWNER) != principal.owner and not principal.sees_all):
            raise NotFound(f"thread {thread_id} not found", path="thread_id")
        return found

    async def owned(self, thread_id: str, principal: Principal) -> CheckpointTuple:
        return self.check_owner(await self.latest(thread_id), principal, thread_id)

    async def search(self, principal: Principal, metadata: dict[str, Any] | None) -> list[CheckpointTuple]:
        """Newest checkpoint of each visible thread whose metadata contains ``metadata``."""
        flt = None if principal.sees_all else {OWNER: principal.owner}
        newest: dict[str, CheckpointTuple] = {}
        async for tup in self.saver.alist(None, filter=flt):
            conf = tup.config["configurable"]
            if conf.get("checkpoint_ns"):
                continue
            tid = conf["thread_id"]
            seen = newest.get(tid)
            if seen is None or tup.checkpoint["id"] > seen.checkpoint["id"]:
                newest[tid] = tup
        wanted = (metadata or {}).items()
        rows = [t for t in newest.values() if all(thread_metadata(t).get(k) == v for k, v in wanted)]
        rows.sort(key=lambda t: t.checkpoint["id"], reverse=True)
        return rows

    async def delete(self, thread_id: str) -> None:
        await self.saver.adelete_thread(thread_id)


def thread_metadata(tup: CheckpointTuple) -> dict[str, Any]:
    raw = tup.metadata.get(META)
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        parsed = {}
    return parsed if isinstance(parsed, dict) else {}


def run_metadata(tup: CheckpointTuple) -> dict[str, Any]:
    """What every run on the thread puts in its config metadata (copied into its checkpoints)."""
    metadata: dict[str, Any] = dict(tup.metadata)
    return {key: metadata[key] for key in (OWNER, CREATED, META) if key in metadata}
