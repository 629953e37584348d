"""What a semantic check or a lint rule gets to look at."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agentdock.errors import DockfileError
from agentdock.spec.interpolate import Reference
from agentdock.spec.models import DockSpec


@dataclass(frozen=True)
class Context:
    spec: DockSpec
    base_dir: Path
    check_imports: bool = True
    unresolved: frozenset[str] = field(default_factory=frozenset)  # paths still holding ${VAR}
    references: tuple[Reference, ...] = ()  # every ${VAR} as written, with its path

    def known(self, path: str) -> bool:
        """False when the value at ``path`` is an unresolved reference (only known at run time)."""
        return path not in self.unresolved


# A check (error) or a lint rule (warning): small, independent, listed in a plain tuple.
Check = Callable[[Context], Iterable[DockfileError]]
