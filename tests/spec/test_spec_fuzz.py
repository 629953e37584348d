"""``validate`` never crashes: every input, however broken, gets a report (and with --json the
JSON envelope), never a traceback. Bounded fuzzing (issue 17: 4,425 of 74,788 fuzzed inputs
crashed before: control characters, ``!!int abc``, huge integers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_helpers import FIXTURES
from typer.testing import CliRunner

from agentdock.cli.main import app
from agentdock.spec import validate_file

pytestmark = pytest.mark.unit

MINIMAL = (FIXTURES / "minimal" / "Dockfile.yaml").read_text()
LINES = MINIMAL.splitlines()
SNIPPETS = [
    "!!int abc",
    "!!float x",
    "!!timestamp 2024-13-45",
    "!!binary zz",
    "!!python/object:os.system",
    "1" + "9" * 5000,
    "1e999",
    ".nan",
    "\x01",
    "\x7f",
    "\ufeff",
    "\x85",
    "&a [*a]",
    "*nope",
    "{",
    "[",
    "? [a]",
    "!include x.yaml",
    "!include /etc/passwd",
    "<<: 3",
    "'unterminated",
    "%TAG ! tag:x,2002:",
    "---",
    "...",
    "- -",
    "\t",
]


@st.composite
def broken_dockfiles(draw: st.DrawFn) -> str:
    """A minimal valid Dockfile with a few lines replaced or extended by hostile snippets."""
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        snippet = draw(st.one_of(st.sampled_from(SNIPPETS), st.text(max_size=12)))
        mode = draw(st.sampled_from(["append", "replace", "value"]))
        if mode == "append":
            lines[at] += " " + snippet
        elif mode == "replace":
            lines[at] = snippet
        else:
            key = lines[at].split(":", 1)[0]
            lines[at] = f"{key}: {snippet}"
    return "\n".join(lines) + "\n"


def check(tmp_path: Path, text: str) -> None:
    file = tmp_path / "Dockfile.yaml"
    file.write_text(text, encoding="utf-8", errors="surrogatepass")
    report = validate_file(file, check_imports=False)
    json.dumps(report.to_dict(), default=str)  # the --json document is always serialisable


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=broken_dockfiles())
def test_validate_never_raises_on_mutated_dockfiles(tmp_path: Path, text: str) -> None:
    check(tmp_path, text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80))
def test_validate_never_raises_on_arbitrary_text(tmp_path: Path, text: str) -> None:
    check(tmp_path, text)


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('"\x01"', "control character #x0001"),
        ("!!int abc", "is not a valid int"),
        ("1" + "9" * 5000, "is a number too long"),
        ("!!timestamp 2024-13-45", "is not a valid timestamp"),
    ],
)
def test_validate_json_gives_the_envelope_not_a_traceback(
    tmp_path: Path, snippet: str, expected: str
) -> None:
    file = tmp_path / "Dockfile.yaml"
    file.write_text(MINIMAL.replace("name: gpt-4o-mini", f"name: {snippet}"))
    result = CliRunner().invoke(app, ["validate", "--json", str(file)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert [e["code"] for e in document["errors"]] == [4001]
    assert expected in document["errors"][0]["message"]
