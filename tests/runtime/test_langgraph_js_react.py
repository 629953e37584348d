"""LangGraph's React hook (``useStream`` from ``@langchain/langgraph-sdk/react``) in headless Chromium.

``tests/js/use_stream_page.jsx`` (React + the hook) is bundled with esbuild into a tmp dir and
served from 127.0.0.1 on its own port; the agent is served on another port with
``expose.cors`` allowing the page's origin, so every call the hook makes is a real cross-origin
browser request (preflight, ``x-api-key``). Debian's Chromium, never a downloaded browser.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from jshelpers import run_node
from lghelpers import Served, invoice_spec, review_graph, review_spec, serve_agent

from agentdock.spec.models import CORS, DockSpec
from agentdock.testing.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.integration

CARD = "4111111111111111"
EMAIL = "billing@acme.example"
WAIT_MS = 20_000

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>useStream</title><link rel="icon" href="data:,"></head>
<body><div id="root"></div>
<script>window.__CONFIG = {config};</script>
<script src="page.js"></script></body></html>
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The bundled page's folder and the origin serving it (a static server on 127.0.0.1)."""
    root = tmp_path_factory.mktemp("use_stream_page")
    built = run_node("build_page.mjs", str(root), timeout=120)
    assert built["bytes"] > 10_000
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: `make test` installs it (`make chromium`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), timeout=30_000)
        yield chromium
        chromium.close()


def with_cors(spec: DockSpec, origin: str) -> DockSpec:
    return spec.model_copy(update={"expose": spec.expose.model_copy(update={"cors": CORS(origins=[origin])})})


def open_page(
    browser: Any, site: tuple[Path, str], served: Served, assistant: str, input: str, reconnect: bool = False
) -> tuple[Any, list[str]]:
    """The page on ``served`` (as alice), and the list its script errors and console errors go to."""
    root, origin = site
    config = {
        "apiUrl": served.url,
        "apiKey": served.keys["alice"],
        "assistantId": assistant,
        "input": input,
        "reconnect": reconnect,
    }
    name = f"{assistant}.html"
    (root / name).write_text(PAGE.replace("{config}", json.dumps(config)))
    page = browser.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{origin}/{name}")
    return page, errors


def send(page: Any, text: str, runs_done: int) -> None:
    from playwright.sync_api import expect

    page.fill("#input", text)
    page.click("#send")
    expect(page.locator("#finished")).to_have_text(str(runs_done), timeout=WAIT_MS)
    expect(page.locator("#status")).to_have_text("idle")


def test_use_stream_renders_streamed_messages_and_keeps_the_thread(
    browser: Any, site: tuple[Path, str]
) -> None:
    from playwright.sync_api import expect

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AGENTDOCK_FAKE_MODEL", "1")
        mp.delenv("AGENTDOCK_STORE", raising=False)
        spec, base = invoice_spec("memory")
        with serve_agent(with_cors(spec, site[1]), base) as served:
            page, errors = open_page(browser, site, served, "invoice_copilot", "messages")
            try:
                send(page, "What is the total of INV-1001?", 1)
                items = page.locator("#messages li")
                expect(items).to_have_count(4)  # question, tool call, tool result, answer
                answer = items.nth(3)
                expect(answer).to_have_attribute("data-type", "ai")
                expect(answer).to_contain_text("totals 1250.00 EUR")
                seen = page.evaluate("window.__seen")
                first_answer = page.locator("#messages li").nth(3).inner_text()
                run_id = page.locator("#run").inner_text()
                thread_id = page.locator("#thread").inner_text()

                send(page, "And INV-1002?", 2)  # the same thread: the first exchange stays
                expect(items).to_have_count(8)
                expect(items.nth(0)).to_have_text("What is the total of INV-1001?")
                expect(items.nth(7)).to_contain_text("totals 89.90 USD")
                body = page.locator("main").inner_text()
                assert page.locator("#error").inner_text() == ""
                assert page.locator("#thread").inner_text() == thread_id
            finally:
                page.close()
            key = {"x-api-key": served.keys["alice"]}
            run = httpx.get(f"{served.url}/threads/{thread_id}/runs/{run_id}", headers=key).json()
    # the answer was rendered in pieces as tokens arrived, then whole
    partial = [s for s in seen if s != first_answer and first_answer.startswith(s)]
    assert len(partial) >= 2, seen
    assert run["status"] == "success"  # onCreated had the run (Content-Location, exposed by CORS)
    assert CARD not in body and EMAIL not in body and "[REDACTED]" in body
    assert errors == []


def test_use_stream_interrupt_and_resume(browser: Any, site: tuple[Path, str]) -> None:
    from playwright.sync_api import expect

    with serve_agent(with_cors(review_spec("memory"), site[1]), agent=review_graph()) as served:
        page, errors = open_page(browser, site, served, "review_agent", "request")
        try:
            send(page, "INV-7", 1)
            expect(page.locator("#interrupt")).to_have_text(
                '{"question":"approve this draft?","draft":"refund for INV-7"}'
            )
            page.click("#approve")
            expect(page.locator("#finished")).to_have_text("2", timeout=WAIT_MS)
            expect(page.locator("#interrupt")).to_have_text("")
            expect(page.locator("#values")).to_contain_text('"approved":true')
            assert page.locator("#error").inner_text() == ""
        finally:
            page.close()
    assert errors == []


def test_use_stream_rejoins_a_running_run_after_a_reload(browser: Any, site: tuple[Path, str]) -> None:
    """``reconnectOnMount``: the hook keeps the run id (from ``Content-Location``) and, after a
    reload mid-run, joins the run's stream (``GET .../runs/{run}/stream``) and renders the rest."""
    from playwright.sync_api import expect

    with serve_agent(with_cors(review_spec("memory"), site[1]), agent=review_graph()) as served:
        page, errors = open_page(browser, site, served, "review_agent", "request", reconnect=True)
        gets: list[str] = []  # the paths the page GETs (a joined stream is GET .../runs/{run}/stream)
        page.on("request", lambda r: gets.append(urlsplit(r.url).path) if r.method == "GET" else None)
        try:
            page.fill("#input", "slow reload")
            page.click("#send")
            expect(page.locator("#progress")).to_contain_text("1,2", timeout=WAIT_MS)  # the run is going
            run_id = page.locator("#run").inner_text()
            thread_id = page.locator("#thread").inner_text()
            page.reload()
            expect(page.locator("#values")).to_contain_text(
                '"draft":"refund for slow reload"', timeout=WAIT_MS
            )
            expect(page.locator("#progress")).to_contain_text("8")
            expect(page.locator("#interrupt")).to_have_text(
                '{"question":"approve this draft?","draft":"refund for slow reload"}'
            )
            expect(page.locator("#status")).to_have_text("idle")
            progress = page.locator("#progress").inner_text()
            assert page.locator("#error").inner_text() == ""
        finally:
            page.close()
    assert [g for g in gets if g.endswith("/stream")] == [f"/threads/{thread_id}/runs/{run_id}/stream"]
    assert progress.split(",")[-1] == "8"  # the rest of the run came over the joined stream
    assert errors == []


def test_cors_lets_a_browser_read_where_the_run_is() -> None:
    """A browser client reads ``Content-Location`` (the run) and ``Location`` (where to rejoin)
    only when CORS exposes them: without it, useStream's ``onCreated`` never fires."""
    origin = "http://127.0.0.1:5173"
    with serve_agent(with_cors(review_spec("memory"), origin), agent=review_graph()) as served:
        preflight = httpx.options(
            f"{served.url}/threads",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type,x-api-key,last-event-id",
            },
        )
        headers = {"origin": origin, "x-api-key": served.keys["alice"]}
        tid = httpx.post(f"{served.url}/threads", json={}, headers=headers).json()["thread_id"]
        body = {"assistant_id": "review_agent", "input": {"request": "INV-1"}, "stream_mode": ["values"]}
        with httpx.stream(
            "POST", f"{served.url}/threads/{tid}/runs/stream", json=body, headers=headers
        ) as res:
            res.read()
        elsewhere = httpx.options(
            f"{served.url}/threads",
            headers={"origin": "http://127.0.0.1:9", "access-control-request-method": "POST"},
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert {"x-api-key", "last-event-id"} <= set(
        preflight.headers["access-control-allow-headers"].split(", ")
    )
    assert res.headers["access-control-allow-origin"] == origin
    exposed = set(res.headers["access-control-expose-headers"].split(", "))
    assert {"content-location", "location", "x-trace-id"} <= exposed
    assert res.headers["content-location"].startswith(f"/threads/{tid}/runs/")
    assert elsewhere.status_code == 400  # an origin outside expose.cors gets no CORS grant
