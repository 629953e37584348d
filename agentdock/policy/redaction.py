"""Redaction: the Dockfile's ``redact_patterns`` applied to string leaves, whole or streamed.

All patterns are applied in ONE left-to-right pass, as if they were one alternation
``p0|p1|...``: at each position the earliest match wins, ties go to the pattern listed first,
and scanning resumes after the match. Each pattern still runs as its own compiled regex, so
its flags and groups stay its own. Because every pattern sees the original text, the
``[REDACTED]`` marker is never itself re-matched, and the stream filter can reproduce the
whole-text result exactly (see ``agentdock.policy.stream``).

Only string leaves are redacted (dict keys and numbers are kept), so a pattern can never
break the JSON structure of an input or output.

Patterns match a Unicode-folded copy of the text (``agentdock.policy.normalize``: NFKC, format
characters removed), so fullwidth digits or a zero-width space inside a card number are still
caught; spans are mapped back, and only the redacted spans of the original text change.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agentdock.errors import PolicyValidationError
from agentdock.policy.normalize import fold
from agentdock.policy.patterns import (
    Prefilter,
    Windows,
    bounded_reach,
    cluster_finder,
    may_match,
    needles,
    pick_anchor,
    prefilter,
    reach,
    windows,
)

REPLACEMENT = "[REDACTED]"

Span = tuple[int, int, int]  # start, end, pattern index


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    needles: Prefilter  # every match contains one needle of each group
    anchor: tuple[str, ...] | None  # the needle group to search around (bounded patterns only)
    reach: int  # exact reach when anchored
    finder: re.Pattern[str] | None  # the anchor's windows in one scan (single-character anchors)


class Redactor:
    """Compiled ``policies.safety.redact_patterns``: built once per process.

    Speed (CPython's regex engine costs tens of microseconds per pattern per 4 KB): on ASCII
    text a pattern is skipped when its needles are absent (``patterns.needles``), and a bounded
    pattern is only searched in windows around its rarest needle (``patterns.windows``)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        rules: list[_Rule] = []
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
            groups = needles(pattern)
            exact = bounded_reach(pattern)
            anchor = pick_anchor(groups) if exact is not None else None
            finder = cluster_finder(anchor, exact) if anchor and exact else None
            rules.append(_Rule(pattern, prefilter(groups), anchor, exact or 0, finder))
        self._rules = tuple(rules)
        self.patterns = tuple(r.pattern for r in rules)
        # Characters the stream filter holds back: no match (with its context) is longer.
        self.reach = max((reach(p) for p in self.patterns), default=0)

    def __bool__(self) -> bool:
        return bool(self._rules)

    def spans(self, text: str, pos: int = 0, stop: int | None = None) -> list[Span]:
        """The matches of the single left-to-right pass over ``text[pos:]`` that START before
        ``stop``. ``text[:pos]`` is context only: lookbehinds and ``\\b`` see it, matches don't
        begin in it. Matching runs on the folded text; spans are in ``text``'s coordinates."""
        folded, origin = fold(text)
        if origin is None:
            return self._spans(text, pos, stop)
        found = self._spans(
            folded, bisect_left(origin, pos), None if stop is None else bisect_left(origin, stop)
        )
        out: list[Span] = []
        last = pos
        for start, end, i in found:
            # one original character can fold to several ("ﬁ" -> "fi"): keep spans disjoint
            start, end = max(origin[start], last), origin[end - 1] + 1
            if start < end:
                out.append((start, end, i))
                last = end
        return out

    def hold_start(self, text: str, hold: int) -> int:
        """The index of ``text`` from which at least ``hold`` FOLDED characters follow: what the
        stream filter keeps back (zero-width characters must not stretch a match past it)."""
        folded, origin = fold(text)
        if origin is None:
            return len(text) - hold
        return origin[len(folded) - hold] if len(folded) > hold else 0

    def _spans(self, text: str, pos: int, stop: int | None) -> list[Span]:
        stop = len(text) + 1 if stop is None else stop
        ascii_text = text.isascii()
        live: dict[int, tuple[re.Pattern[str], Windows | None]] | None = None
        for i, rule in enumerate(self._rules):
            if ascii_text and not may_match(rule.needles, text):
                continue
            if live is None:
                live = {}
            if ascii_text and rule.anchor:
                live[i] = (rule.pattern, windows(text, rule.anchor, rule.reach, len(text) // 2, rule.finder))
            else:
                live[i] = (rule.pattern, None)
        if live is None:
            return []
        pending = {i: _find(p, text, pos, win) for i, (p, win) in live.items()}
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
                pending[best_i] = _find(live[best_i][0], text, end + 1, live[best_i][1])
                continue
            out.append((best.start(), end, best_i))
            for i, m in pending.items():
                if m is not None and m.start() < end:
                    pending[i] = _find(live[i][0], text, end, live[i][1])

    def redact(self, text: str) -> tuple[str, list[Span]]:
        found = self.spans(text)
        return (splice(text, found, 0, len(text)) if found else text), found


def _find(pattern: re.Pattern[str], text: str, pos: int, win: Windows | None) -> re.Match[str] | None:
    """The leftmost match starting at or after ``pos``, searching only ``win`` when given."""
    if win is None:
        return pattern.search(text, pos)
    for lo, trusted, end in win:
        if trusted < pos:
            continue
        m = pattern.search(text, max(lo, pos), end)
        if m is not None and m.start() <= trusted:
            return m
    return None


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
    """A copy of ``value`` with every string leaf redacted; containers are copied only where
    something changed (a clean payload comes back as the same object). ``hits[i]`` counts the
    matches of pattern ``i``."""
    if isinstance(value, str):
        redacted, found = redactor.redact(value)
        for _, _, i in found:
            hits[i] += 1
        return redacted
    if isinstance(value, dict):
        out: Any = None
        for key, item in value.items():
            new = redact_tree(redactor, item, hits)
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out
    if isinstance(value, list | tuple):
        items: list[Any] | None = None
        for index, item in enumerate(value):
            new = redact_tree(redactor, item, hits)
            if new is not item:
                if items is None:
                    items = list(value)
                items[index] = new
        if items is None:
            return value
        return items if isinstance(value, list) else tuple(items)
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
