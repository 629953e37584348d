"""Which files reach a context: .dockerignore semantics, the fixed exclusions, include lists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentdock.build.context import collect_sources
from agentdock.build.ignore import SourceFilter, always_excluded, parse_rules

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/README.md", False),  # docker: no implicit **/ (unlike .gitignore)
        ("**/*.md", "docs/deep/README.md", True),
        ("**/*.md", "README.md", True),  # '**/' also matches zero folders
        ("docs", "docs/a/b.txt", True),  # a folder pattern covers everything under it
        ("docs/*.txt", "docs/a/b.txt", False),
        ("data?.csv", "data1.csv", True),
        ("data?.csv", "data10.csv", False),
        ("[a-c]*.py", "b_mod.py", True),
        ("[!a-c]*.py", "b_mod.py", False),
        ("/tests", "tests/x.py", True),  # a leading slash is the context root
    ],
)
def test_pattern_semantics(pattern: str, path: str, matches: bool) -> None:
    (rule,) = parse_rules([pattern])
    assert rule.matches(path) is matches


def test_last_rule_wins_and_negation_reincludes() -> None:
    flt = SourceFilter.build(dockerignore="# comment\n\n*.txt\n!keep.txt\n")
    assert flt.wanted("notes.txt") is False
    assert flt.wanted("keep.txt") is True
    assert flt.wanted("agent.py") is True
    again = SourceFilter.build(dockerignore="!keep.txt\n*.txt\n")
    assert again.wanted("keep.txt") is False


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "sub/.env",
        ".env.local",
        ".git/config",
        "a/__pycache__/x.pyc",
        "m.pyc",
        ".venv/bin/python",
        "pkg.egg-info/PKG-INFO",
    ],
)
def test_always_excluded_even_when_reincluded(path: str) -> None:
    assert always_excluded(path)
    flt = SourceFilter.build(dockerignore="!.env\n!**/.env\n!.git\n", include=["**"])
    assert flt.wanted(path) is False


def test_include_list_limits_and_excludes_still_apply() -> None:
    flt = SourceFilter.build(include=["agent.py", "prompts"], exclude=["prompts/draft*"])
    assert flt.wanted("agent.py")
    assert flt.wanted("prompts/system.txt")
    assert not flt.wanted("prompts/draft1.txt")
    assert not flt.wanted("notes.md")


def test_collect_sources_from_disk(tmp_path: Path) -> None:
    root = tmp_path / "agent"
    (root / "pkg").mkdir(parents=True)
    (root / "agent.py").write_text("x = 1\n")
    (root / "pkg" / "tool.py").write_text("y = 2\n")
    (root / "big.bin").write_bytes(b"\x00" * 10)
    (root / ".dockerignore").write_text("*.bin\n")
    (root / ".env").write_text("SECRET=1\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref\n")
    env_dir = root / "localenv"  # a virtualenv under any name: found by its pyvenv.cfg
    (env_dir / "lib").mkdir(parents=True)
    (env_dir / "pyvenv.cfg").write_text("home = /usr\n")
    (env_dir / "lib" / "site.py").write_text("z = 3\n")
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret\n")
    os.symlink(outside, root / "leak.txt")
    os.symlink(root / "agent.py", root / "alias.py")
    out = root / "out"
    (out / "ctx").mkdir(parents=True)
    (out / "ctx" / "Dockerfile").write_text("FROM x\n")

    files, warnings = collect_sources(
        root, SourceFilter.build(dockerignore=(root / ".dockerignore").read_text()), skip=[out]
    )

    assert list(files) == sorted(files)
    assert set(files) == {".dockerignore", "agent.py", "alias.py", "pkg/tool.py"}
    assert files["alias.py"] == b"x = 1\n"
    assert any("leak.txt" in w for w in warnings)


def test_secret_looking_files_are_left_out_with_a_warning(tmp_path: Path) -> None:
    """Issue 17: .envrc, SSH keys and secrets.yaml were copied into build contexts silently."""
    (tmp_path / "agent.py").write_text("x = 1\n")
    for name in (".envrc", "id_rsa", "id_ed25519.pub", "server.pem", "secrets.yaml", "Secrets.yml"):
        (tmp_path / name).write_text("TOP SECRET\n")
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "config").write_text("Host x\n")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "tls.key").write_text("KEY\n")
    files, warnings = collect_sources(tmp_path, SourceFilter.build())
    assert sorted(files) == ["agent.py"]
    text = "\n".join(warnings)
    for name in (".envrc", "id_rsa", "id_ed25519.pub", "server.pem", "secrets.yaml", "Secrets.yml", ".ssh/", "conf/tls.key"):
        assert f"left out {name}" in text, name
    assert "TOP SECRET" not in text


def test_an_explicit_reinclude_ships_a_secret_looking_file(tmp_path: Path) -> None:
    (tmp_path / "agent.py").write_text("x = 1\n")
    (tmp_path / "public.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "server.pem").write_text("KEY\n")
    files, warnings = collect_sources(tmp_path, SourceFilter.build(dockerignore="!public.pem\n"))
    assert sorted(files) == ["agent.py", "public.pem"]
    assert any("left out server.pem" in w for w in warnings)
