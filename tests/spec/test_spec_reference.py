"""docs/dockfile.md carries the field table generated from the models: it cannot drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdock.spec.reference import BEGIN, END, field_rows, splice

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[2] / "docs" / "dockfile.md"


def test_the_reference_table_matches_the_models() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert splice(text) == text, "regenerate: python -m agentdock.spec.reference docs/dockfile.md"


def test_every_field_is_documented_once() -> None:
    paths = [row[0] for row in field_rows()]
    assert len(paths) == len(set(paths))
    text = DOC.read_text(encoding="utf-8")
    for path in ("agent.entrypoint", "policies.tools.allowed", "auth.public_docs", "deploy.local.port"):
        assert f"`{path}`" in text
