"""Write a pip constraints file that pins every floor (``>=X``) of the requirements a user gets
with ``pip install 'agentdock[aws]'`` (core, runtime, cli, aws, postgres) and the SQLite thread store
(threads-sqlite) to exactly ``X``.
``.ci/min-versions`` installs with it and runs the unit and runtime tests: the floors we declare
must work.

    python .ci/min_versions.py > constraints-min.txt
    python .ci/min_versions.py --test-tools        # what the tests need besides the package
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUPS = ("runtime", "cli", "aws-runtime", "aws", "postgres", "threads-sqlite")
# Companions released in lockstep whose requirement on each other has no upper bound upstream
# (langgraph 1.0.0 asks for langgraph-prebuilt>=1.0.0, and the newest prebuilt imports names only
# later langgraph releases have): pinned to the same floor, as a user on the floor would have them.
COMPANIONS = {"langgraph": "langgraph-prebuilt"}
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
        if name in COMPANIONS:
            pins[COMPANIONS[name]] = f"{COMPANIONS[name]}=={low}{marker}"
    return sorted(pins.values())


# The test tools the floor tiers need, taken from the dev extra with its bounds. The rest of dev
# (CDK, browsers, cloud clients) needs newer libraries than the floors; the tests that use them
# run in `make test` at current versions. The LangGraph SDK is not among them: langgraph brings
# it, at the newest release the pinned langgraph allows (what a user at the floor has; below dev's
# bound), and the LangGraph API tests use it as it comes.
TEST_TOOLS = (
    "pytest",
    "pytest-asyncio",
    "httpx",
    "moto",
    "hypothesis",
    "werkzeug",
    "google-api-python-client",
    "langgraph-checkpoint-conformance",  # LangGraph's checkpointer suite, on the DynamoDB saver
)


def test_tools(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    dev = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]["dev"]
    return [req for req in dev if re.split(r"[\[<>=;\s]", req, maxsplit=1)[0].lower() in TEST_TOOLS]


if __name__ == "__main__":
    lines = test_tools() if "--test-tools" in sys.argv else floors()
    sys.stdout.write("\n".join(lines) + "\n")
