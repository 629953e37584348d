"""Which files of an agent's folder go into a build context: pure path matching, no I/O.

User rules follow ``.dockerignore`` semantics (moby/patternmatcher): one pattern per line, ``#``
comments, ``*`` and ``?`` stay inside one path segment, ``**`` spans segments, a leading ``!``
re-includes, the last matching rule wins, and a pattern that matches a folder excludes everything
under it. On top of that a fixed list is ALWAYS excluded and cannot be re-included: secrets
(``.env``, ``.env.*``), VCS folders, virtualenvs, caches and bytecode. Those never belong in an
image, whatever a user's ignore file says. Files that look like secrets (``SECRET_LOOKING``:
``.envrc``, SSH keys, ``*.pem``, ``secrets.yaml``, cloud credentials, ...) are excluded by default
and reported as a build warning; an explicit ``!name`` rule in ``.dockerignore`` brings one back.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ALWAYS_EXCLUDED: tuple[str, ...] = (
    ".env",
    ".env.*",
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    "*.pyc",
    "*.pyo",
    ".venv",
    ".agentdock",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
    ".nox",
    "*.egg-info",
    ".DS_Store",
)


SECRET_LOOKING: tuple[str, ...] = (
    ".envrc",
    ".netrc",
    ".pypirc",
    ".npmrc",
    ".git-credentials",
    ".aws",
    ".ssh",
    ".gnupg",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.tfstate",
    "*.tfstate.*",
    "secrets.yaml",
    "secrets.yml",
    "secrets.json",
    "secrets.toml",
    "credentials",
    "credentials.json",
    "service-account*.json",
    "kubeconfig",
)


def secret_looking(rel_path: str) -> bool:
    """True when a segment of ``rel_path`` has a name that usually holds a secret."""
    return any(
        fnmatch.fnmatchcase(part.lower(), pattern) for part in rel_path.split("/") for pattern in SECRET_LOOKING
    )


def always_excluded(rel_path: str) -> bool:
    """True when any segment of ``rel_path`` is on the fixed exclusion list."""
    return any(
        fnmatch.fnmatchcase(part, pattern) for part in rel_path.split("/") for pattern in ALWAYS_EXCLUDED
    )


def _compile(pattern: str) -> re.Pattern[str]:
    """Translate one dockerignore pattern to an anchored regex (patternmatcher's rules)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    out.append("(?:.*/)?")  # '**/' = zero or more folders
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("^" + "".join(out) + "$")


@dataclass(frozen=True)
class Rule:
    pattern: str
    negate: bool
    regex: re.Pattern[str]

    def matches(self, rel_path: str) -> bool:
        """The path itself or one of its parent folders matches."""
        if self.regex.match(rel_path):
            return True
        parts = rel_path.split("/")
        return any(self.regex.match("/".join(parts[:k])) for k in range(1, len(parts)))


def parse_rules(lines: Iterable[str]) -> list[Rule]:
    rules: list[Rule] = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate:
            line = line[1:].strip()
        line = posixpath.normpath(line.lstrip("/")) if line.lstrip("/") else ""
        if not line or line == ".":
            continue
        rules.append(Rule(line, negate, _compile(line)))
    return rules


@dataclass(frozen=True)
class SourceFilter:
    """``exclude`` rules (a .dockerignore plus extra patterns) and an optional ``include`` list:
    with an include list only matching paths are copied; excludes still apply after it."""

    exclude: tuple[Rule, ...] = ()
    include: tuple[Rule, ...] | None = None

    @classmethod
    def build(
        cls,
        *,
        dockerignore: str | None = None,
        exclude: Sequence[str] = (),
        include: Sequence[str] | None = None,
    ) -> SourceFilter:
        lines = (dockerignore.splitlines() if dockerignore else []) + list(exclude)
        inc = tuple(parse_rules(include)) if include else None
        return cls(tuple(parse_rules(lines)), inc)

    @property
    def has_negations(self) -> bool:
        return any(r.negate for r in self.exclude)

    def excluded(self, rel_path: str) -> bool:
        if always_excluded(rel_path):
            return True
        verdict = False
        for rule in self.exclude:
            if rule.matches(rel_path):
                verdict = not rule.negate
        return verdict or self.secret_withheld(rel_path)

    def secret_withheld(self, rel_path: str) -> bool:
        """A secret-looking path no explicit ``!rule`` brings back."""
        return secret_looking(rel_path) and not any(r.negate and r.matches(rel_path) for r in self.exclude)

    def wanted(self, rel_path: str) -> bool:
        """Should this file be copied?"""
        if self.excluded(rel_path):
            return False
        if self.include is None:
            return True
        return any(r.matches(rel_path) for r in self.include if not r.negate)

    def prune_dir(self, rel_dir: str) -> bool:
        """Can a whole folder be skipped? Only when nothing below it could be re-included."""
        if always_excluded(rel_dir):
            return True
        return self.excluded(rel_dir) and not self.has_negations
