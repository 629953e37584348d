"""The policy engine: the Dockfile's ``policies`` compiled once, applied at three points.

* pre-invoke  (``pre``): prompt-injection rules on every string leaf of the input (403
  ``PolicyViolationError`` naming the rule when ``block_prompt_injection``), then redaction of
  the string leaves (with ``halt_on_violation`` a match is a 403 instead);
* in-flight   (``on_tool_start``): the adapter awaits it BEFORE a tool body runs; a tool not in
  ``tools.allowed`` under ``deny_by_default`` raises 403 ``ToolDenied`` and the run aborts;
* post-invoke (``post``): redaction of the output leaves, then ``max_output_chars`` over the
  string leaves in document order: truncated (``PostResult.truncated``) or, with
  ``halt_on_violation``, 413 ``PayloadTooLarge``. Redaction comes first so that truncation can
  never leave a partial secret that no longer matches its pattern;
* streams (``token_filter``): the same redaction and limit per token chunk (``stream.py``).

Every decision is reported as a ``PolicyEvent`` (stage, policy, action, match count, duration,
and a non-sensitive detail such as a rule or tool name; never the matched text) to the
``agentdock.policy`` logger and to ``on_event``, a hook the runtime sets for its metrics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentdock.errors import PayloadTooLarge, PolicyViolationError, ToolDenied
from agentdock.policy.injection import RULES, InjectionRule, detect
from agentdock.policy.redaction import Redactor, redact_tree, string_leaves
from agentdock.policy.stream import StreamFilter
from agentdock.stages import PostResult

logger = logging.getLogger("agentdock.policy")
LEAF_SEPARATOR = "\n.\n"


@dataclass(frozen=True)
class PolicyEvent:
    stage: str  # pre | tool | post | stream
    policy: str  # redact | prompt_injection | tools | max_output_chars
    action: str  # redacted | blocked | halted | denied | allowed | truncated
    matches: int
    duration_s: float
    detail: str = ""  # rule name, tool name or Dockfile path: never the matched text


class Policy:
    """Implements ``agentdock.stages.PolicyEngine``."""

    def __init__(
        self,
        *,
        redact_patterns: list[str] | tuple[str, ...] = (),
        allowed_tools: list[str] | tuple[str, ...] = (),
        deny_by_default: bool = True,
        max_output_chars: int | None = None,
        block_prompt_injection: bool = True,
        halt_on_violation: bool = False,
        injection_rules: tuple[InjectionRule, ...] = RULES,
    ) -> None:
        self.redactor = Redactor(redact_patterns)
        self.allowed_tools = frozenset(allowed_tools)
        self.deny_by_default = deny_by_default
        self.max_output_chars = max_output_chars
        self.halt = halt_on_violation
        self.injection_rules = injection_rules if block_prompt_injection else ()
        self.on_event: Callable[[PolicyEvent], None] | None = None

    # --- pre-invoke --------------------------------------------------------------------

    def pre(self, payload: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        if self.injection_rules:
            # One pass over all leaves; the separator stops any rule from matching across two
            # leaves (rule gaps exclude '.' and newlines), so this equals checking leaf by leaf.
            rule = detect(LEAF_SEPARATOR.join(string_leaves(payload)), self.injection_rules)
            if rule is not None:
                self._event("pre", "prompt_injection", "blocked", 1, started, rule)
                raise PolicyViolationError(
                    f"input looks like prompt injection (rule '{rule}')",
                    path="policies.safety.block_prompt_injection",
                )
        if not self.redactor:
            return payload
        hits = [0] * len(self.redactor.patterns)
        redacted = redact_tree(self.redactor, payload, hits)
        if any(hits):
            self._on_redaction("pre", "input", hits, started)
        return redacted  # type: ignore[no-any-return]

    # --- in-flight ---------------------------------------------------------------------

    async def on_tool_start(self, name: str, args: dict[str, Any]) -> None:
        self.check_tool(name, args)

    def check_tool(self, name: str, args: dict[str, Any]) -> None:
        """``on_tool_start`` without the coroutine: plain work, safe on any thread, so an adapter
        can check a tool that runs on a worker thread where it is, without a trip to the loop."""
        started = time.perf_counter()
        if self.deny_by_default and name not in self.allowed_tools:
            self._event("tool", "tools", "denied", 1, started, name)
            allowed = ", ".join([*sorted(self.allowed_tools), name])
            raise ToolDenied(
                f"tool '{name}' is not allowed: tools are denied by default; to allow it, add to the "
                f"Dockfile  policies: {{tools: {{allowed: [{allowed}]}}}}",
                path="policies.tools.allowed",
            )
        self._event("tool", "tools", "allowed", 0, started, name)

    # --- post-invoke -------------------------------------------------------------------

    def post(self, output: dict[str, Any]) -> PostResult:
        started = time.perf_counter()
        redactions = 0
        if self.redactor:
            hits = [0] * len(self.redactor.patterns)
            output = redact_tree(self.redactor, output, hits)
            redactions = sum(hits)
            if redactions:
                self._on_redaction("post", "output", hits, started)
        if self.max_output_chars is not None:
            total = sum(len(s) for s in string_leaves(output))
            if total > self.max_output_chars:
                if self.halt:
                    self._event("post", "max_output_chars", "halted", 1, started, str(total))
                    raise PayloadTooLarge(
                        f"output has {total} characters, max_output_chars is {self.max_output_chars}",
                        path="policies.safety.max_output_chars",
                    )
                output = _truncate(output, [self.max_output_chars])
                self._event("post", "max_output_chars", "truncated", 1, started, str(total))
                return PostResult(output=output, truncated=True, redactions=redactions)
        return PostResult(output=output, redactions=redactions)

    # --- streams -----------------------------------------------------------------------

    def redact(self, value: Any, stage: str = "stream") -> Any:
        """Redact the string leaves of any JSON-like value that reaches a client outside the
        answer itself (tool arguments and results in stream events); halts like ``post``."""
        if not self.redactor:
            return value
        started = time.perf_counter()
        hits = [0] * len(self.redactor.patterns)
        redacted = redact_tree(self.redactor, value, hits)
        if any(hits):
            self._on_redaction(stage, "event", hits, started)
        return redacted

    def token_filter(self) -> StreamFilter:
        def report(policy: str, action: str, matches: int, duration_s: float) -> None:
            self._emit(PolicyEvent("stream", policy, action, matches, duration_s))

        return StreamFilter(self.redactor, max_chars=self.max_output_chars, halt=self.halt, report=report)

    # --- events ------------------------------------------------------------------------

    def _on_redaction(self, stage: str, what: str, hits: list[int], started: float) -> None:
        first = next(i for i, n in enumerate(hits) if n)
        path = f"policies.safety.redact_patterns[{first}]"
        if self.halt:
            self._event(stage, "redact", "halted", sum(hits), started, path)
            raise PolicyViolationError(f"{what} matches a redacted pattern ({path})", path=path)
        self._event(stage, "redact", "redacted", sum(hits), started, path)

    def _event(self, stage: str, policy: str, action: str, matches: int, started: float, detail: str) -> None:
        self._emit(PolicyEvent(stage, policy, action, matches, time.perf_counter() - started, detail))

    def _emit(self, event: PolicyEvent) -> None:
        level = logging.INFO if event.action != "allowed" else logging.DEBUG
        if logger.isEnabledFor(level):
            logger.log(
                level,
                "policy %s %s %s matches=%d %.1fus %s",
                event.stage,
                event.policy,
                event.action,
                event.matches,
                event.duration_s * 1e6,
                event.detail,
                extra={"policy_event": event.__dict__},
            )
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # a broken metrics hook must not fail the request
                logger.exception("policy on_event hook failed")


def _truncate(value: Any, budget: list[int]) -> Any:
    """Cut string leaves, in document order, to a shared character budget."""
    if isinstance(value, str):
        keep = max(0, min(len(value), budget[0]))
        budget[0] -= keep
        return value[:keep]
    if isinstance(value, dict):
        return {k: _truncate(v, budget) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_truncate(v, budget) for v in value)
    return value
