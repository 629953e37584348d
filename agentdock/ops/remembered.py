"""Remembered settings: where each deployed agent lives, so later commands need no flags.

Like ``samconfig.toml`` or ``gcloud config``: a successful ``deploy`` records, per agent, the
target, the store URL it was given (flag, ``deploy.store`` or ``AGENTDOCK_STORE``), the region,
endpoint URL, kube context, local port and function name in ``$AGENTDOCK_HOME/agents.json``. Every later
command for that agent (``status``, ``rollback``, ``logs``, ``destroy``, ``keys``, ``versions``,
``audit``, ``serve``, a redeploy) starts from those values; a flag given on the command line
wins for that one call. The file holds locations only, never a secret: a store URL that carries
a password is not remembered (give it through ``AGENTDOCK_STORE``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agentdock.targets_catalog import DEFAULT_TARGET

FILE_NAME = "agents.json"
FIELDS = ("target", "store", "region", "endpoint_url", "context", "port", "function_name")


@dataclass(frozen=True)
class Where:
    """Where one agent lives: remembered values with the command's flags on top."""

    target: str = DEFAULT_TARGET
    store: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    context: str | None = None  # knative: the kubeconfig context
    port: int | None = None
    function_name: str | None = None


def settings_file() -> Path:
    from agentdock.store import agentdock_home

    return agentdock_home() / FILE_NAME


def _read() -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(settings_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def recall(agent: str) -> dict[str, Any]:
    """The values remembered for ``agent`` (empty when it was never deployed from here)."""
    entry = _read().get(agent)
    return (
        {k: v for k, v in entry.items() if k in FIELDS and v is not None} if isinstance(entry, dict) else {}
    )


def where(agent: str, **flags: Any) -> Where:
    """Remembered values for ``agent`` overlaid with the flags that were given (not None). A
    different ``target`` than the remembered one drops the remembered location values."""
    known = recall(agent)
    target = flags.get("target")
    if target is not None and target != known.get("target", target):
        known = {}
    merged = {**known, **{k: v for k, v in flags.items() if k in FIELDS and v is not None}}
    return Where(**merged)


def remember(agent: str, **values: Any) -> None:
    """Record where ``agent`` now lives (None values are kept from before). Atomic, mode 0600."""
    from agentdock.store import redact_url

    new = {k: v for k, v in values.items() if k in FIELDS and v is not None}
    if isinstance(new.get("store"), str) and redact_url(new["store"]) != new["store"]:
        del new["store"]  # a URL with a password is not written (keep AGENTDOCK_STORE for it)
    data = _read()
    entry = {**(data.get(agent) or {}), **new}
    data[agent] = entry
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".agents-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def as_dict(w: Where) -> dict[str, Any]:
    return {k: v for k, v in asdict(w).items() if v is not None}
