"""One output helper for every command: human lines, or one JSON object with ``--json``.

Exit codes are deterministic: 0 success, 1 the operation failed (invalid file, failed
deploy, ...), 2 usage error (missing file, bad flag, unknown target).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

import typer

from agentdock.errors import AgentDockError, DockfileInvalid

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def emit(data: Any, *, as_json: bool, human: str | Iterable[str] | None = None) -> None:
    """Print ``data`` as JSON when asked, else the human text (lines)."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
        return
    if human is None:
        return
    lines = [human] if isinstance(human, str) else list(human)
    for line in lines:
        typer.echo(line)


def progress(step: str, *, as_json: bool) -> None:
    """A step of a long operation; goes to stderr so ``--json`` stdout stays one object."""
    if not as_json:
        typer.echo(f"→ {step}", err=True)


def fail(error: AgentDockError | str, *, as_json: bool, code: int = EXIT_FAILED) -> NoReturn:
    """Report an error the user can act on (never a traceback) and exit."""
    if isinstance(error, DockfileInvalid):
        # one problem per line (with its place and fix), never crammed into one
        payload: dict[str, Any] = {
            "ok": False,
            "error": error.to_dict(),
            "errors": [e.to_dict() for e in error.errors],
        }
        lines = [f"✗ the Dockfile has {len(error.errors)} problem(s):"]
        for problem in error.errors:
            where = f"  [{problem.file}:{problem.line}]" if problem.line is not None else ""
            lines.append(f"  - {problem}{where}")
            if problem.hint:
                lines.append(f"      fix: {problem.hint}")
        text = "\n".join(lines)
    elif isinstance(error, AgentDockError):
        payload = {"ok": False, "error": error.to_dict()}
        text = f"✗ {error}" + (f"\n  hint: {error.hint}" if error.hint else "")
    else:
        payload = {"ok": False, "error": {"message": error}}
        text = f"✗ {error}"
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    else:
        typer.echo(text, err=True)
    raise typer.Exit(code)
