"""Fixtures for the Knative target tests: the Kubernetes API stand-in on 127.0.0.1 (``standin.py``),
a kubeconfig pointing at it, and a ``KnativeClient`` built from that kubeconfig by the real
``kubernetes`` client (the same path a user's ``--context`` takes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from standin import KubeStandIn

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def standin() -> Iterator[KubeStandIn]:
    server = KubeStandIn().start()
    try:
        yield server
    finally:
        server.stop()
        # Every Service the stand-in received was validated against the CRD schema; none may fail
        # unless a test sent an invalid one on purpose (and then cleared the record).
        assert not server.state.invalid, server.state.invalid


@pytest.fixture
def kubeconfig(standin: KubeStandIn, tmp_path: Path) -> Path:
    return standin.kubeconfig(tmp_path / "kubeconfig", context="standin", namespace="agents")
