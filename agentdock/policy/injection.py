"""Prompt-injection rules: a short, named, documented list (``block_prompt_injection``).

Each rule is a regex over the LOWER-CASED text plus triggers: words (one of them must occur
as a whole word) and characters. A regex scan of 4 KB costs 100+ us in CPython and a
multi-character substring test several us, so ``detect`` first splits the text into a set of
words once (one C pass: ``bytes.translate`` + ``split``) and runs a rule's regex only when one
of its trigger words is in that set or one of its trigger characters is in the text; a clean
input pays for the word set and a few set lookups. Every gap in a rule is bounded (``{0,40}``)
and excludes ``.``/newline, so a rule matches within one sentence and cannot backtrack badly.

Rules (the name is what a 403 reports):

* ``ignore-previous-instructions`` - "ignore / disregard / forget / override / bypass" ...
  "previous / prior / above / all / your" ... "instructions / prompt / rules / guidelines".
* ``reveal-system-prompt`` - "reveal / show / print / repeat / output / leak / tell me / what is"
  ... "system / hidden / initial / original / secret / your" + "prompt / instructions / message".
* ``role-override`` - "you are now / from now on you are / act as / pretend to be" ...
  "unrestricted / unfiltered / uncensored / jailbroken / without restrictions|limits|rules|
  filters / no longer bound", and "developer mode / god mode / jailbreak mode / dan mode".
* ``delimiter-injection`` - chat-template control tokens a user has no reason to type:
  ``<|im_start|>``-style tokens, ``[INST]``/``[/INST]``, ``<<SYS>>``, ``<system>``, and
  markdown headers ``### system`` / ``### instruction`` at the start of a line.

Detection is a heuristic: it stops the common phrasings, not a determined adversary; tool
gating (``policies.tools``) is the control that bounds what an injected prompt can do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class InjectionRule:
    """``regex`` runs on the lower-cased text only when one of ``words`` occurs as a word or one
    of ``chars`` occurs at all: every match of ``regex`` contains one of them."""

    name: str
    words: frozenset[bytes]
    chars: tuple[str, ...]
    regex: re.Pattern[str]


_GAP = r"[^.\n]{0,40}?"

RULES: tuple[InjectionRule, ...] = (
    InjectionRule(
        "ignore-previous-instructions",
        frozenset({b"ignore", b"disregard", b"forget", b"override", b"bypass"}),
        (),
        re.compile(
            r"\b(?:ignore|disregard|forget|override|bypass)\b" + _GAP + r"\b(?:previous|prior|above|earlier|"
            r"preceding|all|any|your|the|these|those)\b" + _GAP + r"\b(?:instructions?|prompts?|rules|"
            r"guidelines|directions|directives|guardrails)\b"
        ),
    ),
    InjectionRule(
        "reveal-system-prompt",
        frozenset({b"prompt", b"instruction", b"instructions", b"message"}),
        (),
        re.compile(
            r"\b(?:reveal|show|print|repeat|output|display|leak|dump|tell\s+me|give\s+me|what\s+(?:is|are|was|were))"
            r"\b"
            + _GAP
            + r"\b(?:system|hidden|initial|original|secret|your)\s+(?:prompt|instructions?|message)\b"
        ),
    ),
    InjectionRule(
        "role-override",
        frozenset({b"now", b"act", b"pretend", b"mode"}),
        (),
        re.compile(
            r"\b(?:you\s+are\s+now|from\s+now\s+on,?\s+you\s+are|act\s+as|pretend\s+(?:to\s+be|you\s+are))\b"
            r"[^.\n]{0,60}?\b(?:unrestricted|unfiltered|uncensored|jailbroken|without\s+(?:any\s+)?"
            r"(?:restrictions|limits|rules|filters)|no\s+longer\s+bound)\b"
            r"|\b(?:developer|god|jailbreak|dan)\s+mode\b"
        ),
    ),
    InjectionRule(
        "delimiter-injection",
        frozenset(),
        ("<", "[", "#"),
        re.compile(
            r"<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id|"
            r"end_header_id|begin_of_text)\|>|\[/?inst\]|<</?sys>>|</?system>"
            r"|^[ \t]*#{2,}[ \t]*(?:system|instructions?)\b",
            re.MULTILINE,
        ),
    ),
)


# ASCII letters lower-cased, digits kept, every other byte a separator (as \b would see it).
_FOLD = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or 48 <= c <= 57 else 32 for c in range(256))


_TRIGGERS: frozenset[bytes] = frozenset().union(*(rule.words for rule in RULES))


def trigger_words(text: str, triggers: frozenset[bytes] = _TRIGGERS) -> frozenset[bytes]:
    r"""Which of ``triggers`` occur in ``text`` as lower-case ASCII words. A superset test: a
    trigger word that ``\bword\b`` finds in ``text.lower()`` is always reported (non-ASCII
    letters only split words further). One C pass; no set of all the words is built."""
    return triggers.intersection(text.encode("utf-8", "ignore").translate(_FOLD).split())


def detect(text: str, rules: tuple[InjectionRule, ...] = RULES) -> str | None:
    """The name of the first rule ``text`` trips, else None."""
    words = trigger_words(text, _TRIGGERS if rules is RULES else frozenset().union(*(r.words for r in rules)))
    low: str | None = None
    for rule in rules:
        if rule.words.isdisjoint(words) and not any(c in text for c in rule.chars):
            continue
        if low is None:
            low = text.lower()
        if rule.regex.search(low):
            return rule.name
    return None
