"""The Dockfile field reference as a Markdown table, generated from the pydantic models.

``docs/dockfile.md`` embeds this table between ``<!-- fields:begin -->`` and
``<!-- fields:end -->``; a test regenerates it and fails when the two differ, so the reference
cannot drift from the models. ``python -m agentdock.spec.reference docs/dockfile.md`` rewrites
the section in place.
"""

from __future__ import annotations

import sys
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agentdock.spec.models import DockSpec

BEGIN, END = "<!-- fields:begin -->", "<!-- fields:end -->"


def _type_name(annotation: Any) -> str:
    text = str(annotation)
    if isinstance(annotation, type):
        text = annotation.__name__
    for noise in ("typing.", "agentdock.spec.models.", "<class '", "'>"):
        text = text.replace(noise, "")
    return text.replace("|", "or")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    stack = [annotation]
    while stack:
        item = stack.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            found.append(item)
        stack.extend(typing.get_args(item))
    return found


def field_rows(model: type[BaseModel] = DockSpec, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(path, type, default, description) for every field, depth first, in model order."""
    rows: list[tuple[str, str, str, str]] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{info.alias or name}" if prefix else (info.alias or name)
        if info.is_required():
            default = "required"
        elif info.default_factory is not None:
            default = repr(info.default_factory())  # type: ignore[call-arg]
        else:
            default = repr(info.default)
        rows.append((path, _type_name(info.annotation), default, (info.description or "").strip()))
        for sub in _models_in(info.annotation):
            rows.extend(field_rows(sub, path + ("[]" if "list" in str(info.annotation) else "")))
    return rows


def fields_table() -> str:
    lines = ["| field | type | default | meaning |", "|---|---|---|---|"]
    for path, kind, default, text in field_rows():
        cells = (f"`{path}`", kind, f"`{default}`", text.replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def splice(document: str) -> str:
    """``document`` with the generated table between the markers."""
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{fields_table()}\n{END}{tail}"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/dockfile.md")
    target.write_text(splice(target.read_text(encoding="utf-8")), encoding="utf-8")
