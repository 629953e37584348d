"""Concurrency on every backend: version allocation, pointer compare-and-set, counters.
Threads share one store object (as a server process would); SQLite also across processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from agentdock.store import MetadataStore, Pointer, open_store

pytestmark = pytest.mark.integration


def _run(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Start ``n`` workers together (a barrier) and collect their results."""
    barrier = threading.Barrier(n)

    def worker(i: int) -> Any:
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(worker, range(n)))


def test_20_concurrent_writers_get_distinct_increasing_numbers(store: MetadataStore) -> None:
    def create(i: int) -> int:
        v = store.create_version(
            "busy", content_hash=f"sha256:{i}", target="local", spec={"i": i}, created_by=f"w{i}"
        )
        return v.number

    numbers = _run(20, create)
    assert sorted(numbers) == list(range(1, 21))  # none lost, none duplicated, no gaps
    stored = store.list_versions("busy")
    assert [v.number for v in stored] == list(range(1, 21))
    # Each number belongs to exactly the writer that was told it got it.
    assert {v.number: v.spec["i"] for v in stored} == {n: i for i, n in enumerate(numbers)}


def test_concurrent_pointer_moves_lose_no_update(store: MetadataStore) -> None:
    workers, moves = 8, 5

    def change(tag: str) -> Callable[[Pointer | None], dict[str, Any]]:
        def apply(current: Pointer | None) -> dict[str, Any]:
            log = list(current.details.get("log", [])) if current else []
            return {"details": {"log": [*log, tag]}, "live_version": len(log) + 1}

        return apply

    def mover(i: int) -> list[int]:
        return [
            store.update_pointer("busy", "local", "live", change(f"{i}.{m}")).revision for m in range(moves)
        ]

    revisions = [r for rs in _run(workers, mover) for r in rs]
    final = store.get_pointer("busy", "local")
    assert final is not None
    total = workers * moves
    assert sorted(revisions) == list(range(1, total + 1))  # every move got its own revision, once
    assert final.revision == total and final.live_version == total
    assert sorted(final.details["log"]) == sorted(f"{i}.{m}" for i in range(workers) for m in range(moves))


def test_counters_are_exact_under_concurrency(store: MetadataStore) -> None:
    now = 1_700_000_000.0

    def hit(i: int) -> list[int]:
        return [store.incr_counter("rl:viewer:shared", 60, now=now) for _ in range(10)]

    counts = [c for cs in _run(20, hit) for c in cs]
    assert sorted(counts) == list(range(1, 201))
    assert store.incr_counter("rl:viewer:shared", 60, now=now) == 201


_CHILD = """
import sys
from agentdock.store import open_store
s = open_store(sys.argv[1])
print(",".join(str(s.create_version("multi", content_hash="h", target="local", spec={}, created_by=sys.argv[2]).number)
               for _ in range(5)))
"""


def test_sqlite_is_safe_across_processes(sqlite_url: str) -> None:
    open_store(sqlite_url).close()  # create the schema once
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, sqlite_url, f"p{i}"], stdout=subprocess.PIPE, text=True
        )
        for i in range(4)
    ]
    numbers = []
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        numbers += [int(n) for n in out.strip().split(",")]
    assert sorted(numbers) == list(range(1, 21))
    with open_store(sqlite_url) as s:
        assert [v.number for v in s.list_versions("multi")] == list(range(1, 21))
