"""Run import-linter (`lint-imports`) on the package as it is laid out when installed.

import-linter reads modules from disk under the root package's folder, but agentdock.targets,
agentdock.adapters and agentdock.cdk live in top-level folders mapped by pyproject's
``package-dir``. So this lays out a view of the installed tree with symlinks in a temp folder and
runs the contracts of pyproject.toml there. ``extra`` adds modules to the view (the test adds a
deliberately forbidden import and checks the contracts fail).

    python .ci/lint_imports.py            # exit 0 when every contract is kept
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPED = {"adapters": "adapters", "targets": "targets", "cdk": "cdk"}


def make_view(dest: Path, extra: dict[str, str] | None = None) -> Path:
    """``dest/agentdock``: symlinks to every entry of ``agentdock/`` plus the mapped folders;
    ``extra`` maps a path inside the package (e.g. ``store/_bad.py``) to source text."""
    pkg = dest / "agentdock"
    pkg.mkdir(parents=True)
    entries = {p.name: p for p in (ROOT / "agentdock").iterdir() if p.name != "__pycache__"}
    entries.update({name: ROOT / folder for name, folder in MAPPED.items()})
    touched = {Path(rel).parts[0] for rel in (extra or {})}
    for name, src in entries.items():
        if name in touched and src.is_dir():
            shutil.copytree(src, pkg / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            os.symlink(src, pkg / name)
    for rel, text in (extra or {}).items():
        (pkg / rel).write_text(text)
    return pkg


def run(extra: dict[str, str] | None = None, *, capture: bool = False) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="agentdock-imports-") as tmp:
        make_view(Path(tmp), extra)
        env = {**os.environ, "PYTHONPATH": tmp}
        exe = Path(sys.executable).with_name("lint-imports")
        cmd = [
            str(exe) if exe.exists() else "lint-imports",
            "--config",
            str(ROOT / "pyproject.toml"),
            "--no-cache",
        ]
        return subprocess.run(cmd, cwd=tmp, env=env, text=True, capture_output=capture, check=False)


if __name__ == "__main__":
    sys.exit(run().returncode)
