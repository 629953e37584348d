"""Read what the platform takes from a context's Dockerfile: its ENV and its CMD (the generated
Dockerfiles use ``ENV K=V \\`` blocks and a JSON-array CMD; anything else is refused)."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

from agentdock.errors import BuildError


@dataclass(frozen=True)
class ImageConfig:
    env: dict[str, str]
    cmd: list[str]
    workdir: str | None


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    return lines


def image_config(context: Path) -> ImageConfig:
    path = context / "Dockerfile"
    env: dict[str, str] = {}
    cmd: list[str] | None = None
    workdir: str | None = None
    for line in _logical_lines(path.read_text(encoding="utf-8")):
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":  # a multi-stage build would reset ENV; ours has one final stage
            env, cmd = {}, None
        elif word == "ENV":
            for pair in shlex.split(rest):
                key, sep, value = pair.partition("=")
                if not sep:
                    raise BuildError(str(path), f"ENV {pair!r} is not KEY=VALUE")
                env[key] = value
        elif word == "WORKDIR":
            workdir = rest.strip()
        elif word == "CMD":
            try:
                cmd = json.loads(rest)
            except ValueError as exc:
                raise BuildError(str(path), f"CMD is not a JSON array: {rest}") from exc
    if not cmd:
        raise BuildError(str(path), "the Dockerfile has no CMD")
    return ImageConfig(env, [str(c) for c in cmd], workdir)
