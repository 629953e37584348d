"""Governance of what goes into and comes out of an agent: redaction, prompt-injection rules,
tool gating and output limits, compiled once per process from the Dockfile's ``policies``.

``build_policy(spec)`` is what the runtime calls; the pieces are in ``engine`` (the three
pipeline points), ``redaction`` (one-pass multi-pattern redaction of string leaves),
``stream`` (the same over token chunks), ``injection`` (the named rules) and ``patterns``
(what a regex's parse tree tells us: reach and prefilter needles).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentdock.policy.engine import Policy, PolicyEvent
from agentdock.policy.injection import RULES, InjectionRule
from agentdock.policy.redaction import REPLACEMENT, Redactor
from agentdock.policy.stream import StreamFilter

if TYPE_CHECKING:
    from agentdock.spec.models import DockSpec

__all__ = [
    "REPLACEMENT",
    "RULES",
    "InjectionRule",
    "Policy",
    "PolicyEvent",
    "Redactor",
    "StreamFilter",
    "build_policy",
]


def build_policy(spec: DockSpec) -> Policy:
    """The spec's policies, compiled. Raises errors.PolicyValidationError (4006) for a regex
    that does not compile or matches the empty string."""
    tools, safety = spec.policies.tools, spec.policies.safety
    return Policy(
        redact_patterns=safety.redact_patterns,
        allowed_tools=tools.allowed,
        deny_by_default=tools.deny_by_default,
        max_output_chars=safety.max_output_chars,
        block_prompt_injection=safety.block_prompt_injection,
        halt_on_violation=safety.halt_on_violation,
    )
