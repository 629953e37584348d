"""Redaction: string leaves only, one pass over all patterns, and the stream filter giving the
same result as whole-text redaction for ANY split of the text into chunks."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentdock.errors import PolicyValidationError
from agentdock.policy import REPLACEMENT, Policy, Redactor
from agentdock.policy.patterns import (
    MAX_REACH,
    bounded_reach,
    cluster_finder,
    literal_needles,
    needles,
    pick_anchor,
    reach,
    windows,
)
from agentdock.policy.redaction import redact_tree

pytestmark = pytest.mark.unit

PATTERNS = [
    r"[\w.+-]+@[\w-]+\.[a-z]{2,}",  # e-mail (unbounded: reach is capped)
    r"\b\d{3}-\d{2}-\d{4}\b",  # SSN, \b at both ends
    r"sk-[A-Za-z0-9]{20,40}",  # API key
    r"(?i)password\s*[:=]\s*\S{1,30}",  # case-insensitive, inline flag
    r"(?<=card )\d{4}(?= end)",  # lookbehind + lookahead, bounded: searched in windows around digits
    r"\b[a-z]{1,8}\.[a-z]{1,8}@corp\b",  # bounded: searched in windows around '@corp'
]

FRAGMENTS = [
    "bob@example.com",
    "x.y+z@mail-host.org",
    "123-45-6789",
    "1234-45-6789",
    "sk-" + "A1b2C3d4E5f6G7h8I9j0",
    "sk-" + "Z" * 45,
    "Password: hunter2",
    "PASSWORD=abc",
    "card 1234 end",
    "card 12345 end",
    "jo.ann@corp",
    "abcdefgh.ijklmnop@corp",
    "jo.ann@corp.com",
    "x.y@corporate",
    " ",
    "\n",
    "é",
    "@",
    "-",
]


def whole(redactor: Redactor, text: str) -> str:
    return redactor.redact(text)[0]


def streamed(policy: Policy, text: str, cuts: list[int]) -> str:
    chunks, last = [], 0
    for cut in sorted(set(cuts)):
        chunks.append(text[last:cut])
        last = cut
    chunks.append(text[last:])
    f = policy.token_filter()
    return "".join(f.feed(c) for c in chunks) + f.flush()


text_strategy = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet="abc019 .-@:=\n", max_size=12)), max_size=40
).map("".join)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), text=text_strategy)
def test_any_chunking_gives_the_whole_text_redaction(data: st.DataObject, text: str) -> None:
    policy = Policy(redact_patterns=PATTERNS)
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=25))
    assert streamed(policy, text, cuts) == whole(policy.redactor, text)


@settings(max_examples=300, deadline=None)
@given(text=text_strategy)
def test_one_pass_equals_a_single_alternation(text: str) -> None:
    """The merged per-pattern scan (with prefilters) behaves exactly like p0|p1|...|pn."""
    redactor = Redactor(PATTERNS)
    scoped = [p if not p.startswith("(?i)") else "(?i:" + p[4:] + ")" for p in PATTERNS]
    alternation = re.compile("|".join(f"(?:{p})" for p in scoped))
    expected = [(m.start(), m.end()) for m in alternation.finditer(text) if m.end() > m.start()]
    assert [(s, e) for s, e, _ in redactor.spans(text)] == expected


def test_every_character_by_itself_still_redacts() -> None:
    policy = Policy(redact_patterns=PATTERNS)
    text = "mail bob@example.com, key sk-A1b2C3d4E5f6G7h8I9j0XX and ssn 123-45-6789."
    f = policy.token_filter()
    out = "".join(f.feed(ch) for ch in text) + f.flush()
    assert out == f"mail {REPLACEMENT}, key {REPLACEMENT} and ssn {REPLACEMENT}."
    assert f.redactions == 3


def test_hold_back_is_bounded_by_the_patterns() -> None:
    bounded = Policy(redact_patterns=[r"AKIA[0-9A-Z]{16}"])
    assert bounded.redactor.reach == 21  # 20 chars + 1 for an edge assertion
    f = bounded.token_filter()
    released = f.feed("x" * 100)
    assert released == "x" * (100 - 21)
    assert Policy(redact_patterns=[r"\d+"]).redactor.reach == MAX_REACH
    assert Policy().token_filter().feed("no patterns, no delay") == "no patterns, no delay"


def test_leaves_are_redacted_not_the_json_text() -> None:
    redactor = Redactor([r"\d{3}-\d{2}-\d{4}", r"question"])
    payload = {
        "question": "ssn 123-45-6789",
        "n": 123,
        "tags": ["ok", "also 999-99-9999"],
        "nested": {"q": 1},
    }
    hits = [0, 0]
    out = redact_tree(redactor, payload, hits)
    assert out == {
        "question": f"ssn {REPLACEMENT}",
        "n": 123,
        "tags": ["ok", f"also {REPLACEMENT}"],
        "nested": {"q": 1},
    }
    assert hits == [2, 0]  # the key "question" is structure, not content
    clean = {"a": ["b", {"c": "d"}]}
    assert redact_tree(redactor, clean, [0, 0]) is clean  # nothing copied when nothing matched


def test_the_marker_is_never_matched_again() -> None:
    redactor = Redactor([r"secret", r"[A-Z]{4,}"])
    assert whole(redactor, "a secret and SHOUT") == f"a {REPLACEMENT} and {REPLACEMENT}"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [(r"(unclosed", "does not compile"), (r"a*", "empty string"), (r"x|", "empty string")],
)
def test_bad_patterns_are_refused_with_their_index(pattern: str, message: str) -> None:
    with pytest.raises(PolicyValidationError) as info:
        Redactor([r"ok", pattern])
    assert info.value.path == "policies.safety.redact_patterns[1]"
    assert message in info.value.cause


def test_bounded_patterns_are_searched_in_windows() -> None:
    text = "a" * 1000 + " mail jo.ann@corp " + "b" * 1000
    pattern = re.compile(r"\b[a-z]{1,8}\.[a-z]{1,8}@corp\b")
    assert bounded_reach(pattern) == 23 and pick_anchor(needles(pattern)) == ("@corp",)
    win = windows(text, ("@corp",), 23, len(text))
    assert win == [(1012 - 23, 1013, 1013 + 23)]
    assert whole(Redactor([pattern.pattern]), text) == "a" * 1000 + f" mail {REPLACEMENT} " + "b" * 1000
    # Windows that would cover too much of the text: search all of it instead.
    assert windows("@" + "x" * 98 + "@", ("@",), 23, 40) is None


def test_needles_are_what_every_match_must_contain() -> None:
    assert set(needles(re.compile(r"[\w.]+@[\w-]+\.com"))) == {("@",), (".com",)}
    assert ("sk-",) in needles(re.compile(r"sk-[a-z]{4}"))
    assert needles(re.compile(r"(?i)ab")) == (("A", "a"), ("B", "b"))
    assert needles(re.compile(r"\w+")) == ()  # nothing cheap to test: the regex always runs
    assert reach(re.compile(r"(?=abc)x")) == 1 + 3 + 1


def test_prefilter_never_hides_a_unicode_match() -> None:
    # \d matches Arabic-Indic digits: non-ASCII text always runs the regex.
    redactor = Redactor([r"\d{3}-\d{2}"])
    assert whole(redactor, "id ٣٣٣-٣٣") == f"id {REPLACEMENT}"
    # Under IGNORECASE 'K' (Kelvin sign) folds to 'k': no needle may skip it.
    assert whole(Redactor([r"(?i)\u212aey=\d"]), "key=1") == REPLACEMENT


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab 1-9@", max_size=200), st.integers(min_value=1, max_value=20))
def test_cluster_finder_windows_equal_the_per_occurrence_windows(text: str, reach_: int) -> None:
    anchor = tuple("0123456789")
    finder = cluster_finder(anchor, reach_)
    assert windows(text, anchor, reach_, 10_000, finder) == windows(text, anchor, reach_, 10_000)


def test_literal_needles_look_inside_alternations() -> None:
    groups = literal_needles(re.compile(r"\b(?:ignore|forget)\b.{0,9}(?:rules|prompts?)"))
    assert set(groups) == {("forget", "ignore"), ("prompt", "rules")}
    assert literal_needles(re.compile(r"(?i)ignore")) == ()  # case folding: no literal needles
