"""Debian's Chromium for browser tests and benches, launched through Playwright: never a
downloaded browser, and with the flags that keep it off this machine's closed network (without
them it tries Google's hosts at every start)."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",  # as root (CI) Chromium refuses to start sandboxed
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
)
