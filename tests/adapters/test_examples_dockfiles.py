"""The example Dockfiles validate with the real loader and their agents load through the adapters."""

from __future__ import annotations

import pytest
from adapter_examples import EXAMPLES, TEST_ENV, example_config
from agentdock.adapters import RunContext, get_adapter

from agentdock.spec import load_dockfile, validate_file

pytestmark = pytest.mark.unit
NAMES = ["doc_summarizer", "invoice_copilot", "lc_translator"]


@pytest.mark.parametrize("name", NAMES)
def test_example_dockfile_is_valid(name: str) -> None:
    path = EXAMPLES / name / "Dockfile.yaml"
    assert path.read_text().startswith(
        "# yaml-language-server: $schema=../../agentdock/spec/dockfile-1.0.json"
    )
    report = validate_file(path, env=TEST_ENV)
    assert report.valid, [str(e) for e in report.errors]


def test_full_example_keeps_secret_references_in_raw() -> None:
    loaded = load_dockfile(EXAMPLES / "invoice_copilot" / "Dockfile.yaml", env=TEST_ENV)
    assert loaded.raw["auth"]["jwt"]["secret_key"] == "${JWT_SECRET}"
    assert loaded.spec.policies.tools.allowed == ["lookup_invoice"]
    assert loaded.spec.io_schema.input_class == "schemas:InvoiceQuery"


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        ("doc_summarizer", {"text": "Docks hold agents. More."}, "summary"),
        ("invoice_copilot", {"question": "total of INV-1002?"}, "answer"),
        ("lc_translator", {"text": "hello"}, "translation"),
    ],
)
async def test_example_runs_offline_via_its_framework(name: str, data: dict, field: str) -> None:
    config = example_config(name)
    spec = config["spec"]
    adapter = get_adapter(spec.agent.framework)
    agent = adapter.load(spec.agent.entrypoint, config)
    out = await adapter.invoke(agent, data, RunContext("t"))
    assert list(out) == [field] and isinstance(out[field], str) and out[field]
