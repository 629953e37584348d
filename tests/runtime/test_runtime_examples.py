"""The shipped examples through the real stack: Dockfile loader, adapters, security, policy.

Components come from ``Components.from_spec`` (the production path): API keys through the
bootstrap key of ``AGENTDOCK_BOOTSTRAP_KEY_HASH``, JWTs through ``issue_token``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rthelpers import client_for

from agentdock.runtime.app import create_app
from agentdock.security.apikeys import generate_api_key
from agentdock.spec import load_dockfile

pytestmark = pytest.mark.functional

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("AGENTDOCK_KEY_PEPPER", raising=False)
    monkeypatch.delenv("AGENTDOCK_STORE", raising=False)
    monkeypatch.setenv("AGENTDOCK_FAKE_MODEL", "1")
    key = generate_api_key(pepper="")
    monkeypatch.setenv("AGENTDOCK_BOOTSTRAP_KEY_HASH", f"{key.key_id}:developer:{key.key_hash}")
    return key.key


def sse_events(text: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event: ")]


async def test_doc_summarizer(api_key: str) -> None:
    loaded = load_dockfile(EXAMPLES / "doc_summarizer" / "Dockfile.yaml")
    app = create_app(loaded.spec, base_dir=loaded.base_dir, log_sink=lambda line: None)
    body = {"text": "Cats sleep most of the day. Dogs bark at the mail carrier.", "max_words": 3}
    async with client_for(app) as client:
        invoked = await client.post("/invoke", json=body, headers={"x-api-key": api_key})
        streamed = await client.post("/stream", json=body, headers={"x-api-key": api_key})
        wrong = await client.post(
            "/invoke", json={"text": "x", "max_words": "3"}, headers={"x-api-key": api_key}
        )
        anonymous = await client.post("/invoke", json=body)
    assert invoked.status_code == 200
    assert invoked.json() == {"summary": "Cats sleep most..."}
    events = sse_events(streamed.text)
    assert events[0] == "start" and events[-1] == "end" and "token" in events
    assert '"summary":"Cats sleep most..."' in streamed.text
    assert wrong.status_code == 422
    assert anonymous.status_code == 401


async def test_invoice_copilot_redacts_and_denies_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDOCK_FAKE_MODEL", "1")
    env = {"JWT_SECRET": "s" * 32, "LANGFUSE_PUBLIC_KEY": "pk-test", "LANGFUSE_SECRET_KEY": "sk-test"}
    loaded = load_dockfile(EXAMPLES / "invoice_copilot" / "Dockfile.yaml", env=env)
    from agentdock.security.jwt import issue_token

    token = issue_token(loaded.spec, sub="u1", role="developer", ttl_s=600)
    headers = {"authorization": f"Bearer {token}"}
    app = create_app(loaded.spec, base_dir=loaded.base_dir, log_sink=lambda line: None)
    async with client_for(app) as client:
        answer = await client.post(
            "/invoke", json={"question": "What is the total of INV-1001?"}, headers=headers
        )
        answer_stream = await client.post(
            "/stream", json={"question": "What is the total of INV-1001?"}, headers=headers
        )
        refund = await client.post("/invoke", json={"question": "Refund invoice INV-1001"}, headers=headers)
        streamed = await client.post("/stream", json={"question": "Refund invoice INV-1001"}, headers=headers)
        schema = await client.get("/schema", headers=headers)
    assert answer.status_code == 200
    text = answer.json()["answer"]
    assert "1250.00" in text and "[REDACTED]" in text
    assert "tool" in sse_events(answer_stream.text)  # lookup_invoice ran, reported as tool events
    assert "4111111111111111" not in answer_stream.text and "billing@acme.example" not in answer_stream.text
    assert refund.status_code == 403 and refund.json()["error"] == "ToolDenied"
    assert sse_events(streamed.text)[-1] == "error" and "ToolDenied" in streamed.text
    assert schema.status_code == 200  # developer has read_docs in this Dockfile's roles
    assert schema.json()["input_schema"]["properties"]["question"]["maxLength"] == 2000


async def test_a_graph_object_passed_to_create_app(api_key: str) -> None:
    """``create_app(spec, agent=graph)``: the caller's graph, wrapped with the Dockfile's I/O."""
    loaded = load_dockfile(EXAMPLES / "doc_summarizer" / "Dockfile.yaml")
    import importlib.util

    module_spec = importlib.util.spec_from_file_location(
        "summarizer_under_test", loaded.base_dir / "agent.py"
    )
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    graph = module.build_graph()
    app = create_app(loaded.spec, base_dir=loaded.base_dir, agent=graph, log_sink=lambda line: None)
    async with client_for(app) as client:
        response = await client.post(
            "/invoke", json={"text": "Given. Not loaded."}, headers={"x-api-key": api_key}
        )
    assert response.status_code == 200 and response.json() == {"summary": "Given."}


async def test_langchain_runnable_example(api_key: str) -> None:
    loaded = load_dockfile(EXAMPLES / "lc_translator" / "Dockfile.yaml")
    app = create_app(loaded.spec, base_dir=loaded.base_dir, log_sink=lambda line: None)
    async with client_for(app) as client:
        invoked = await client.post(
            "/invoke",
            json={"text": "hello world", "target_language": "German"},
            headers={"x-api-key": api_key},
        )
        bad_enum = await client.post(
            "/invoke", json={"text": "hello", "target_language": "Klingon"}, headers={"x-api-key": api_key}
        )
    assert invoked.status_code == 200
    assert invoked.json() == {"translation": "hallo Welt"}
    assert bad_enum.status_code == 422 and bad_enum.json()["fields"][0]["type"] == "literal_error"
