"""Cloud Run traffic rules and the plan's diff: pure functions of the store pointer, the version
and the live service.

* ``staged_traffic`` the first write: the new revision joins with no traffic (tag ``v<n>``; on a
                     first deploy it is the only revision, so it takes the 100 % Cloud Run needs);
* ``final_split``    the traffic after the health gate: all to the new revision, or a canary;
* ``diff``           planned vs live, field by field, on the fields AgentDock sets.
"""

from __future__ import annotations

from typing import Any

from agentdock.targets.base import whole_percent
from agentdock.targets.cloudrun.model import REVISION_TYPE, Split, revision_name, traffic

from agentdock.store.base import Pointer


def canary_percent(value: Any) -> int:
    """``--canary 10`` -> 10 (Cloud Run splits traffic in whole percents); 0 when not asked."""
    return whole_percent(value, platform="Cloud Run")


def current_split(pointer: Pointer | None) -> Split | None:
    """The split the store says is serving (None before the first deploy)."""
    if pointer is None or pointer.live_version is None:
        return None
    canary = pointer.canary_version
    percent = round(pointer.canary_weight * 100) if canary is not None else 0
    tagged = (pointer.previous_version,) if pointer.previous_version is not None else ()
    return Split(pointer.live_version, canary, percent, tagged)


def staged_traffic(service: str, pointer: Pointer | None, version: int) -> list[dict[str, Any]]:
    """Traffic of the first write: what serves now stays as it is, the new revision gets its tag
    (on a first deploy it is the only revision, so it takes the 100 % Cloud Run needs)."""
    now = current_split(pointer)
    if now is None:
        only = {"type": REVISION_TYPE, "revision": revision_name(service, version), "percent": 100}
        return [only | {"tag": f"v{version}"}]
    return traffic(service, Split(now.live, now.canary, now.canary_percent, (*now.tagged, version)))


def final_split(pointer: Pointer | None, version: int, canary: int) -> Split:
    """After the gate: ``version`` takes all (the old live stays tagged for rollback) or ``canary`` %."""
    live = pointer.live_version if pointer else None
    if canary and live is not None and live != version:
        return Split(live, version, canary, ())
    return Split(version, None, 0, (live,) if live is not None and live != version else ())


def diff(planned: dict[str, Any], live: dict[str, Any] | None, path: str = "") -> dict[str, Any]:
    """``{dotted.path: {"live": x, "planned": y}}`` for each field AgentDock sets that differs.
    A field the API omits is its default (false, 0, empty), as in proto3 JSON."""
    if live is None:
        return {"service": {"live": None, "planned": "create"}}
    changes: dict[str, Any] = {}
    for key, want in planned.items():
        where = f"{path}.{key}" if path else key
        have = live.get(key)
        if isinstance(want, dict) and isinstance(have, dict):
            changes |= diff(want, have, where)
        elif have != want and not (have is None and want in (False, 0, "", [], {})):
            changes[where] = {"live": have, "planned": want}
    return changes
