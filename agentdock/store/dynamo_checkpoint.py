"""``AsyncDynamoDBSaver``: LangGraph checkpoints in the metadata store's own DynamoDB table.

No maintained saver fits (``langgraph-checkpoint-aws``'s ``DynamoDBSaver`` wants its own table
layout and cannot list checkpoints across threads, which the thread search needs), so this one
keeps thread items in the SAME single table under the ``THREAD#`` partition-key prefix: no new
table, and the function's IAM grant is one more ``LeadingKeys`` pattern (``store/dynamo_policy``).

==================  ====================  ===========================================  ==========  ==============================
item                PK                    SK                                           GSI1PK      GSI1SK
==================  ====================  ===========================================  ==========  ==============================
checkpoint          ``THREAD#<thread>``   ``CK#<ns>#<checkpoint_id>``                  ``CKPT``    ``<checkpoint_id>#<thread>``
pending write       ``THREAD#<thread>``   ``WR#<ns>#<checkpoint_id>#<task>#<idx>``
==================  ====================  ===========================================  ==========  ==============================

``<ns>`` is percent-quoted (no ``#`` inside a key part). Checkpoint ids are time-ordered (uuid6),
so ``SK`` order is checkpoint order and ``GSI1`` lists every checkpoint newest first (the
cross-thread listing ``alist(None)``; eventually consistent, as GSIs are). Checkpoint and
metadata are serialised with the saver's ``serde``; metadata filters apply after the read.
An item is at most 400 KB (DynamoDB's limit): a bigger checkpoint or write is refused with
``CheckpointTooLarge`` before the call. The core is synchronous boto3; the async API runs it in
a worker thread (the event loop never blocks).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_serializable_checkpoint_metadata,
)

from agentdock.errors import CheckpointTooLarge
from agentdock.store.dynamo_items import DynamoIO

THREAD_PREFIX = "THREAD#"  # the leading key of every thread item (IAM LeadingKeys: "THREAD#*")
ALL_CHECKPOINTS = "CKPT"  # GSI1PK of every checkpoint: the cross-thread listing
MAX_ITEM_BYTES = 400 * 1024
_BATCH = 25  # BatchWriteItem's maximum


def _pk(thread_id: str) -> str:
    return f"{THREAD_PREFIX}{thread_id}"


def _ns(ns: str) -> str:
    return quote(ns, safe="")


def _ck_prefix(ns: str | None) -> str:
    return "CK#" if ns is None else f"CK#{_ns(ns)}#"


def _wr_prefix(ns: str, checkpoint_id: str) -> str:
    return f"WR#{_ns(ns)}#{checkpoint_id}#"


def _item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (UTF-8 text, raw bytes, ~numbers)."""
    size = 0
    for name, value in item.items():
        if value is None:
            continue  # not stored
        size += len(name.encode())
        size += len(value) if isinstance(value, bytes) else len(str(value).encode())
    return size


class AsyncDynamoDBSaver(BaseCheckpointSaver[int]):
    """A LangGraph checkpointer on the agentdock metadata table (``dynamodb://TABLE``)."""

    def __init__(self, io: DynamoIO) -> None:
        super().__init__()
        self.io = io

    # --- items ------------------------------------------------------------------------------
    def _checked_put(self, item: dict[str, Any], what: str, *, condition: str | None = None) -> bool:
        size = _item_size(item)
        if size > MAX_ITEM_BYTES:
            raise CheckpointTooLarge(
                what,
                f"a DynamoDB item is at most 400 KB; this {what} serialises to {size // 1024} KB",
                hint="keep large data out of graph state (store it elsewhere and keep a reference), "
                "or set state.url to a postgresql:// or sqlite:/// URL",
            )
        return self.io.put(item, condition=condition)

    def _writes(self, thread_id: str, ns: str, checkpoint_id: str) -> list[tuple[str, str, Any]]:
        items = self.io.query_prefix(_pk(thread_id), _wr_prefix(ns, checkpoint_id))
        items.sort(key=lambda i: (i.get("task_path", ""), i["task_id"], int(i["idx"])))
        return [
            (i["task_id"], i["channel"], self.serde.loads_typed((i["type"], bytes(i["value"].value))))
            for i in items
        ]

    def _metadata(self, item: dict[str, Any]) -> CheckpointMetadata:
        metadata: CheckpointMetadata = self.serde.loads_typed(
            (item["metadata_type"], bytes(item["metadata"].value))
        )
        return metadata

    def _tuple(self, item: dict[str, Any]) -> CheckpointTuple:
        thread_id, ns, checkpoint_id = item["thread_id"], item.get("checkpoint_ns", ""), item["checkpoint_id"]
        parent = item.get("parent_checkpoint_id")
        return CheckpointTuple(
            config={
                "configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint_id}
            },
            checkpoint=self.serde.loads_typed((item["type"], bytes(item["checkpoint"].value))),
            metadata=self._metadata(item),
            parent_config=(
                {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": parent}}
                if parent
                else None
            ),
            pending_writes=self._writes(thread_id, ns, checkpoint_id),
        )

    # --- sync API (the core) ----------------------------------------------------------------
    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        conf = config["configurable"]
        thread_id, ns = str(conf["thread_id"]), str(conf.get("checkpoint_ns", ""))
        checkpoint_id = get_checkpoint_id(config)
        if checkpoint_id:
            item = self.io.get({"PK": _pk(thread_id), "SK": f"{_ck_prefix(ns)}{checkpoint_id}"})
        else:
            newest = self.io.query_prefix(_pk(thread_id), _ck_prefix(ns), newest_first=True, limit=1)
            item = newest[0] if newest else None
        return None if item is None else self._tuple(item)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        conf = (config or {}).get("configurable") or {}
        before_id = get_checkpoint_id(before) if before else None
        wanted_id = conf.get("checkpoint_id")
        ns = conf.get("checkpoint_ns")
        # Without post-read filters the query itself can stop at ``limit``.
        head = limit if not (filter or before_id or wanted_id) else None
        if "thread_id" in conf:
            prefix = _ck_prefix(None if ns is None else str(ns))
            items = self.io.query_prefix(_pk(str(conf["thread_id"])), prefix, newest_first=True, limit=head)
        else:
            head = head if ns is None else None
            items = self.io.query_index(ALL_CHECKPOINTS, newest_first=True, limit=head)
        count = 0
        for item in items:
            checkpoint_id = item["checkpoint_id"]
            if (wanted_id and checkpoint_id != wanted_id) or (before_id and checkpoint_id >= before_id):
                continue
            if ns is not None and item.get("checkpoint_ns", "") != ns:
                continue
            if filter:  # metadata first: pending writes are read only for the rows kept
                metadata = self._metadata(item)
                if not all(metadata.get(k) == v for k, v in filter.items()):
                    continue
            yield self._tuple(item)
            count += 1
            if limit is not None and count >= limit:
                return

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        conf = config["configurable"]
        thread_id, ns = str(conf["thread_id"]), str(conf.get("checkpoint_ns", ""))
        kind, blob = self.serde.dumps_typed(checkpoint)
        meta_kind, meta_blob = self.serde.dumps_typed(get_serializable_checkpoint_metadata(config, metadata))
        item = {
            "PK": _pk(thread_id),
            "SK": f"{_ck_prefix(ns)}{checkpoint['id']}",
            "GSI1PK": ALL_CHECKPOINTS,
            "GSI1SK": f"{checkpoint['id']}#{thread_id}",
            "thread_id": thread_id,
            "checkpoint_ns": ns,
            "checkpoint_id": checkpoint["id"],
            "parent_checkpoint_id": conf.get("checkpoint_id"),
            "type": kind,
            "checkpoint": blob,
            "metadata_type": meta_kind,
            "metadata": meta_blob,
        }
        self._checked_put(item, "checkpoint")
        return {
            "configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint["id"]}
        }

    def put_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        conf = config["configurable"]
        thread_id, ns, checkpoint_id = (
            str(conf["thread_id"]),
            str(conf.get("checkpoint_ns", "")),
            conf["checkpoint_id"],
        )
        # Special writes (error, interrupt, ...) replace the previous one; regular writes are kept
        # as first written (a retried task does not overwrite them), as LangGraph's savers do.
        replace = all(channel in WRITES_IDX_MAP for channel, _ in writes)
        for idx, (channel, value) in enumerate(writes):
            index = WRITES_IDX_MAP.get(channel, idx)
            kind, blob = self.serde.dumps_typed(value)
            item = {
                "PK": _pk(thread_id),
                "SK": f"{_wr_prefix(ns, checkpoint_id)}{task_id}#{index}",
                "task_id": task_id,
                "task_path": task_path,
                "idx": index,
                "channel": channel,
                "type": kind,
                "value": blob,
            }
            self._checked_put(
                item, "pending write", condition=None if replace else "attribute_not_exists(PK)"
            )

    def delete_thread(self, thread_id: str) -> None:
        keys = [{"PK": i["PK"], "SK": i["SK"]} for i in self.io.query_prefix(_pk(str(thread_id)), "")]
        for start in range(0, len(keys), _BATCH):
            requests = [{"DeleteRequest": {"Key": self.io.key(k)}} for k in keys[start : start + _BATCH]]
            pending: dict[str, Any] = {self.io.table: requests}
            while pending:  # BatchWriteItem may hand some back under throttling: send them again
                out = self.io.call("batch_write_item", RequestItems=pending) or {}
                pending = out.get("UnprocessedItems") or {}

    # --- async API: the same calls in a worker thread ---------------------------------------
    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        rows = await asyncio.to_thread(
            lambda: [*self.list(config, filter=filter, before=before, limit=limit)]
        )
        for row in rows:
            yield row

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)
