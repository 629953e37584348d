"""Shared helpers for the Knative tests: a loaded example and its model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentdock.targets.knative.model import KnativeModel, resolve_model

from agentdock.spec import load_dockfile
from agentdock.spec.interpolate import references

ROOT = Path(__file__).resolve().parents[2]
HASH = "sha256:" + "ab" * 32
IMAGE = "registry.example.com/agents/invoice:1.2.0"


def example(name: str = "invoice_copilot") -> Any:
    return load_dockfile(ROOT / "examples" / name / "Dockfile.yaml", allow_unresolved=True)


def model_of(name: str = "invoice_copilot", **kw: Any) -> KnativeModel:
    loaded = example(name)
    refs = [(r.var, r.default) for r in references(loaded.raw)]
    kw.setdefault("image", IMAGE)
    model, _ = resolve_model(loaded.spec, content_hash=HASH, references=refs, **kw)
    return model
