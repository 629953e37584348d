"""The pure rule of a pointer move (used by ``release.Release.move``): which version is live,
previous and canary afterwards, and which versions retire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentdock.store.base import Pointer


@dataclass(frozen=True)
class Move:
    """A pointer transition: the fields the pointer gets and the versions that retire with it."""

    version: int
    live_version: int | None
    previous_version: int | None
    canary_version: int | None
    canary_weight: float
    retired: tuple[int, ...] = ()
    abandoned_canary: int | None = None

    @property
    def canary(self) -> bool:
        return self.canary_version is not None

    def fields(self) -> dict[str, Any]:
        return {
            "live_version": self.live_version,
            "previous_version": self.previous_version,
            "canary_version": self.canary_version,
            "canary_weight": self.canary_weight,
            "status": "canary" if self.canary else "live",
        }


def transition(pointer: Pointer | None, version: int, *, canary_weight: float = 0.0) -> Move:
    """Where the pointer goes when ``version`` takes traffic (all, or ``canary_weight`` of it).
    A canary leaves live and previous as they are; a full move makes the old live the previous
    one. Any other canary in progress is abandoned (retired)."""
    live = pointer.live_version if pointer else None
    previous = pointer.previous_version if pointer else None
    running = pointer.canary_version if pointer else None
    abandoned = running if running not in (None, version) else None
    if canary_weight:
        gone: tuple[int, ...] = (abandoned,) if abandoned is not None else ()
        return Move(version, live, previous, version, canary_weight, gone, abandoned)
    new_previous = live if live != version else previous
    retired = tuple(dict.fromkeys(v for v in (live, abandoned) if v is not None and v != version))
    return Move(version, version, new_previous, None, 0.0, retired, abandoned)
