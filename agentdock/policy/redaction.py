"""Redaction: the Dockfile's ``redact_patterns`` applied to string leaves, whole or streamed.

All patterns are applied in ONE left-to-right pass, as if they were one alternation
``p0|p1|...``: at each position the earliest match wins, ties go to the pattern listed first,
and scanning resumes after the match. Each pattern still runs as its own compiled regex, so
its flags and groups stay its own. Because every pattern sees the original text, the
``[REDACTED]`` marker is never itself re-matched, and the stream filter can reproduce the
whole-text result exactly (see ``agentdock.policy.stream``).

Only string leaves are redacted (dict keys and numbers are kept), so a pattern can never
break the JSON structure of an input or output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from agentdock.errors import PolicyValidationError
from agentdock.policy.patterns import may_match, needles, reach

REPLACEMENT = "[REDACTED]"

Span = tuple[int, int, int]  # start, end, pattern index


class Redactor:
    """Compiled ``policies.safety.redact_patterns``: built once per process."""

    def __init__(self, patterns: Sequence[str]) -> None:
        compiled: list[re.Pattern[str]] = []
        for i, text in enumerate(patterns):
            path = f"policies.safety.redact_patterns[{i}]"
            try:
                pattern = re.compile(text)
            except re.error as exc:
                raise PolicyValidationError(path, f"regex does not compile: {exc}") from None
            if pattern.fullmatch(""):
                raise PolicyValidationError(
                    path, "regex matches the empty string", hint="make at least one character mandatory"
                )
            compiled.append(pattern)
        self.patterns = tuple(compiled)
        self._needles = tuple(needles(p) for p in compiled)
        # Characters the stream filter holds back: no match (with its context) is longer.
        self.reach = max((reach(p) for p in compiled), default=0)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def spans(self, text: str, pos: int = 0, stop: int | None = None) -> list[Span]:
        """The matches of the single left-to-right pass over ``text[pos:]`` that START before
        ``stop``. ``text[:pos]`` is context only: lookbehinds and ``\\b`` see it, matches don't
        begin in it."""
        stop = len(text) + 1 if stop is None else stop
        live = [i for i, needle in enumerate(self._needles) if may_match(needle, text)]
        if not live:
            return []
        pending = {i: self.patterns[i].search(text, pos) for i in live}
        out: list[Span] = []
        while True:
            best: re.Match[str] | None = None
            best_i = -1
            for i, m in pending.items():
                if m is not None and (best is None or m.start() < best.start()):
                    best, best_i = m, i
            if best is None or best.start() >= stop:
                return out
            end = best.end()
            if end == best.start():
                # fullmatch("") was refused, but a lookaround can still match empty: skip it.
                pending[best_i] = self.patterns[best_i].search(text, end + 1)
                continue
            out.append((best.start(), end, best_i))
            for i, m in pending.items():
                if m is not None and m.start() < end:
                    pending[i] = self.patterns[i].search(text, end)

    def redact(self, text: str) -> tuple[str, list[Span]]:
        found = self.spans(text)
        return (splice(text, found, 0, len(text)) if found else text), found


def splice(text: str, spans: list[Span], start: int, end: int) -> str:
    """``text[start:end]`` with each span (all inside that range) replaced by the marker."""
    parts: list[str] = []
    cursor = start
    for s, e, _ in spans:
        parts.append(text[cursor:s])
        parts.append(REPLACEMENT)
        cursor = e
    parts.append(text[cursor:end])
    return "".join(parts)


def redact_tree(redactor: Redactor, value: Any, hits: list[int]) -> Any:
    """A copy of ``value`` with every string leaf redacted; containers are rebuilt only where
    something changed. ``hits[i]`` counts the matches of pattern ``i``."""
    if isinstance(value, str):
        redacted, found = redactor.redact(value)
        for _, _, i in found:
            hits[i] += 1
        return redacted
    if isinstance(value, dict):
        changed = {k: redact_tree(redactor, v, hits) for k, v in value.items()}
        return value if all(changed[k] is value[k] for k in value) else changed
    if isinstance(value, list | tuple):
        items = [redact_tree(redactor, v, hits) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    return value


def string_leaves(value: Any) -> list[str]:
    """Every string leaf of a JSON-like value, in document order."""
    out: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list | tuple):
            stack.extend(reversed(item))
    return out
