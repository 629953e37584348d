"""Build contexts: the Dockerfile per flavour, the entry module, the frozen spec, the agent's
source and pinned requirements, identified by a content hash. ``render`` is pure; ``context``
reads inputs and writes the result; ``builder`` runs a container engine when one works."""

from agentdock.build.context import (
    Rendered,
    artifact_for,
    build_context,
    collect_sources,
    default_out_dir,
    prepare,
    read_context,
    write_context,
)
from agentdock.build.flavours import FLAVOURS, InvokeMode, flavour_for, invoke_mode_for
from agentdock.build.render import RenderInput, content_hash, render_context

__all__ = [
    "FLAVOURS",
    "InvokeMode",
    "RenderInput",
    "Rendered",
    "artifact_for",
    "build_context",
    "collect_sources",
    "content_hash",
    "default_out_dir",
    "flavour_for",
    "invoke_mode_for",
    "prepare",
    "read_context",
    "render_context",
    "write_context",
]
