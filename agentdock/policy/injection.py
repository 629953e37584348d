"""Prompt-injection rules: a short, named, documented list (``block_prompt_injection``).

Each rule is a regex over the LOWER-CASED text. A regex scan of 4 KB costs tens of
microseconds in CPython, while a substring test costs well under one, so every rule carries
needles read from its own parse tree (``patterns.literal_needles``): groups of literal
substrings such that every match contains one needle of each group (e.g. "ignore" or
"disregard" or ... AND "instruction" or "prompt" or ...). ``detect`` lower-cases the text once
and runs a rule's regex only when its needles are all there; a clean input pays for one
``lower()`` and a handful of substring tests. The needles are derived, not hand-written, so
they cannot drift from the regex. Every gap in a rule is bounded (``{0,40}``) and excludes
``.``/newline, so a rule matches within one sentence and cannot backtrack badly.

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
from dataclasses import dataclass, field

from agentdock.policy.normalize import fold_text
from agentdock.policy.patterns import Prefilter, literal_needles, may_match, prefilter


@dataclass(frozen=True)
class InjectionRule:
    """A named regex over the lower-cased text. ``needles`` is derived from it: the regex only
    runs when ``patterns.may_match`` says every one of its needle groups is present."""

    name: str
    regex: re.Pattern[str]
    needles: Prefilter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "needles", prefilter(literal_needles(self.regex)))


_GAP = r"[^.\n]{0,40}?"

RULES: tuple[InjectionRule, ...] = (
    InjectionRule(
        "ignore-previous-instructions",
        re.compile(
            r"\b(?:ignore|disregard|forget|override|bypass)\b" + _GAP + r"\b(?:previous|prior|above|earlier|"
            r"preceding|all|any|your|the|these|those)\b" + _GAP + r"\b(?:instructions?|prompts?|rules|"
            r"guidelines|directions|directives|guardrails)\b"
        ),
    ),
    InjectionRule(
        "reveal-system-prompt",
        re.compile(
            r"\b(?:reveal|show|print|repeat|output|display|leak|dump|tell\s+me|give\s+me|what\s+(?:is|are|was|were))"
            r"\b"
            + _GAP
            + r"\b(?:system|hidden|initial|original|secret|your)\s+(?:prompt|instructions?|message)\b"
        ),
    ),
    InjectionRule(
        "role-override",
        re.compile(
            r"\b(?:you\s+are\s+now|from\s+now\s+on,?\s+you\s+are|act\s+as|pretend\s+(?:to\s+be|you\s+are))\b"
            r"[^.\n]{0,60}?\b(?:unrestricted|unfiltered|uncensored|jailbroken|without\s+(?:any\s+)?"
            r"(?:restrictions|limits|rules|filters)|no\s+longer\s+bound)\b"
            r"|\b(?:developer|god|jailbreak|dan)\s+mode\b"
        ),
    ),
    InjectionRule(
        "delimiter-injection",
        re.compile(
            r"<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id|"
            r"end_header_id|begin_of_text)\|>|\[/?inst\]|<</?sys>>|</?system>"
            r"|^[ \t]*#{2,}[ \t]*(?:system|instructions?)\b",
            re.MULTILINE,
        ),
    ),
)


def detect(text: str, rules: tuple[InjectionRule, ...] = RULES) -> str | None:
    """The name of the first rule ``text`` trips, else None. Rules see the folded text
    (``normalize``): fullwidth letters, zero-width spaces and soft hyphens do not hide a phrase."""
    low = fold_text(text).lower()
    for rule in rules:
        if may_match(rule.needles, low) and rule.regex.search(low):
            return rule.name
    return None
