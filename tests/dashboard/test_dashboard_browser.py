"""The console in a real browser (Debian's Chromium driven by Playwright), against two agents
deployed for real on the local target and ``agentdock dashboard`` started as a user would.

Screenshots land in ``$AGENTDOCK_TEST_ARTIFACTS/dashboard`` (default ``test-artifacts/``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdock.testing.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("AGENTDOCK_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "dashboard"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "agentdock", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return dict(json.loads(out.stdout))


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: apt-get install chromium (.ci/run does)")
    tmp = tmp_path_factory.mktemp("console")
    env = {**os.environ, "AGENTDOCK_HOME": str(tmp / "home"), "AGENTDOCK_ACTOR": "ops"}
    env.pop("AGENTDOCK_STORE", None)
    summarizer = tmp / "doc_summarizer"
    shutil.copytree(ROOT / "examples" / "doc_summarizer", summarizer)
    translator = tmp / "lc_translator"
    shutil.copytree(ROOT / "examples" / "lc_translator", translator)
    ports = {"doc_summarizer": _free_port(), "lc_translator": _free_port()}
    first = _cli(env, "deploy", str(summarizer / "Dockfile.yaml"), "--port", str(ports["doc_summarizer"]))
    with (summarizer / "agent.py").open("a") as fh:
        fh.write("\n# v2: a new version of the same agent\n")
    _cli(env, "deploy", str(summarizer / "Dockfile.yaml"), "--port", str(ports["doc_summarizer"]))
    _cli(env, "deploy", str(translator / "Dockfile.yaml"), "--port", str(ports["lc_translator"]))
    port = _free_port()
    log = (tmp / "dashboard.out").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentdock", "dashboard", "--port", str(port), "--json"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp / "dashboard.out").read_text()
            time.sleep(0.1)
        text = (tmp / "dashboard.out").read_text()
        started = json.loads(text[: text.index("}") + 1])
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield {
            "url": url,
            "env": env,
            "admin_key": started["admin_key"],
            "agent_key": first["api_key"],
            "ports": ports,
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for agent in ports:
            subprocess.run(
                [sys.executable, "-m", "agentdock", "destroy", agent, "--yes"],
                env=env,
                capture_output=True,
                timeout=60,
            )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        yield chromium
        chromium.close()


def _sign_in(page: Any, url: str, key: str) -> None:
    page.goto(url)
    page.fill("#signin-key", key)
    page.click("#signin-submit")
    page.wait_for_selector("#agents tbody tr")


def _invoke(console: dict[str, Any], key: str) -> int:
    port = console["ports"]["doc_summarizer"]
    res = httpx.post(
        f"http://127.0.0.1:{port}/invoke",
        json={"text": "One. Two. Three."},
        headers={"x-api-key": key},
        timeout=30,
    )
    return res.status_code


def test_page_loads_within_budget(console: dict[str, Any], browser: Any) -> None:
    page = browser.new_page()
    started = time.monotonic()
    page.goto(console["url"])
    page.wait_for_selector("#signin-form")
    elapsed = time.monotonic() - started
    page.screenshot(path=str(ARTIFACTS / "01-signin.png"))
    assert elapsed < 2.0, f"sign-in page took {elapsed:.2f} s"
    page.close()


def test_admin_operates_agents(console: dict[str, Any], browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    _sign_in(page, console["url"], console["admin_key"])
    expect(page.locator('tr[data-agent="doc_summarizer"] .live-version')).to_have_text("v2")
    expect(page.locator('tr[data-agent="lc_translator"] .live-version')).to_have_text("v1")
    page.screenshot(path=str(ARTIFACTS / "02-agents.png"))

    # metrics move while the agent is called (pushed over SSE, no reload)
    page.goto(console["url"] + "#/agents/doc_summarizer/metrics")
    page.select_option("#window", "5m")
    page.wait_for_selector("#m-requests")
    before = int(page.inner_text("#m-requests"))
    for _ in range(3):
        assert _invoke(console, console["agent_key"]) == 200
    expect(page.locator("#m-requests")).to_have_text(str(before + 3), timeout=5000)
    page.screenshot(path=str(ARTIFACTS / "03-metrics.png"))

    # logs: a live tail, searchable by trace id
    port = console["ports"]["doc_summarizer"]
    traced = httpx.post(
        f"http://127.0.0.1:{port}/invoke",
        json={"text": "Trace me. Please."},
        headers={"x-api-key": console["agent_key"]},
        timeout=30,
    )
    trace_id = traced.headers["x-trace-id"]
    page.goto(console["url"] + "#/agents/doc_summarizer/logs")
    expect(page.locator("#log-lines")).to_contain_text(trace_id, timeout=5000)
    page.fill("#log-query", trace_id)
    page.dispatch_event("#log-query", "change")
    page.uncheck("#log-live")
    expect(page.locator("#log-lines")).to_contain_text(trace_id)
    shown = [line for line in page.inner_text("#log-lines").splitlines() if line.strip()]
    assert shown and all(trace_id in line for line in shown), shown
    page.screenshot(path=str(ARTIFACTS / "03b-logs.png"))

    # rollback: the page shows v1 within 1 s of the move, and the CLI agrees
    page.goto(console["url"] + "#/agents/doc_summarizer/deployments")
    with page.expect_response(lambda r: r.url.endswith("/rollback")) as moved:
        page.click('button[data-rollback="1"]')
    assert moved.value.status == 200, moved.value.text()
    expect(page.locator("#live")).to_have_text("live v1", timeout=1000)
    page.screenshot(path=str(ARTIFACTS / "04-rolled-back.png"))
    status = _cli(console["env"], "status", "doc_summarizer")
    assert status["live_version"] == 1

    # a key is shown once, works, and is refused by the agent after revocation
    page.goto(console["url"] + "#/agents/doc_summarizer/keys")
    page.fill("#key-role", "developer")
    page.click("#key-create")
    secret = page.inner_text("#new-key").strip()
    assert secret.startswith("agd_")
    page.screenshot(path=str(ARTIFACTS / "05-key-created.png"))
    assert _invoke(console, secret) == 200
    key_id = secret.split("_")[1]
    page.click(f'button[data-revoke="{key_id}"]')
    expect(page.locator(f'tr[data-key="{key_id}"] .pill')).to_have_text("revoked", timeout=3000)
    page.reload()  # a fresh page: the key list comes from the API, which never returns a secret
    page.wait_for_selector(f'tr[data-key="{key_id}"]')
    assert secret not in page.content()  # shown once: never rendered again
    deadline = time.monotonic() + 8  # the agent's key cache sees a revocation within 5 s
    while _invoke(console, secret) == 200:
        assert time.monotonic() < deadline, "the revoked key still works"
        time.sleep(0.25)

    # the playground streams tokens from the live version
    page.goto(console["url"] + "#/agents/doc_summarizer/playground")
    page.fill("#play-key", console["agent_key"])
    page.click("#play-stream")
    page.wait_for_selector('#play-out[data-done="1"]', timeout=15000)
    streamed = page.inner_text("#play-out").strip()
    assert streamed and not streamed.startswith("{") and "[error]" not in streamed, streamed
    page.screenshot(path=str(ARTIFACTS / "06-playground.png"))
    page.close()


def test_viewer_sees_no_controls_and_the_api_refuses(console: dict[str, Any], browser: Any) -> None:
    from agentdock.dashboard.auth import CONSOLE
    from agentdock.ops.keys import create_key
    from agentdock.store import open_store

    home = Path(console["env"]["AGENTDOCK_HOME"])
    with open_store(f"sqlite:///{home / 'agentdock.db'}") as store:
        viewer_key, _ = create_key(store, CONSOLE, "viewer", actor="test")
    context = browser.new_context(viewport={"width": 420, "height": 800})  # a narrow window
    page = context.new_page()
    _sign_in(page, console["url"], viewer_key)
    page.goto(console["url"] + "#/agents/doc_summarizer/deployments")
    page.wait_for_selector('tr[data-version="2"]')
    assert page.locator("button[data-rollback]").count() == 0
    assert page.locator('[data-tab="keys"]').count() == 0
    page.screenshot(path=str(ARTIFACTS / "07-viewer-narrow.png"), full_page=True)
    csrf = page.evaluate("() => fetch('/api/session').then(r => r.json()).then(d => d.csrf)")
    res = page.request.post(
        console["url"] + "api/agents/doc_summarizer/rollback",
        data={"version": 2},
        headers={"x-csrf-token": csrf},
    )
    assert res.status == 403
    assert page.request.get(console["url"] + "api/agents/doc_summarizer/keys").status == 403
    context.close()
