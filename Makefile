# AgentDock developer shortcuts.
#   make demo        fresh clone -> .venv -> deploy examples/doc_summarizer on the local target
#                    (prints the URL, an API key shown once, and a curl line). PORT=8099 to move it.
#   make demo-down   stop it (destroy; versions and audit stay in the store)
#   make wheel       build dist/agentdock-<version>-py3-none-any.whl in a clean copy of the sources with
#                    build isolation (timestamps from the last commit, so the same checkout gives the
#                    same bytes). `agentdock build` builds (and caches) the same wheel by itself.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DOCKFILE := examples/doc_summarizer/Dockfile.yaml
PORT ?=

.PHONY: demo demo-down wheel

# The smallest install that deploys locally: agentdock[cli] (runtime + CLI). Skipped when the
# venv already has agentdock (e.g. a dev venv with .[dev]).
$(BIN)/agentdock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[cli]'

demo: $(BIN)/agentdock
	$(BIN)/agentdock deploy $(DEMO_DOCKFILE) $(if $(PORT),--port $(PORT))

demo-down: $(BIN)/agentdock
	$(BIN)/agentdock destroy doc_summarizer --yes

wheel: $(BIN)/agentdock
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 315532800) \
		$(BIN)/python -m agentdock.build.wheel --out dist
