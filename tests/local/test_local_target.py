"""The local target end to end: real processes, real HTTP through the stable port, a real
SQLite store. Deploy v1 -> change -> v2 -> rollback -> v1; failing gate; no-op redeploy;
concurrent deploys. Every process is stopped by the ``local`` fixture (destroy)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from agentdock.targets.base import Deployment, Plan
from agentdock.targets.local import LocalTarget
from agentdock.targets.local.process import alive, read_int, stop

from agentdock.build import build_context
from agentdock.errors import DeployConflict, HealthGateFailed
from agentdock.security.apikeys import generate_api_key
from agentdock.spec import load_dockfile
from agentdock.store.base import APIKeyRecord, MetadataStore, utcnow
from tests.local.conftest import Project

pytestmark = pytest.mark.integration


def plan_for(target: LocalTarget, project: Project, port: int, **options: Any) -> Plan:
    loaded = load_dockfile(project.dockfile)
    artifact = build_context(project.dockfile, flavour="local", loaded=loaded)
    return target.plan(loaded.spec, artifact, port=port, dockfile=str(project.dockfile), **options)


def deploy(target: LocalTarget, project: Project, port: int, **options: Any) -> Deployment:
    return target.apply(plan_for(target, project, port, **options))


def process_env_of(pid: int) -> dict[str, str]:
    """A running process's environment (Linux /proc)."""
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(e.decode().split("=", 1) for e in entries if b"=" in e)


def add_key(store: MetadataStore, agent: str) -> str:
    key = generate_api_key()
    store.put_key(
        APIKeyRecord(
            key_id=key.key_id, agent=agent, role="developer", key_hash=key.key_hash, created_at=utcnow()
        )
    )
    return key.key


def reply(client: httpx.Client, key: str) -> tuple[str, str]:
    r = client.post("/invoke", json={"text": "hi"}, headers={"x-api-key": key})
    assert r.status_code == 200, r.text
    return r.json()["reply"], r.headers["x-agentdock-version"]


def test_deploy_change_rollback_serves_over_the_stable_port(
    local: Any, store: MetadataStore, project: Project, port: int
) -> None:
    target: LocalTarget = local()
    first = deploy(target, project, port)
    assert (first.version, first.status, first.previous_version) == (1, "live", None)
    assert first.url == f"http://127.0.0.1:{port}"
    assert first.details["gate"]["schema"] == "ok"  # the gate read /schema with its bootstrap key
    key = add_key(store, project.name)
    with httpx.Client(base_url=first.url, timeout=10) as client:  # one kept-alive connection throughout
        assert reply(client, key) == ("v1:hi", "1")

        project.set_reply("v2")
        second = deploy(target, project, port)
        assert (second.version, second.previous_version) == (2, 1)
        assert reply(client, key) == ("v2:hi", "2")

        unchanged = deploy(target, project, port)
        assert (unchanged.status, unchanged.version) == ("unchanged", 2)
        assert "nothing to do" in unchanged.details["message"]
        assert [v.number for v in store.list_versions(project.name)] == [1, 2]

        t0 = time.monotonic()
        back = target.rollback(project.name)
        warm_ms = (time.monotonic() - t0) * 1000
        assert (back.version, back.previous_version, back.details["warm"]) == (1, 2, True)
        assert reply(client, key) == ("v1:hi", "1")
        assert warm_ms < 1000, f"a warm rollback took {warm_ms:.0f} ms"

        # Cold: the version's process is gone; rollback restarts it from its immutable context.
        v2_dir = target.home / project.name / "2"
        assert stop(read_int(v2_dir / "pid"))
        t0 = time.monotonic()
        again = target.rollback(project.name, 2)
        cold_ms = (time.monotonic() - t0) * 1000
        assert (again.version, again.details["warm"]) == (2, False)
        assert reply(client, key) == ("v2:hi", "2")
        print(
            f"\nlocal timings: deploy v1 {first.duration_ms} ms, v2 {second.duration_ms} ms, "
            f"rollback warm {warm_ms:.0f} ms (pointer move {back.details['pointer_move_ms']} ms), cold {cold_ms:.0f} ms"
        )

    st = target.status(project.name)
    assert (st.live_version, st.healthy, st.details["previous_version"]) == (2, True, 1)
    assert [(h["version"], h["status"], h["running"]) for h in st.history] == [
        (2, "live", True),
        (1, "retired", True),
    ]
    assert any(
        "Uvicorn running" in line or "Application startup complete" in line
        for line in target.logs(project.name, lines=200)
    )
    ctx = target.home / project.name / "1" / "context"
    assert not list(ctx.rglob("__pycache__")), "a version's context stays byte-identical"
    assert [a.action for a in store.list_audit(project.name)] == ["rollback", "rollback", "deploy", "deploy"]


def test_failing_health_gate_keeps_the_live_version(
    local: Any, store: MetadataStore, project: Project, port: int
) -> None:
    target: LocalTarget = local()
    deploy(target, project, port)
    key = add_key(store, project.name)
    project.break_it()
    with pytest.raises(HealthGateFailed) as err:
        deploy(target, project, port)
    assert "v2 failed its health gate" in err.value.cause
    assert "deliberately broken" in err.value.cause  # the cause comes from the process log
    assert "v1 stays live" in (err.value.hint or "")
    pointer = store.get_pointer(project.name, "local")
    assert pointer is not None and pointer.live_version == 1
    assert store.get_version(project.name, 2).status == "failed"
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        assert reply(client, key) == ("v1:hi", "1")
    assert not alive(read_int(target.home / project.name / "2" / "pid"))
    assert store.list_audit(project.name)[0].action == "deploy.failed"


def test_concurrent_deploys_end_consistent(
    local: Any, store: MetadataStore, project: Project, port: int, tmp_path: Path
) -> None:
    deploy(local(), project, port)
    plans = []
    for reply_text in ("a", "b"):
        project.set_reply(reply_text)
        plans.append((local(), plan_for(local(), project, port)))  # both planned against live v1
    results: dict[int, Any] = {}

    def run(i: int) -> None:
        target, plan = plans[i]
        try:
            results[i] = target.apply(plan)
        except DeployConflict as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    wins = [r for r in results.values() if isinstance(r, Deployment)]
    losses = [r for r in results.values() if isinstance(r, DeployConflict)]
    assert len(wins) == 1 and len(losses) == 1, results
    winner = wins[0].version
    loser = ({2, 3} - {winner}).pop()
    pointer = store.get_pointer(project.name, "local")
    assert pointer is not None and (pointer.live_version, pointer.previous_version) == (winner, 1)
    home = plans[0][0].home / project.name
    live_file = json.loads((home / "proxy" / "live.json").read_text())
    assert live_file == {"port": read_int(home / str(winner) / "port"), "version": winner}
    assert store.get_version(project.name, loser).status == "failed"
    assert not alive(read_int(home / str(loser) / "pid"))
    key = add_key(store, project.name)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        assert reply(client, key)[1] == str(winner)


def test_repair_then_destroy_stops_everything(
    local: Any, store: MetadataStore, project: Project, port: int
) -> None:
    target: LocalTarget = local()
    # deploy.env reaches the process, ${VAR} resolved from the .env beside the Dockfile.
    with project.dockfile.open("a") as f:
        f.write('deploy: {env: {LOG_LEVEL: debug, STAGE_LABEL: "${STAGE}-eu"}}\n')
    (project.root / ".env").write_text("STAGE=prod\n")
    plan = plan_for(target, project, port)
    assert plan.options["env"] == {"LOG_LEVEL": "debug", "STAGE_LABEL": "prod-eu"}
    target.apply(plan)
    home = target.home / project.name
    assert (
        process_env_of(read_int(home / "1" / "pid")).items()
        >= {"LOG_LEVEL": "debug", "STAGE_LABEL": "prod-eu"}.items()
    )
    # After a crash (or a reboot) an identical redeploy restarts the live version, no new version.
    assert stop(read_int(home / "1" / "pid"))
    repaired = deploy(target, project, port)
    assert (repaired.version, repaired.status, repaired.details["message"]) == (
        1,
        "live",
        "restarted v1 (identical content)",
    )
    assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()["version"] == "1"
    # The restart reads the version's own record: the same plain values.
    assert process_env_of(read_int(home / "1" / "pid"))["STAGE_LABEL"] == "prod-eu"
    pids = [read_int(home / "1" / "pid"), read_int(home / "proxy" / "pid")]
    assert all(alive(p) for p in pids)
    target.destroy(project.name)
    assert not any(alive(p) for p in pids)
    assert store.get_pointer(project.name, "local") is None
    assert not home.exists()
    assert [v.number for v in store.list_versions(project.name)] == [1]  # history stays
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
