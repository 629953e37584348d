"""Two questions about redact patterns, answered from Python's own regex parser.

* ``backtracking_risk``: does the pattern nest a variable-length repeat inside an unbounded
  one (``(a+)+``, ``(\\w+\\s?)*``)? Those take exponential time on a near-miss input, and
  redaction runs on every request and every streamed chunk.
* ``example``: a short string the pattern matches (``\\d{3}-\\d{4}`` -> ``111-1111``), used to
  show that two patterns overlap (one pattern matches the other's example).

Both are heuristics: they never raise, and ``None`` means "nothing to say".
"""

from __future__ import annotations

import re
import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants as sc
    import sre_parse

_REPEATS = (sc.MAX_REPEAT, sc.MIN_REPEAT)
_CATEGORY_CHAR = {
    sc.CATEGORY_DIGIT: "1",
    sc.CATEGORY_NOT_DIGIT: "a",
    sc.CATEGORY_WORD: "a",
    sc.CATEGORY_NOT_WORD: " ",
    sc.CATEGORY_SPACE: " ",
    sc.CATEGORY_NOT_SPACE: "a",
}
_CATEGORY_RE = {
    sc.CATEGORY_DIGIT: r"\d",
    sc.CATEGORY_NOT_DIGIT: r"\D",
    sc.CATEGORY_WORD: r"\w",
    sc.CATEGORY_NOT_WORD: r"\W",
    sc.CATEGORY_SPACE: r"\s",
    sc.CATEGORY_NOT_SPACE: r"\S",
}
_CANDIDATES = "a1 Z_-.@x#"


def _parse(pattern: str) -> Any:
    try:
        return sre_parse.parse(pattern)
    except Exception:
        return None


def backtracking_risk(pattern: str) -> str | None:
    """The offending fragment's description when a variable repeat sits inside an unbounded one."""
    parsed = _parse(pattern)
    return _nested(parsed, outer=False) if parsed is not None else None


def _nested(items: Any, *, outer: bool) -> str | None:
    for op, av in items:
        if op in _REPEATS:
            low, high, body = av
            variable = high == sc.MAXREPEAT or high != low
            if outer and variable and high > 1:
                return "a variable-length repeat inside an unbounded repeat"
            found = _nested(body, outer=outer or high == sc.MAXREPEAT)
        elif op == sc.SUBPATTERN:
            found = _nested(av[-1], outer=outer)
        elif op == sc.BRANCH:
            found = next((r for r in (_nested(b, outer=outer) for b in av[1]) if r), None)
        else:  # atomic groups and possessive repeats never backtrack into themselves: safe
            found = None
        if found:
            return found
    return None


def example(pattern: str) -> str | None:
    """A short string ``pattern`` finds, or None when one cannot be built."""
    parsed = _parse(pattern)
    if parsed is None:
        return None
    try:
        text = _build(parsed)
    except _GiveUp:
        return None
    try:
        return text if text and re.search(pattern, text) else None
    except re.error:
        return None


class _GiveUp(Exception):
    pass


def _build(items: Any) -> str:
    out: list[str] = []
    for op, av in items:
        if op == sc.LITERAL:
            out.append(chr(av))
        elif op == sc.NOT_LITERAL:
            out.append(next(c for c in _CANDIDATES if ord(c) != av))
        elif op == sc.ANY:
            out.append("a")
        elif op == sc.IN:
            out.append(_one_of(av))
        elif op == sc.CATEGORY:
            out.append(_CATEGORY_CHAR.get(av, "a"))
        elif op == sc.BRANCH:
            out.append(_build(av[1][0]))
        elif op == sc.SUBPATTERN:
            out.append(_build(av[-1]))
        elif op in (*_REPEATS, sc.POSSESSIVE_REPEAT):
            low, high, body = av
            out.append(_build(body) * min(max(low, 1), high))
        elif op == sc.ATOMIC_GROUP:
            out.append(_build(av))
        elif op in (sc.AT, sc.ASSERT, sc.ASSERT_NOT):
            continue
        else:  # back-references, conditionals: not worth guessing
            raise _GiveUp
    return "".join(out)


def _one_of(items: Any) -> str:
    """A character of a ``[...]`` set (or, for ``[^...]``, a candidate outside it)."""
    if items and items[0][0] == sc.NEGATE:
        outside = next((c for c in _CANDIDATES if not _in_set(items[1:], c)), None)
        if outside is None:
            raise _GiveUp
        return outside
    op, av = items[0]
    if op == sc.LITERAL:
        return chr(av)
    if op == sc.RANGE:
        return chr(av[0])
    if op == sc.CATEGORY:
        return _CATEGORY_CHAR.get(av, "a")
    raise _GiveUp


def _in_set(items: Any, char: str) -> bool:
    for op, av in items:
        if op == sc.LITERAL and chr(av) == char:
            return True
        if op == sc.RANGE and av[0] <= ord(char) <= av[1]:
            return True
        if op == sc.CATEGORY and re.fullmatch(_CATEGORY_RE.get(av, "(?!)"), char):
            return True
    return False
