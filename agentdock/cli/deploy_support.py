"""CLI-only helpers behind the deploy commands: error mapping, argument checks, a clock. What the
commands do lives in the deploy service (agentdock.ops)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from agentdock.cli.output import EXIT_USAGE, fail
from agentdock.errors import AgentDockError, CapabilityMissing, TargetNotFound

if TYPE_CHECKING:
    pass


@contextmanager
def guarded(as_json: bool) -> Iterator[None]:
    """Turn library errors into the CLI's messages and exit codes (never a traceback)."""
    try:
        yield
    except (TargetNotFound, CapabilityMissing) as exc:
        fail(exc, as_json=as_json, code=EXIT_USAGE)
    except AgentDockError as exc:
        fail(exc, as_json=as_json)


def need_file(path: Path, as_json: bool) -> Path:
    if not path.is_file():
        fail(
            f"{path}: no such Dockfile (pass the path, e.g. examples/doc_summarizer/Dockfile.yaml)",
            as_json=as_json,
            code=EXIT_USAGE,
        )
    return path


def parse_env(pairs: list[str], as_json: bool) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--env {pair!r}: expected KEY=VALUE", as_json=as_json, code=EXIT_USAGE)
        env[key] = value
    return env


class Clock:
    def __init__(self) -> None:
        self.t0 = time.monotonic()

    @property
    def ms(self) -> int:
        return int((time.monotonic() - self.t0) * 1000)


def interactive() -> bool:
    return sys.stdin.isatty()


def kube(context: str | None) -> dict[str, str]:
    """The --context setting, when given (only the knative target reads it)."""
    return {"context": context} if context else {}
