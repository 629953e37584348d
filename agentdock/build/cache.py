"""Where build caches live: the agentdock wheel (by source hash), requirement locks (by input
hash) and preflight environments (by lock hash).

``AGENTDOCK_CACHE`` wins; else ``$XDG_CACHE_HOME/agentdock``; else ``~/.cache/agentdock``. Kept
outside ``AGENTDOCK_HOME`` on purpose: a fresh home (a test, a new store) should not mean a cold
pip install. Everything here can be deleted at any time.
"""

from __future__ import annotations

import os
from pathlib import Path

from agentdock.settings import ENV_CACHE


def cache_dir(kind: str) -> Path:
    base = os.environ.get(ENV_CACHE) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "agentdock"
    )
    folder = Path(base).expanduser() / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder
