"""Write a pip constraints file that pins every floor (``>=X``) of the requirements a user gets
with ``pip install 'agentdock[aws]'`` (core, runtime, cli, aws, postgres) to exactly ``X``.
``.ci/min-versions`` installs with it and runs the unit tier: the floors we declare must work.

    python .ci/min_versions.py > constraints-min.txt
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUPS = ("runtime", "cli", "aws", "postgres")
_REQ = re.compile(r"^\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*([^;]*?)\s*(;.*)?$")


def floors(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    reqs = list(project["dependencies"])
    for group in GROUPS:
        reqs += project["optional-dependencies"][group]
    pins: dict[str, str] = {}
    for req in reqs:
        match = _REQ.match(req)
        if not match or match.group(1).lower() == "agentdock":
            continue
        name, spec, marker = match.group(1).lower(), match.group(2), match.group(3) or ""
        low = next((part[2:].strip() for part in spec.split(",") if part.strip().startswith(">=")), None)
        if low is None:
            raise SystemExit(f"{req!r}: every requirement needs a >= floor")
        pins[name] = f"{name}=={low}{marker}"
    return sorted(pins.values())


if __name__ == "__main__":
    sys.stdout.write("\n".join(floors()) + "\n")
