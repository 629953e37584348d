"""Every built-in target in one place: its ``--target`` name, the class behind it, the build
flavours it ships, the extra that brings its SDK and the store its functions read by default.

The CLI (names, default stores), build (``flavours.flavour_for``) and the target registry
(``agentdock.targets``) all read this module; a new target is one entry here plus its package
``targets/<name>/``. A leaf: it imports nothing, so reading it costs nothing at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TargetEntry:
    name: str  # the --target name
    ref: str  # "module:Class", imported only when the target is used
    flavours: tuple[str, ...]  # build flavours it ships; the first is its default
    extra: str  # pip extra with its SDK: pip install 'agentdock[<extra>]'
    default_store: str | None = None  # the store a deployed function reads when none is given


CATALOG: tuple[TargetEntry, ...] = (
    TargetEntry("local", "agentdock.targets.local:LocalTarget", ("local",), "cli"),
    TargetEntry(
        "lambda",
        "agentdock.targets.lambda_:LambdaTarget",
        ("lambda-buffered", "lambda-stream"),  # lambda-stream when the Dockfile streams SSE
        "aws",
        default_store="dynamodb://agentdock-meta",  # a cloud function must reach its keys' store
    ),
    TargetEntry("knative", "agentdock.targets.knative:KnativeTarget", ("knative",), "knative"),
    TargetEntry("cloudrun", "agentdock.targets.cloudrun:CloudRunTarget", ("cloudrun",), "cloudrun"),
)

DEFAULT_TARGET = "local"
TARGET_NAMES: tuple[str, ...] = tuple(e.name for e in CATALOG)
TARGETS: dict[str, str] = {e.name: e.ref for e in CATALOG}
DEFAULT_STORES: dict[str, str] = {e.name: e.default_store for e in CATALOG if e.default_store}


def entry(name: str) -> TargetEntry | None:
    return next((e for e in CATALOG if e.name == name), None)
