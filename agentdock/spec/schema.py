"""The published JSON Schema (Draft 2020-12) of the Dockfile, generated from ``DockSpec``.

``dockfile-1.0.json`` beside this module is checked in (editors read it, ``agentdock schema``
prints it); a contract test asserts it equals ``generate_schema()``. Regenerate after a
model change with::

    python -m agentdock.spec
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from agentdock.spec.models import SUPPORTED_VERSIONS, DockSpec

SCHEMA_ID = "https://agentdock.dev/schemas/dockfile-1.0.json"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILE = Path(__file__).with_name("dockfile-1.0.json")
TITLE = "AgentDock Dockfile"
DESCRIPTION = (
    "Dockfile v1 (versions " + ", ".join(SUPPORTED_VERSIONS) + "): one file that describes an agent "
    "(entrypoint, model, I/O schema, auth, policies, observability, exposure, deploy settings) "
    "for `agentdock deploy`. Rules beyond structure (entrypoint importable, auth consistent, "
    "regexes compile, ...) are checked by `agentdock validate`."
)


def generate_schema() -> dict[str, Any]:
    """The schema as pydantic generates it from the models, plus the publishing header."""
    body = DockSpec.model_json_schema(by_alias=True, mode="validation")
    body.pop("title", None)
    body.pop("description", None)
    return {"$schema": SCHEMA_DIALECT, "$id": SCHEMA_ID, "title": TITLE, "description": DESCRIPTION, **body}


def render_schema(schema: dict[str, Any] | None = None) -> str:
    """The exact text of the checked-in file (stable key order, trailing newline)."""
    return (
        json.dumps(schema if schema is not None else generate_schema(), indent=2, ensure_ascii=False) + "\n"
    )


def write_schema(path: Path = SCHEMA_FILE) -> Path:
    path.write_text(render_schema(), encoding="utf-8")
    return path


@lru_cache(maxsize=1)
def schema_document() -> dict[str, Any]:
    """The checked-in ``dockfile-1.0.json``, shared: read it, never change it."""
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def json_schema() -> dict[str, Any]:
    """The checked-in ``dockfile-1.0.json`` (a copy: callers may change it)."""
    return copy.deepcopy(schema_document())
