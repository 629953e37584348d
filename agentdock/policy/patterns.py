"""What a compiled regex tells us before we run it: how far a match can reach, and which
substrings any match must contain.

Both are read from the regex parse tree once, at startup:

* ``reach(pattern)`` bounds how many characters the stream filter must hold back so that a
  match split across token chunks is still seen whole: the longest possible match, plus
  lookaround widths, plus one character for ``\\b``/``$`` at the edge; unbounded patterns
  (``+``, ``*``, ``{n,}``) are capped at ``MAX_REACH`` = 256 characters.
* ``needles(pattern)`` is a cheap prefilter. Scanning 4 KB with even a simple regex costs tens
  of microseconds in CPython, while ``"@" in text`` costs well under one; so a pattern whose
  every match must contain ``@`` (an e-mail) is not run on text without ``@``. Needles are
  only used on ASCII text (``str.isascii()`` is O(1)), where ``\\d`` means ``0-9`` and case
  folding is plain ASCII; any other text runs every pattern.
"""

from __future__ import annotations

import re
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

MAX_REACH = 256
_MAX_SET = 12  # a char class bigger than this (e.g. \w) makes a poor needle
_MAX_GROUPS = 3  # checking more groups costs more than it saves

# A width at or above this is "unbounded": CPython reports 2**32-1 (MAXREPEAT) on older 3.11
# patch releases and 2**64 (the private MAXWIDTH, absent there) on newer ones; any real bounded
# pattern is far below it, and everything above MAX_REACH is capped anyway.
_UNBOUNDED = 2**31

_REPEATS = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT)
_DIGITS = tuple("0123456789")


def reach(pattern: re.Pattern[str]) -> int:
    """Characters a match (with its lookarounds and edge assertions) can span, capped."""
    tree = sre_parse.parse(pattern.pattern, pattern.flags)
    hi = tree.getwidth()[1]
    if hi >= _UNBOUNDED:
        return MAX_REACH
    return min(MAX_REACH, hi + _lookaround_width(list(tree)) + 1)


def _lookaround_width(items: list[Any]) -> int:
    total = 0
    for op, av in items:
        if op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
            hi = av[1].getwidth()[1]
            total += MAX_REACH if hi >= _UNBOUNDED else hi
        elif op is sre_c.SUBPATTERN:
            total += _lookaround_width(list(av[-1]))
        elif op in _REPEATS:
            total += _lookaround_width(list(av[2]))
        elif op is sre_c.ATOMIC_GROUP:
            total += _lookaround_width(list(av))
        elif op is sre_c.BRANCH:
            total += max((_lookaround_width(list(b)) for b in av[1]), default=0)
    return total


def needles(pattern: re.Pattern[str]) -> tuple[tuple[str, ...], ...]:
    """Groups of substrings: on ASCII text the pattern can only match if the text contains at
    least one needle of every group. Empty = no cheap test, always run the regex."""
    if pattern.flags & re.LOCALE:
        return ()
    tree = sre_parse.parse(pattern.pattern, pattern.flags)
    groups: list[tuple[str, ...]] = []
    _collect(list(tree), bool(tree.state.flags & re.IGNORECASE), groups)
    unique = sorted(set(groups), key=lambda g: (len(g), -max(len(n) for n in g), g))
    return tuple(unique[:_MAX_GROUPS])


def _collect(items: list[Any], icase: bool, out: list[tuple[str, ...]]) -> None:
    """Walk the mandatory part of a sequence; optional parts (branches, ``?``, ``*``) add nothing."""
    run: list[str] = []

    def end_run() -> None:
        if run:
            out.append(("".join(run),))
            run.clear()

    for op, av in items:
        if op is sre_c.LITERAL and not icase:
            run.append(chr(av))
            continue
        end_run()
        if op is sre_c.LITERAL:
            group = _fold(chr(av))
            if group:
                out.append(group)
        elif op is sre_c.IN:
            charset = _charset(av, icase)
            if charset:
                out.append(charset)
        elif op in _REPEATS and av[0] >= 1:
            _collect(list(av[2]), icase, out)
        elif op is sre_c.SUBPATTERN:
            _, add, remove, sub = av
            _collect(list(sub), bool(((re.IGNORECASE if icase else 0) | add) & ~remove & re.IGNORECASE), out)
        elif op is sre_c.ATOMIC_GROUP:
            _collect(list(av), icase, out)
    end_run()


def _fold(char: str) -> tuple[str, ...] | None:
    """Case variants of a char under IGNORECASE; None when folding could reach past ASCII."""
    if not char.isascii():
        return None
    return tuple(sorted({char.lower(), char.upper()}))


def _charset(items: list[Any], icase: bool) -> tuple[str, ...] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is sre_c.LITERAL:
            chars.add(chr(av))
        elif op is sre_c.RANGE and av[1] - av[0] < _MAX_SET:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        elif op is sre_c.CATEGORY and av is sre_c.CATEGORY_DIGIT:
            chars.update(_DIGITS)
        else:
            return None  # negated sets, big ranges, \w, \s: too wide to be a useful needle
    if icase:
        folded: set[str] = set()
        for c in chars:
            variants = _fold(c)
            if variants is None:
                return None
            folded.update(variants)
        chars = folded
    if not chars or len(chars) > _MAX_SET:
        return None
    return tuple(sorted(chars))


# Rough frequency of characters in text, most frequent first; anything else counts as rare.
_FREQUENT = " etaoinsrhldcumfpgwybvkxjqz\n.,-'0123456789"

Prefilter = tuple[tuple[tuple[str, str], ...], ...]  # groups of (guard char, needle)


def prefilter(groups: tuple[tuple[str, ...], ...]) -> Prefilter:
    """Each needle with its rarest character as a guard, groups rarest first: a one-character
    test is a memchr (~0.05 us on 4 KB), a longer substring test is ~30x slower, so the guard
    goes first. ``may_match`` then usually decides on one or two memchr calls."""

    def rank(char: str) -> int:
        return _FREQUENT.find(char) if char in _FREQUENT else len(_FREQUENT)

    guarded = [tuple((max(n, key=rank), n) for n in group) for group in groups]
    return tuple(sorted(guarded, key=lambda g: (len(g), -min(rank(guard) for guard, _ in g))))


def may_match(groups: Prefilter, text: str) -> bool:
    """False only when the needles prove the pattern cannot match ``text`` (ASCII text only)."""
    for group in groups:
        for guard, needle in group:
            if guard in text and (len(needle) == 1 or needle in text):
                break
        else:
            return False
    return True


def bounded_reach(pattern: re.Pattern[str]) -> int | None:
    """``reach`` when it is exact (the pattern is bounded and shorter than the cap), else None."""
    tree = sre_parse.parse(pattern.pattern, pattern.flags)
    hi = tree.getwidth()[1]
    if hi >= _UNBOUNDED:
        return None
    exact = hi + _lookaround_width(list(tree)) + 1
    return exact if exact < MAX_REACH else None


# Characters too frequent in text to be a useful anchor on their own.
_COMMON = frozenset(
    " \n\t.,-'\"()/:;0123456789" + "abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def pick_anchor(groups: tuple[tuple[str, ...], ...]) -> tuple[str, ...] | None:
    """The needle group to search around: a single needle, the longer and rarer the better;
    else the smallest group (e.g. the ten digits)."""
    if not groups:
        return None
    return min(groups, key=lambda g: (len(g), -max(map(len, g)), all(n in _COMMON for n in g), g))


# A window list: (search from, last trusted match start, search end) per merged window.
Windows = list[tuple[int, int, int]]


def windows(
    text: str, anchor: tuple[str, ...], reach: int, limit: int, finder: re.Pattern[str] | None = None
) -> Windows | None:
    """Where a bounded pattern whose every match contains one of ``anchor`` can match ``text``:
    each match contains an occurrence ``o``, so it starts in ``[o - reach, o]``, and judging a
    start ``s`` never reads past ``s + reach``. Searching ``[o - reach, o + 1 + reach)`` and
    trusting starts ``<= o + 1`` therefore finds exactly the matches of the whole text (nearby
    windows merge). None when the windows would cover more than ``limit`` characters.
    ``finder`` (``cluster_finder(anchor, reach)``) finds the merged runs in one C scan."""
    size = len(text)
    if finder is not None:
        out = [
            (max(0, m.start() - reach), m.end(), min(size, m.end() + reach)) for m in finder.finditer(text)
        ]
        return None if sum(end - lo for lo, _, end in out) > limit else out
    found: list[int] = []
    for needle in anchor:
        at = text.find(needle)
        while at != -1:
            found.append(at)
            if len(found) > limit:
                return None
            at = text.find(needle, at + 1)
    found.sort()
    merged: list[list[int]] = []
    for at in found:
        if merged and at - reach <= merged[-1][1] + reach:
            merged[-1][1] = at + 1
        else:
            merged.append([at - reach, at + 1])
    out = [(max(0, lo), trusted, min(size, trusted + reach)) for lo, trusted in merged]
    if sum(end - lo for lo, _, end in out) > limit:
        return None
    return out


def literal_needles(pattern: re.Pattern[str], limit: int = 2) -> tuple[tuple[str, ...], ...]:
    """Like ``needles`` but sound on ANY text, and it looks inside alternations: only literal
    characters count (no ``\\d``, no case folding), and a branch ``a|b`` contributes one group
    made of the best group of each alternative. Used for the injection rules, which run on
    lower-cased text that may well be non-ASCII."""
    if pattern.flags & (re.IGNORECASE | re.LOCALE):
        return ()
    groups = _required(list(sre_parse.parse(pattern.pattern, pattern.flags)))
    return tuple(sorted(set(groups), key=_group_cost)[:limit])


def _group_cost(group: tuple[str, ...]) -> tuple[bool, int, int, tuple[str, ...]]:
    """Groups of selective needles first (4+ characters, or a punctuation character: "are"
    occurs in most English text, "mode" or "<|" rarely), then fewer needles (each one is a
    substring test), then longer ones."""
    weak = any(len(n) < 4 and all(c in _FREQUENT for c in n) for n in group)
    return (weak, len(group), -min(map(len, group)), group)


def _required(items: list[Any]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, av in items:
        if op is sre_c.LITERAL:
            run.append(chr(av))
            continue
        if run:
            out.append(("".join(run),))
            run = []
        if op is sre_c.BRANCH:
            union: set[str] = set()
            for alternative in av[1]:
                inner = _required(list(alternative))
                if not inner:
                    union = set()
                    break
                best: tuple[str, ...] = min(inner, key=_group_cost)
                union.update(best)
            # A needle containing another one of the same group is redundant.
            kept = tuple(sorted(n for n in union if not any(m != n and m in n for m in union)))
            if kept:
                out.append(kept)
        elif op in _REPEATS and av[0] >= 1:
            out.extend(_required(list(av[2])))
        elif op is sre_c.SUBPATTERN and not av[1] and not av[2]:  # no scoped flags
            out.extend(_required(list(av[3])))
        elif op is sre_c.ATOMIC_GROUP:
            out.extend(_required(list(av)))
    if run:
        out.append(("".join(run),))
    return out


def cluster_finder(anchor: tuple[str, ...], reach: int) -> re.Pattern[str] | None:
    """For an anchor of single characters: a regex whose matches are the maximal runs of
    anchor occurrences less than ``2 * reach + 1`` apart, i.e. exactly the windows ``windows``
    would merge, found by one C scan instead of a Python loop per occurrence (a card-number
    pattern anchors on the ten digits, which can occur hundreds of times)."""
    if not anchor or any(len(n) != 1 for n in anchor):
        return None
    chars = "".join(re.escape(c) if c not in "]\\^-" else "\\" + c for c in anchor)
    return re.compile(f"[{chars}](?:[^{chars}]{{0,{2 * reach}}}[{chars}])*")
