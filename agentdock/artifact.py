"""The build's product, read by every target: a leaf (build and targets both import it; it
imports nothing of AgentDock)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Artifact:
    """A rendered build context: its folder, content hash and, when built/pushed, an image ref."""

    context_dir: str
    content_hash: str
    image: str | None = None
    flavour: str = "local"
