"""A field-level diff between the live Service and the one a deploy would write (``--dry-run``).

Pure: both sides are plain dicts. Only what a deploy owns is compared (labels, annotations, spec);
``status`` and server-set metadata (resourceVersion, uid, generation, ...) are ignored.
"""

from __future__ import annotations

from typing import Any

_OWNED_META = ("labels", "annotations")


def owned(obj: dict[str, Any] | None) -> dict[str, Any]:
    if not obj:
        return {}
    meta = obj.get("metadata") or {}
    return {"metadata": {k: meta[k] for k in _OWNED_META if k in meta}, "spec": obj.get("spec") or {}}


def diff(live: dict[str, Any] | None, desired: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{"path", "op": add|remove|change, "live", "desired"}]`` from ``live`` to ``desired``."""
    out: list[dict[str, Any]] = []
    _walk(owned(live), owned(desired), "", out)
    return out


def _walk(a: Any, b: Any, path: str, out: list[dict[str, Any]]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a:
                out.append({"path": sub, "op": "add", "live": None, "desired": b[key]})
            elif key not in b:
                out.append({"path": sub, "op": "remove", "live": a[key], "desired": None})
            else:
                _walk(a[key], b[key], sub, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _walk(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append({"path": path, "op": "change", "live": a, "desired": b})
