"""Unicode folding before matching: what a pattern sees, never what the user receives.

``sk-1234`` written as ``ｓｋ－１２３４`` (fullwidth forms), or with a zero-width space or a soft
hyphen between its characters, reads the same to a person and to a model but slips past a
regex. Redaction and the injection rules therefore match on a folded copy: NFKC (compatibility
forms -> their plain characters) with the format characters (Unicode category Cf: zero-width
spaces and joiners, soft hyphen, bidi controls, tag characters, BOM) removed. ``fold`` returns
that copy and, for each folded character, the index of the original character it came from, so
a match is mapped back to a span of the ORIGINAL text: the user gets their text unchanged
except for the redacted spans.

Cost: ASCII text (``str.isascii()``, O(1) in CPython) is returned as is with no map. Other text
pays one C-level ``is_normalized`` check and one regex scan for format characters, and builds the
map only when one of them says the text changes.
"""

from __future__ import annotations

import re
import unicodedata

# Every Cf character of Unicode 15 (the set ``unicodedata.category(c) == "Cf"`` gives), as ranges,
# so the fast check needs no scan of the code space at import.
_FORMAT = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def needs_fold(text: str) -> bool:
    return not text.isascii() and (
        not unicodedata.is_normalized("NFKC", text) or _FORMAT.search(text) is not None
    )


def fold(text: str) -> tuple[str, list[int] | None]:
    """The folded text and ``origin`` (folded index -> original index), or ``(text, None)``
    when folding changes nothing."""
    if not needs_fold(text):
        return text, None
    parts: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        if char.isascii():
            parts.append(char)
            origin.append(i)
            continue
        if _FORMAT.match(char) or unicodedata.category(char) == "Cf":
            continue
        folded = unicodedata.normalize("NFKC", char)
        parts.append(folded)
        origin.extend([i] * len(folded))
    return "".join(parts), origin


def fold_text(text: str) -> str:
    """Only the folded text (the injection rules need no map)."""
    return fold(text)[0]
