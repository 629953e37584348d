"""Rate-limit strings of ``auth.rate_limits``: one parser for the validator and the limiter.

Accepted: ``N/s|m|h|d`` (``100/m``), unit words (``100/minute``, ``5/sec``, ``1000/hours``) and
the long form ``100 requests/minute`` or ``100 requests per minute``. Case and spaces do not
matter. The result is normalised to ``(count, window_s)``.
"""

from __future__ import annotations

import re

WINDOWS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_UNITS: dict[str, str] = {
    **{u: "s" for u in ("s", "sec", "secs", "second", "seconds")},
    **{u: "m" for u in ("m", "min", "mins", "minute", "minutes")},
    **{u: "h" for u in ("h", "hr", "hrs", "hour", "hours")},
    **{u: "d" for u in ("d", "day", "days")},
}
_FORM = re.compile(
    r"^\s*(\d+)\s*(?:req|reqs|request|requests)?\s*(?:/|\bper\b)\s*([a-z]+)\s*$", re.IGNORECASE
)
FORMAT_HELP = "use N/s|m|h|d (e.g. 100/m) or '100 requests/minute'"


def parse_rate_limit(text: str) -> tuple[int, int]:
    """``"100/m"`` -> ``(100, 60)``. Raises ``ValueError`` naming the accepted forms."""
    match = _FORM.match(text) if isinstance(text, str) else None
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise ValueError(f"cannot parse rate limit {text!r} ({FORMAT_HELP})")
    count = int(match.group(1))
    if count < 1:
        raise ValueError(f"rate limit {text!r} allows no request at all (count must be >= 1)")
    return count, WINDOWS[unit]


def format_rate_limit(count: int, window_s: int) -> str:
    """The canonical short form: ``(100, 60)`` -> ``"100/m"``."""
    for unit, seconds in WINDOWS.items():
        if seconds == window_s:
            return f"{count}/{unit}"
    raise ValueError(f"no unit for a window of {window_s}s (use one of {sorted(WINDOWS.values())})")
