"""Preflight fixtures. Contexts are built once per session; their locked environments live in
the shared build cache (``AGENTDOCK_CACHE``, default ~/.cache/agentdock), so one real install
happens per distinct lock and CI can keep it between runs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdock.build import build_context

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_EXAMPLE = ROOT / "examples" / "doc_summarizer"


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDOCK_HOME", str(tmp_path / "home"))
    for name in ("AGENTDOCK_STORE", "AGENTDOCK_WHEEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The default example's context for each flavour the preflight runs."""
    out = tmp_path_factory.mktemp("contexts")
    old = os.environ.get("AGENTDOCK_HOME")
    os.environ["AGENTDOCK_HOME"] = str(out / "home")
    try:
        built = {
            flavour: Path(
                build_context(
                    DEFAULT_EXAMPLE / "Dockfile.yaml", flavour=flavour, out_dir=out / flavour
                ).context_dir
            )
            for flavour in ("lambda-stream", "lambda-buffered", "knative")
        }
    finally:
        if old is None:
            os.environ.pop("AGENTDOCK_HOME", None)
        else:
            os.environ["AGENTDOCK_HOME"] = old
    yield built


def copy_example(dest: Path, dockfile_text: str | None = None) -> Path:
    """The default example in ``dest`` (optionally with another Dockfile); returns the Dockfile."""
    shutil.copytree(DEFAULT_EXAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".env"))
    if dockfile_text is not None:
        (dest / "Dockfile.yaml").write_text(dockfile_text)
    return dest / "Dockfile.yaml"
