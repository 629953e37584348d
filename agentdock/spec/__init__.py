"""The Dockfile v1: models (``DockSpec``), loading and validation, the JSON Schema.

Public API: ``load_dockfile``, ``validate_file``, ``interpolate``, ``spec_from_frozen``,
``json_schema``, ``import_entrypoint``, ``import_object``, ``Loaded``, ``Report``,
``parse_rate_limit``. Names resolve lazily (PEP 562): a function image reads its frozen spec
through this package and must not pay for the YAML loader, the linter or the JSON Schema
checker at cold start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Bound eagerly: the function shares its name with its (light) module, and a lazy import of
# the submodule would otherwise leave the module object under this name.
from agentdock.spec.interpolate import interpolate

_EXPORTS = {
    "import_entrypoint": "imports",
    "import_object": "imports",
    "isolated_imports": "imports",
    "Reference": "interpolate",
    "make_lookup": "interpolate",
    "read_dotenv": "interpolate",
    "references": "interpolate",
    "DEFAULT_DOCKFILE": "loader",
    "Loaded": "loader",
    "Report": "loader",
    "load_dockfile": "loader",
    "spec_from_frozen": "frozen",
    "validate_file": "loader",
    "DockSpec": "models",
    "format_rate_limit": "ratelimit",
    "parse_rate_limit": "ratelimit",
    "SCHEMA_ID": "schema",
    "generate_schema": "schema",
    "json_schema": "schema",
}

__all__ = [
    "DEFAULT_DOCKFILE",
    "DockSpec",
    "Loaded",
    "Reference",
    "Report",
    "SCHEMA_ID",
    "format_rate_limit",
    "generate_schema",
    "import_entrypoint",
    "import_object",
    "interpolate",
    "isolated_imports",
    "json_schema",
    "load_dockfile",
    "make_lookup",
    "parse_rate_limit",
    "read_dotenv",
    "references",
    "spec_from_frozen",
    "validate_file",
]

if TYPE_CHECKING:
    from agentdock.spec.frozen import spec_from_frozen
    from agentdock.spec.imports import import_entrypoint, import_object, isolated_imports
    from agentdock.spec.interpolate import Reference, make_lookup, read_dotenv, references
    from agentdock.spec.loader import (
        DEFAULT_DOCKFILE,
        Loaded,
        Report,
        load_dockfile,
        validate_file,
    )
    from agentdock.spec.models import DockSpec
    from agentdock.spec.ratelimit import format_rate_limit, parse_rate_limit
    from agentdock.spec.schema import SCHEMA_ID, generate_schema, json_schema


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentdock.spec' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"agentdock.spec.{module}"), name)
    globals()[name] = value
    return value
