"""Golden and determinism tests of the pure renderer (no disk reads besides the templates).

Regenerate the goldens after an intended change: UPDATE_GOLDEN=1 pytest tests/build -k golden
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agentdock.build import FLAVOURS, InvokeMode, RenderInput, content_hash, invoke_mode_for, render_context
from agentdock.build.render import frozen_spec_json

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).parent / "golden"
RAW = {
    "version": "1.0",
    "agent": {"name": "echo_agent", "entrypoint": "agent:build", "framework": "langgraph"},
    "auth": {"mode": "jwt", "jwt": {"secret_key": "${JWT_SECRET}"}},
}


def _input(flavour: str, **over: object) -> RenderInput:
    base: dict[str, object] = {
        "agent": "echo_agent",
        "flavour": flavour,
        "spec_raw": RAW,
        "sources": {"agent.py": b"def build():\n    return None\n", "prompts/system.txt": b"Be brief.\n"},
        "requirements": "agentdock[runtime]==0.1.0\nhttpx==0.28.1\n",
        "agentdock_version": "0.1.0",
    }
    base.update(over)
    return RenderInput(**base)  # type: ignore[arg-type]


def _check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual)
    assert path.exists(), f"missing golden {path}; run with UPDATE_GOLDEN=1"
    assert actual == path.read_text(), f"{name} differs from its golden (UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_dockerfile_golden(flavour: str) -> None:
    files = render_context(_input(flavour))
    _check_golden(f"Dockerfile.{flavour}", files["Dockerfile"].decode())


def test_entry_module_golden() -> None:
    entries = {f: render_context(_input(f))["entry.py"].decode() for f in FLAVOURS}
    assert len(set(entries.values())) == 1, "every flavour must build the app the same way"
    _check_golden("entry.py.golden", entries["local"])
    compile(entries["local"], "entry.py", "exec")


def test_dockerfile_with_wheel_copies_it_before_install() -> None:
    files = render_context(_input("knative", wheels={"agentdock-0.1.0-py3-none-any.whl": b"PK"}))
    text = files["Dockerfile"].decode()
    assert files["wheels/agentdock-0.1.0-py3-none-any.whl"] == b"PK"
    assert text.index("COPY wheels/ /app/wheels/") < text.index("RUN pip install")


def test_lambda_stream_invoke_mode_comes_from_the_enum() -> None:
    text = render_context(_input("lambda-stream"))["Dockerfile"].decode()
    mode = invoke_mode_for("lambda-stream")
    assert mode is InvokeMode.RESPONSE_STREAM
    assert f"AWS_LWA_INVOKE_MODE={mode.lwa_env}\\" in text.replace(" ", "")
    assert invoke_mode_for("lambda-buffered") is InvokeMode.BUFFERED
    assert invoke_mode_for("knative") is None


def test_layout_and_manifest() -> None:
    files = render_context(_input("cloudrun"))
    assert sorted(files) == [
        ".dockerignore",
        "Dockerfile",
        "agent/agent.py",
        "agent/agentdock.spec.json",
        "agent/prompts/system.txt",
        "agentdock-build.json",
        "entry.py",
        "requirements.txt",
    ]
    manifest = json.loads(files["agentdock-build.json"])
    assert manifest == {
        "agent": "echo_agent",
        "agentdock_version": "0.1.0",
        "command": [
            "python",
            "-m",
            "uvicorn",
            "entry:app",
            "--host",
            "0.0.0.0",
            "--port",
            "$PORT",
            "--no-server-header",
            "--no-access-log",
        ],
        "entry": "entry:app",
        "flavour": "cloudrun",
        "invoke_mode": None,
        "spec": "agent/agentdock.spec.json",
    }
    assert json.loads(files["agent/agentdock.spec.json"]) == RAW


def test_same_inputs_same_hash_and_bytes() -> None:
    a, b = render_context(_input("local")), render_context(_input("local"))
    assert a == b
    assert content_hash(a) == content_hash(b)
    reordered = _input("local", sources=dict(reversed(list(_input("local").sources.items()))))
    assert content_hash(render_context(reordered)) == content_hash(a)


def test_any_change_changes_the_hash() -> None:
    base = content_hash(render_context(_input("local")))
    changed_byte = _input(
        "local", sources={"agent.py": b"def build():\n    return 1\n", "prompts/system.txt": b"Be brief.\n"}
    )
    renamed = _input(
        "local",
        sources={"agent2.py": b"def build():\n    return None\n", "prompts/system.txt": b"Be brief.\n"},
    )
    other_flavour = _input("knative")
    hashes = {base} | {content_hash(render_context(i)) for i in (changed_byte, renamed, other_flavour)}
    assert len(hashes) == 4


def test_hash_is_unambiguous_between_path_and_content() -> None:
    # Moving bytes from a path into the content must not give the same stream.
    assert content_hash({"ab": b"c"}) != content_hash({"a": b"bc"})
    assert content_hash({"a": b"", "b": b"x"}) != content_hash({"a": b"x", "b": b""})
    assert content_hash({}).startswith("sha256:")


def test_frozen_spec_is_canonical_json() -> None:
    one = frozen_spec_json({"b": 1, "a": {"z": "${X}", "y": [1, 2]}})
    two = frozen_spec_json({"a": {"y": [1, 2], "z": "${X}"}, "b": 1})
    assert one == two
    assert b"${X}" in one
