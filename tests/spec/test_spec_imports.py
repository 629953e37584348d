"""Entrypoint and class imports: clear 4003/4004 causes, and no module or sys.path leaks."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from spec_helpers import Project

from agentdock.errors import EntrypointNotFoundError
from agentdock.spec import import_entrypoint, import_object, isolated_imports, validate_file

pytestmark = pytest.mark.unit


def agent_dir(root: Path, name: str, source: str) -> Path:
    folder = root / name
    Project(folder, "minimal")
    (folder / "agent.py").write_text(source)
    return folder


def test_same_named_agent_modules_never_leak_between_validations(tmp_path: Path) -> None:
    first = agent_dir(tmp_path, "one", "import helper\n\ndef build_graph():\n    return helper.NAME\n")
    (first / "helper.py").write_text("NAME = 'one'\n")
    second = agent_dir(tmp_path, "two", "def make_two():\n    return 'two'\n")
    (second / "Dockfile.yaml").write_text(
        (second / "Dockfile.yaml").read_text().replace("agent:build_graph", "agent:make_two")
    )
    path_before, modules_before = list(sys.path), dict(sys.modules)

    def loaded_from_tmp() -> list[str]:
        return [
            n
            for n, m in list(sys.modules.items())
            if str(getattr(m, "__file__", "")).startswith(str(tmp_path))
        ]

    for folder in (first, second, first):
        report = validate_file(folder / "Dockfile.yaml")
        assert report.valid, [str(e) for e in report.errors]
        assert loaded_from_tmp() == []
        # another test may have loaded its own `agent`: it must be the very same object afterwards
        assert sys.modules.get("agent") is modules_before.get("agent")
        assert sys.path == path_before
    assert set(sys.modules) - set(modules_before) == set()


def test_a_foreign_module_with_the_same_name_is_shadowed_then_restored(tmp_path: Path) -> None:
    folder = agent_dir(tmp_path, "proj", "def build_graph():\n    return 1\n")
    foreign = types.ModuleType("agent")  # e.g. a runtime that already loaded another agent.py
    sys.modules["agent"] = foreign
    try:
        assert validate_file(folder / "Dockfile.yaml").valid
        assert sys.modules["agent"] is foreign
    finally:
        del sys.modules["agent"]


def test_the_runtime_import_keeps_the_module(tmp_path: Path) -> None:
    folder = agent_dir(tmp_path, "rt", "def build_graph():\n    return 'built'\n")
    with isolated_imports(folder):  # only to clean up after this test
        target = import_entrypoint("agent:build_graph", folder)
        assert target() == "built"
        assert "agent" in sys.modules and str(folder.resolve()) in sys.path
        assert import_object("schemas.Query", folder).__name__ == "Query"
    assert "agent" not in sys.modules


@pytest.mark.parametrize(
    ("source", "entrypoint", "cause"),
    [
        (None, "missing_mod:build", "module 'missing_mod' not found"),
        (
            "import not_installed_dep_xyz\n",
            "agent:build_graph",
            "import of 'agent' failed: ModuleNotFoundError: No module named 'not_installed_dep_xyz'",
        ),
        (
            "raise RuntimeError('boom at import')\n",
            "agent:build_graph",
            "import of 'agent' failed: RuntimeError: boom at import",
        ),
        ("def build_graph(:\n", "agent:build_graph", "import of 'agent' failed: SyntaxError"),
        ("def make():\n    pass\n", "agent:build_graph", "module 'agent' has no attribute 'build_graph'"),
        (
            "build_graph = 42\n",
            "agent:build_graph",
            "'agent:build_graph' is a int, not a callable or a graph/runnable",
        ),
    ],
    ids=["no-module", "missing-dependency", "raises", "syntax-error", "no-attribute", "not-callable"],
)
def test_entrypoint_failures_are_4003_with_the_cause(
    tmp_path: Path, source: str | None, entrypoint: str, cause: str
) -> None:
    folder = agent_dir(tmp_path, "bad", source or "")
    dockfile = folder / "Dockfile.yaml"
    dockfile.write_text(dockfile.read_text().replace("agent:build_graph", entrypoint))
    errors = validate_file(dockfile).errors
    assert [(e.code, e.path) for e in errors] == [(4003, "agent.entrypoint")]
    assert errors[0].cause.startswith(cause), errors[0].cause
    assert "agent" not in sys.modules


def test_missing_attribute_hint_lists_what_is_there(tmp_path: Path) -> None:
    folder = agent_dir(tmp_path, "hint", "def make_graph():\n    pass\n\ndef other():\n    pass\n")
    with isolated_imports(folder), pytest.raises(EntrypointNotFoundError) as raised:
        import_entrypoint("agent:build_graph", folder)
    assert raised.value.hint == "names in agent: make_graph, other"


def test_graph_like_objects_are_accepted(tmp_path: Path) -> None:
    folder = agent_dir(
        tmp_path, "graph", "class G:\n    def invoke(self, x):\n        return x\n\ngraph = G()\n"
    )
    dockfile = folder / "Dockfile.yaml"
    dockfile.write_text(dockfile.read_text().replace("agent:build_graph", "agent:graph"))
    assert validate_file(dockfile).valid


def test_check_imports_off_skips_the_import(tmp_path: Path) -> None:
    folder = agent_dir(tmp_path, "off", "raise SystemExit('must not run')\n")
    assert validate_file(folder / "Dockfile.yaml", check_imports=False).valid
    assert not validate_file(folder / "Dockfile.yaml").valid


def test_no_bytecode_is_written_into_the_project(tmp_path: Path) -> None:
    folder = agent_dir(tmp_path, "pyc", "def build_graph():\n    return 1\n")
    assert validate_file(folder / "Dockfile.yaml").valid
    assert not (folder / "__pycache__").exists()


# Start-up imports of the image entry (bench/coldstart_image.py): what a function pays before
# its first 200. These load on first use instead; a module that creeps back fails here.
LAZY_AT_STARTUP = ("jwt", "cryptography", "langfuse")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.integration
def test_image_start_up_leaves_token_and_tracing_libraries_unloaded(tmp_path: Path) -> None:
    """invoice_copilot (JWT auth, LangGraph API) with Langfuse off: app_from_frozen, its lifespan
    and a first /health import neither PyJWT/cryptography nor the Langfuse SDK, and leave the
    LangGraph API's body validators unbuilt; a first JWT request still verifies."""
    import json
    import subprocess

    from agentdock.security.apikeys import generate_api_key
    from agentdock.spec import load_dockfile

    source = EXAMPLES / "invoice_copilot"
    for item in source.glob("*.py"):
        (tmp_path / item.name).write_text(item.read_text())
    raw = load_dockfile(source / "Dockfile.yaml", allow_unresolved=True, check_imports=False).raw
    raw["observability"].pop("langfuse")
    (tmp_path / "spec.json").write_text(json.dumps(raw))
    key = generate_api_key(pepper="")
    code = (
        "import json, sys\n"
        "from starlette.testclient import TestClient\n"
        "from agentdock.runtime.app import app_from_frozen\n"
        "from agentdock.runtime.langgraph_api.models import RunCreate\n"
        "from agentdock.spec import spec_from_frozen\n"
        "app = app_from_frozen('spec.json')\n"
        "with TestClient(app) as client:\n"
        "    assert client.get('/health').status_code == 200\n"
        f"    loaded = [m for m in {LAZY_AT_STARTUP!r} if m in sys.modules]\n"
        "    built = RunCreate.__pydantic_complete__\n"
        "    from agentdock.security.jwt import issue_token\n"
        "    spec = app.state.runtime.spec\n"
        "    token = issue_token(spec, sub='u1', role='developer', ttl_s=60)\n"
        "    ok = client.get('/schema', headers={'Authorization': f'Bearer {token}'}).status_code\n"
        "    bad = client.get('/schema', headers={'Authorization': 'Bearer x.y.z'}).status_code\n"
        "print(json.dumps([loaded, built, ok, bad]))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "AGENTDOCK_BOOTSTRAP_KEY_HASH": f"{key.key_id}:developer:{key.key_hash}",
        "AGENTDOCK_FAKE_MODEL": "1",
        "AGENTDOCK_HOME": str(tmp_path / "home"),
        "JWT_SECRET": "s" * 40,
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded, built, ok, bad = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [] and built is False
    assert (ok, bad) == (200, 401)
