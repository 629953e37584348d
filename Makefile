# AgentDock developer shortcuts. Each target creates the venv ($(VENV), default .venv) and installs
# what it needs, so on a fresh clone one command is enough:
#   make demo        .venv + agentdock[cli] -> deploy examples/doc_summarizer on the local target
#                    (prints the URL, an API key shown once, and a curl line). PORT=8099 to move it.
#   make demo-down   stop it (destroy; versions and audit stay in the store)
#   make test        .venv + agentdock[dev] -> ruff, ruff format --check, mypy, import contracts,
#                    the whole test suite (what .ci/run runs, with VENV=.venv-ci)
#   make wheel       build dist/agentdock-<version>-py3-none-any.whl (timestamps from the last commit,
#                    so the same checkout gives the same bytes); ship it in images via AGENTDOCK_WHEEL

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DOCKFILE := examples/doc_summarizer/Dockfile.yaml
PORT ?=

.PHONY: demo demo-down test lint wheel

# The smallest install that deploys locally: agentdock[cli] (runtime + CLI). Skipped when the
# venv already has agentdock (e.g. a dev venv with .[dev]).
$(BIN)/agentdock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[cli]'

# Everything the tests need; redone when pyproject.toml changes.
$(VENV)/.dev-installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/agentdock
	$(BIN)/agentdock deploy $(DEMO_DOCKFILE) $(if $(PORT),--port $(PORT))

demo-down: $(BIN)/agentdock
	$(BIN)/agentdock destroy doc_summarizer --yes

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy agentdock adapters targets
	$(BIN)/python .ci/lint_imports.py

test: lint
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -q

wheel: $(BIN)/agentdock
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 315532800) \
		$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .
