"""Deploy targets: a plain registry of built-in targets plus the ``agentdock.targets`` entry-point
group for third-party ones. A target is one package ``targets/<name>/`` whose class implements
``base.Target`` (on the shared release core, ``release.py``); adding one is an entry in
``agentdock.targets_catalog`` (or an entry point in another distribution).

    get_target("local", store=store)         -> LocalTarget(store=store)
    available_targets()                      -> {"local": "agentdock.targets.local:LocalTarget", ...}
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from agentdock.errors import TargetNotFound
from agentdock.targets_catalog import DEFAULT_TARGET, TARGETS, entry

if TYPE_CHECKING:
    from agentdock.targets.base import Target

    from agentdock.store.base import MetadataStore

ENTRY_POINT_GROUP = "agentdock.targets"
# Canonical built-in names -> "module:Class" come from the catalog (agentdock.targets_catalog).
# Built-ins win over entry points of the same name.


def _module_present(ref: str) -> bool:
    """Without importing it: is the module behind ``module:Class`` installed?"""
    try:
        return importlib.util.find_spec(ref.split(":", 1)[0]) is not None
    except (ImportError, ValueError):
        return False


def available_targets() -> dict[str, str]:
    """Targets this installation can run: built-ins whose module is present, then entry points."""
    from importlib.metadata import entry_points

    found = {name: ref for name, ref in TARGETS.items() if _module_present(ref)}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return dict(sorted(found.items(), key=lambda kv: (kv[0] != DEFAULT_TARGET, kv[0])))


def resolve_target_class(name: str) -> type[Any]:
    """Import the class registered under ``name``; unknown names raise TargetNotFound listing the known."""
    # Built-ins resolve without scanning installed distributions for entry points (rollback speed).
    ref = TARGETS.get(name) if name in TARGETS and _module_present(TARGETS[name]) else None
    known = available_targets() if ref is None else {}
    ref = ref or known.get(name)
    if ref is None:
        raise TargetNotFound(
            "--target", f"unknown target {name!r}", hint="known targets: " + ", ".join(known)
        )
    module_name, _, attr = ref.partition(":")
    known_entry = entry(name)
    extra = known_entry.extra if known_entry else "..."
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise TargetNotFound(
            "--target",
            f"target {name!r} ({ref}) could not be loaded: {exc}",
            hint=f"install the extra it needs: pip install 'agentdock[{extra}]'",
        ) from exc
    return obj  # type: ignore[no-any-return]


def get_target(name: str, *, store: MetadataStore, **settings: Any) -> Target:
    """An instance of target ``name`` bound to ``store``; ``settings`` go to its constructor."""
    cls = resolve_target_class(name)
    target: Target = cls(store=store, **settings)
    return target


__all__ = [
    "DEFAULT_TARGET",
    "ENTRY_POINT_GROUP",
    "TARGETS",
    "available_targets",
    "get_target",
    "resolve_target_class",
]
