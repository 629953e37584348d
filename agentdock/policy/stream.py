"""The stream-side policy: redaction and ``max_output_chars`` applied to token chunks.

A secret split across chunks (``"sk-12"`` + ``"34..."``) must still be redacted, so the filter
holds back the last ``hold`` characters of raw text, where ``hold`` is the redactor's reach: the
longest a match (plus its lookarounds and edge assertions) can be, capped at 256 characters
(``agentdock.policy.patterns.MAX_REACH``). Text before that tail is final: no future chunk can
change whether a match starts there. The result is exactly the whole-text redaction of the
concatenated stream, whatever the chunking, for every match of up to 256 characters; a longer
match (only possible with unbounded patterns such as ``sk-[A-Za-z0-9]{20,}``) that reaches the
end of the buffered text may still grow with the next chunk, so nothing from its start on is
released until it ends: the secret comes out as one marker, as ``/invoke`` redacts it. That hold
is bounded by the room left under ``max_output_chars`` (else ``MAX_HELD_MATCH`` characters); a
match still growing past it is redacted and the stream ends as truncated, so a tail never leaks.
The hold is counted in folded characters (``normalize``): zero-width characters between the
digits of a card number cannot stretch it past the window.

The cost: a client sees tokens up to ``hold`` characters late; with no redact patterns there is
no delay. ``flush()`` releases the tail at the end of the stream. Once ``max_output_chars`` is
reached the filter says ``truncated`` and the runtime ends the stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from agentdock.errors import PayloadTooLarge, PolicyViolationError
from agentdock.policy.patterns import MAX_REACH
from agentdock.policy.redaction import Redactor, splice

MAX_HELD_MATCH = 1 << 16  # characters of one growing match held back when max_output_chars is unset

# (policy, action, matches, duration_s) -> None; the engine turns it into a PolicyEvent.
Report = Callable[[str, str, int, float], None]


class StreamFilter:
    """One per streamed response (not shared between requests)."""

    def __init__(self, redactor: Redactor, *, max_chars: int | None, halt: bool, report: Report) -> None:
        self._redactor = redactor
        self._hold = redactor.reach
        self._max_chars = max_chars
        self._halt = halt
        self._report = report
        self._context = ""  # raw text already released: what lookbehinds and \b look at
        self._pending = ""  # raw text not released yet
        self._emitted = 0
        self._truncated = False
        self._truncated_after = False
        self._done = False
        self.redactions = 0
        self._elapsed = 0.0

    @property
    def truncated(self) -> bool:
        return self._truncated

    def feed(self, text: str) -> str:
        """Take a chunk, return what can be released now (possibly "")."""
        if self._truncated or self._done or not text:
            return ""
        if not self._redactor:
            return self._limit(text)
        started = time.perf_counter()
        self._pending += text
        out = self._release(final=False)
        self._elapsed += time.perf_counter() - started
        return out

    def flush(self) -> str:
        """End of stream: release the held tail."""
        if self._done:
            return ""
        out = ""
        if not self._truncated and self._redactor:
            started = time.perf_counter()
            out = self._release(final=True)
            self._elapsed += time.perf_counter() - started
        self._done = True
        if self.redactions:
            self._report("redact", "redacted", self.redactions, self._elapsed)
        return out

    def _release(self, *, final: bool) -> str:
        text = self._context + self._pending
        base = len(self._context)
        cut = len(text) if final else self._redactor.hold_start(text, self._hold)
        if cut <= base:
            return ""
        spans = self._redactor.spans(text, base, None if final else cut)
        if spans and not final and spans[-1][1] == len(text):
            # The last match runs to the end of what we have: it may continue in the next chunk.
            held = len(text) - spans[-1][0]
            room = MAX_HELD_MATCH if self._max_chars is None else self._max_chars - self._emitted
            if held <= room:
                spans.pop()
                cut = min(cut, held_start := len(text) - held)
                if cut <= base:
                    return ""
                spans = [s for s in spans if s[1] <= held_start]
            else:
                self._truncated_after = True
        if spans and self._halt:
            self._done = True
            self._report("redact", "halted", len(spans), self._elapsed)
            pattern = spans[0][2]
            raise PolicyViolationError(
                f"output matches a redacted pattern (policies.safety.redact_patterns[{pattern}])",
                path=f"policies.safety.redact_patterns[{pattern}]",
            )
        end = max(cut, spans[-1][1]) if spans else cut
        self.redactions += len(spans)
        out = splice(text, spans, base, end)
        self._context = text[max(0, end - MAX_REACH) : end]
        self._pending = text[end:]
        out = self._limit(out)
        if self._truncated_after and not self._truncated:
            # a match outgrew the hold: its marker is out, its continuation must never be
            self._truncated = True
            self._report("max_output_chars", "truncated", 1, self._elapsed)
        return out

    def _limit(self, out: str) -> str:
        if self._max_chars is None:
            return out
        room = self._max_chars - self._emitted
        if len(out) <= room:
            self._emitted += len(out)
            return out
        if self._halt:
            self._done = True
            self._report("max_output_chars", "halted", 1, self._elapsed)
            raise PayloadTooLarge(
                f"output exceeds max_output_chars ({self._max_chars})",
                path="policies.safety.max_output_chars",
            )
        self._truncated = True
        self._emitted = self._max_chars
        self._report("max_output_chars", "truncated", 1, self._elapsed)
        return out[:room]
