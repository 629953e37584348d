"""Every examples/*/Dockfile.yaml stays valid, with imports on (the real agent modules load)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdock.spec import references, validate_file
from agentdock.spec.yamlio import read_document

pytestmark = pytest.mark.functional

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*/Dockfile.yaml"))


@pytest.mark.skipif(not EXAMPLES, reason="no examples/*/Dockfile.yaml in this checkout")
@pytest.mark.parametrize("dockfile", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_example_dockfile_is_valid(dockfile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDOCK_FAKE_MODEL", "1")
    # Secrets are references: give each one a value long enough for every length rule.
    env = {ref.var: "x" * 32 for ref in references(read_document(dockfile).data)}
    report = validate_file(dockfile, env=env)
    assert report.valid, [f"{e} [{e.file}:{e.line}]" for e in report.errors]
    frozen = read_document(dockfile).data
    assert all(
        f"${{{ref.var}" in str(frozen) for ref in references(frozen)
    )  # references stay references in raw
