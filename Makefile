# AgentDock developer shortcuts. Each target creates the venv ($(VENV), default .venv) and installs
# what it needs, so on a fresh clone one command is enough:
#   make demo        .venv + agentdock[cli] -> deploy examples/doc_summarizer on the local target
#                    (prints the URL, an API key shown once, and a curl line). PORT=8099 to move it.
#   make demo-down   stop it (destroy; versions and audit stay in the store)
#   make test        .venv + agentdock[dev] -> ruff, ruff format --check, mypy, import contracts,
#                    the whole test suite (what .ci/run runs, with VENV=.venv-ci); also installs
#                    tests/js (LangGraph's JS client and React hook, `npm ci`; needs Node.js 20+)
#   make wheel       build dist/agentdock-<version>-py3-none-any.whl in a clean copy of the sources with
#                    build isolation (timestamps from the last commit, so the same checkout gives the
#                    same bytes). `agentdock build` builds (and caches) the same wheel by itself.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DOCKFILE := examples/doc_summarizer/Dockfile.yaml
PORT ?=

.PHONY: demo demo-down test lint chromium js wheel

# The smallest install that deploys locally: agentdock[cli] (runtime + CLI). Skipped when the
# venv already has agentdock (e.g. a dev venv with .[dev]).
$(BIN)/agentdock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[cli]'

# Everything the tests need; redone when pyproject.toml changes. The reference LangGraph server
# (langgraph-cli[inmem], for the conformance test) pins jsonschema-rs below what schemathesis
# needs, so it goes on top and jsonschema-rs is put back (langgraph dev runs with it).
$(VENV)/.dev-installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet 'langgraph-cli[inmem]>=0.4'
	$(BIN)/python -m pip install --quiet 'jsonschema-rs>=0.60.1,<0.61'
	touch $@

# The console's browser tests drive Debian's Chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		{ echo "Chromium is needed for the console tests: sudo apt-get install chromium"; exit 1; }

# LangGraph's JS client and React hook (tests/runtime/test_langgraph_js*.py), exactly as the
# committed lockfile says; redone when it changes. No install scripts run (esbuild finds its
# platform binary without its postinstall).
JS_TESTS := tests/js
$(JS_TESTS)/node_modules/.installed: $(JS_TESTS)/package-lock.json $(JS_TESTS)/package.json
	@command -v npm >/dev/null || { echo "Node.js 20+ and npm are needed for the LangGraph JS tests (tests/js): sudo apt-get install nodejs npm"; exit 1; }
	npm ci --prefix $(JS_TESTS) --no-audit --no-fund --ignore-scripts
	touch $@

js: $(JS_TESTS)/node_modules/.installed

demo: $(BIN)/agentdock
	$(BIN)/agentdock deploy $(DEMO_DOCKFILE) $(if $(PORT),--port $(PORT))

demo-down: $(BIN)/agentdock
	$(BIN)/agentdock destroy doc_summarizer --yes

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy agentdock adapters targets cdk
	$(BIN)/python .ci/lint_imports.py

test: lint chromium js
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -q

wheel: $(BIN)/agentdock
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 315532800) \
		$(BIN)/python -m agentdock.build.wheel --out dist
