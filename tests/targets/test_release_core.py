"""The release core (targets/release.py) on the in-memory store: the bookkeeping every target
shares, checked once here rather than through each platform."""

from __future__ import annotations

from typing import Any

import pytest
from agentdock.targets.release import Release, Routed, move_traffic
from agentdock.targets.transition import transition

from agentdock.errors import DeployConflict, DeployError
from agentdock.store.base import Pointer
from agentdock.store.memory import MemoryStore

pytestmark = pytest.mark.unit
AGENT = "summarizer"


def _release() -> Release:
    return Release(MemoryStore(), "fake", "tester")


def _ship(release: Release, content: str, *, canary: float = 0.0) -> int:
    """Register and move the pointer (as a deploy does after its health gate)."""
    record = release.register(AGENT, content_hash=content, spec={}, image=None, label=None)
    current = release.pointer(AGENT)
    release.move(
        AGENT,
        record.number,
        expected_revision=current.revision if current else None,
        canary_weight=canary,
        url="http://x",
    )
    return record.number


def _statuses(release: Release) -> dict[int, str]:
    return {v.number: v.status for v in release.store.list_versions(AGENT)}


def test_transition_rules() -> None:
    p = Pointer(AGENT, "fake", "live", live_version=2, previous_version=1, revision=3)
    full = transition(p, 3)
    assert (full.live_version, full.previous_version, full.retired) == (3, 2, (2,))
    canary = transition(p, 3, canary_weight=0.1)
    assert (canary.live_version, canary.previous_version, canary.canary_version) == (2, 1, 3)
    assert canary.fields()["status"] == "canary" and canary.retired == ()
    running = Pointer(AGENT, "fake", "live", 2, 1, 4, canary_version=3, canary_weight=0.1)
    back = transition(running, 2)  # rollback while a canary runs: the canary is abandoned
    assert (back.live_version, back.previous_version, back.retired, back.abandoned_canary) == (2, 1, (3,), 3)
    assert transition(None, 1).previous_version is None


def test_moves_set_statuses_and_rollback_choices() -> None:
    r = _release()
    assert _ship(r, "a") == 1 and _ship(r, "b") == 2
    assert _statuses(r) == {1: "retired", 2: "live"}
    pointer = r.pointer(AGENT)
    assert pointer is not None and (pointer.live_version, pointer.previous_version) == (2, 1)
    assert r.choose(AGENT, pointer, None) == 1
    with pytest.raises(DeployError, match="has no version 9"):
        r.choose(AGENT, pointer, 9)
    with pytest.raises(DeployError, match="no canary in progress"):
        r.choose(AGENT, pointer, None, promote=True)
    r.mark_failed(AGENT, 1)
    with pytest.raises(DeployError, match="failed its deploy"):
        r.choose(AGENT, pointer, 1)
    assert [row["version"] for row in r.history(AGENT)] == [1, 2]


def test_a_lost_race_compensates_and_raises_deploy_conflict() -> None:
    r = _release()
    _ship(r, "a")
    stale = r.pointer(AGENT)
    assert stale is not None
    _ship(r, "b")  # someone else moved the pointer
    undone: list[str] = []
    n = r.register(AGENT, content_hash="c", spec={}, image=None, label=None).number
    with pytest.raises(DeployConflict, match="moved this agent's pointer"):
        r.move(AGENT, n, expected_revision=stale.revision, compensate=lambda: undone.append("back"))
    assert undone == ["back"]
    now = r.pointer(AGENT)
    assert now is not None and now.live_version == 2 and _statuses(r)[n] == "registered"


def test_register_refuses_a_number_taken_meanwhile() -> None:
    r = _release()
    _ship(r, "a")
    with pytest.raises(DeployConflict, match="version 1 was taken"):
        r.register(AGENT, content_hash="b", spec={}, image=None, label=None, number=1)
    assert _statuses(r)[2] == "failed"
    again = r.register(AGENT, content_hash="b", spec={}, image=None, label=None, number=2, reuse=True)
    assert again.number == 2 and _statuses(r)[2] == "registered"


class FakeTraffic:
    """A platform half whose traffic is one dict: what a new target implements."""

    handle_key = "revision"

    def __init__(self, release: Release) -> None:
        self.release = release
        self.traffic: dict[str, Any] = {"to": "rev-2"}

    def current(self, agent: str) -> Pointer:
        pointer = self.release.pointer(agent)
        assert pointer is not None
        return pointer

    def locate(self, pointer: Pointer, version: int) -> str:
        return f"rev-{version}"

    def route(self, pointer: Pointer, version: int, handle: str) -> Routed:
        before = dict(self.traffic)
        self.traffic = {"to": handle}
        return Routed(lambda: self.traffic.update(before), details={"revision": handle}, shown={"x": 1})


def test_move_traffic_rollback_and_promote() -> None:
    r = _release()
    _ship(r, "a")
    _ship(r, "b")
    platform = FakeTraffic(r)
    done = move_traffic(r, platform, AGENT)
    assert (done.version, done.status, done.previous_version) == (1, "live", 2)
    assert platform.traffic == {"to": "rev-1"} and done.details["x"] == 1
    assert _statuses(r) == {1: "live", 2: "retired"}
    assert r.last_release(AGENT) == {**r.last_release(AGENT), "action": "rollback", "from": 2, "to": 1}
    assert move_traffic(r, platform, AGENT, version=1).status == "unchanged"
    n = _ship(r, "c", canary=0.2)
    promoted = move_traffic(r, platform, AGENT, promote=True)
    assert promoted.version == n and _statuses(r)[n] == "live" and _statuses(r)[1] == "retired"
