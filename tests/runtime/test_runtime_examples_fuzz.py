"""Schemathesis on the shipped examples as they are served (issue 17: 0 failures of any check).

Each example's Dockfile through the production path (loader, adapters with the offline fake
model, security, policy), under uvicorn on loopback; every documented operation is fuzzed with
positive and negative data and without credentials. Bounded: a few examples per operation.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import schemathesis
from rthelpers import serve
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection
from test_runtime_openapi_fuzz import CHECKS, _run

from agentdock.runtime.app import create_app
from agentdock.security.apikeys import generate_api_key
from agentdock.spec import load_dockfile

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ENV = {"JWT_SECRET": "s" * 32, "LANGFUSE_PUBLIC_KEY": "pk-test", "LANGFUSE_SECRET_KEY": "sk-test"}


@pytest.mark.parametrize(
    "example", sorted(p.name for p in EXAMPLES.iterdir() if (p / "Dockfile.yaml").is_file())
)
def test_schemathesis_finds_nothing_on_a_served_example(
    example: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**ENV, "AGENTDOCK_FAKE_MODEL": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AGENTDOCK_STORE", raising=False)
    monkeypatch.delenv("AGENTDOCK_KEY_PEPPER", raising=False)
    key = generate_api_key(pepper="")
    monkeypatch.setenv("AGENTDOCK_BOOTSTRAP_KEY_HASH", f"{key.key_id}:admin:{key.key_hash}")
    loaded = load_dockfile(EXAMPLES / example / "Dockfile.yaml", env=ENV)
    spec = loaded.spec
    if spec.auth.mode == "jwt":
        from agentdock.security.jwt import issue_token

        headers = {"authorization": f"Bearer {issue_token(spec, sub='fuzz', role='admin', ttl_s=600)}"}
    else:
        headers = {"x-api-key": key.key}
    app = create_app(spec, base_dir=loaded.base_dir, log_sink=lambda line: None)
    with serve(app) as url:
        document = httpx.get(f"{url}/openapi.json", headers=headers).json()
        schema = schemathesis.openapi.from_dict(document)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert any(op.path == "/invoke" for op in operations)
        for operation in operations:
            _run(operation, GenerationMode.POSITIVE, url, headers, CHECKS)
            if operation.body or operation.query:
                _run(operation, GenerationMode.NEGATIVE, url, headers, [*CHECKS, negative_data_rejection])
            _run(operation, GenerationMode.POSITIVE, url, {}, CHECKS)
