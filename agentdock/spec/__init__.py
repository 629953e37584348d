"""The Dockfile v1: models (``DockSpec``), loading and validation, the JSON Schema.

Public API (see /work/notes/interfaces.md): ``load_dockfile``, ``validate_file``,
``interpolate``, ``spec_from_frozen``, ``json_schema``, ``import_entrypoint``,
``import_object``, ``Loaded``, ``Report``, ``parse_rate_limit``. Imports here stay light
(pydantic + PyYAML): the runtime reads frozen specs through this package.
"""

from agentdock.spec.imports import import_entrypoint, import_object, isolated_imports
from agentdock.spec.interpolate import Reference, interpolate, make_lookup, read_dotenv, references
from agentdock.spec.loader import (
    DEFAULT_DOCKFILE,
    Loaded,
    Report,
    load_dockfile,
    spec_from_frozen,
    validate_file,
)
from agentdock.spec.models import DockSpec
from agentdock.spec.ratelimit import format_rate_limit, parse_rate_limit
from agentdock.spec.schema import SCHEMA_ID, generate_schema, json_schema

__all__ = [
    "DEFAULT_DOCKFILE",
    "SCHEMA_ID",
    "DockSpec",
    "Loaded",
    "Reference",
    "Report",
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
