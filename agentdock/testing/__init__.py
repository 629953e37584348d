"""Test doubles for AgentDock users and for our own tests: an in-memory store
(``agentdock.store.memory.MemoryStore``, ``open_store("memory://")``), ``RecordingTarget`` (a
target that records what it receives, on the real release core), ``FakeAwsClients`` (the typed
AWS seam of the Lambda target), ``fake_chat`` (a fake chat model) and ``browser`` (how to launch
Debian's Chromium for browser tests). Import the submodule you need; nothing here is imported by
the runtime."""
