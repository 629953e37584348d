"""The runtime's cheap path to a DockSpec: the frozen spec a build context carries.

Kept apart from ``loader`` so a function image never imports the YAML loader, the semantic
checks or the linter: the build already ran them.
"""

from __future__ import annotations

from typing import Any

from agentdock.errors import DockfileInvalid
from agentdock.spec.models import DockSpec
from agentdock.spec.schema_errors import validate_model


def spec_from_frozen(data: dict[str, Any]) -> DockSpec:
    """Structural validation only (no imports, no lint)."""
    spec, errors = validate_model(data)
    if spec is None:
        raise DockfileInvalid(list(errors))
    return spec
