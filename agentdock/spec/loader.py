"""The Dockfile loading pipeline: parse -> include -> interpolate -> schema -> semantics -> lint.

``load_dockfile`` raises ``DockfileInvalid`` with every error found; ``validate_file`` returns
a ``Report`` instead (what ``agentdock validate`` prints). Both keep two views of the data:

* ``raw``: after ``!include``, with every ``${VAR}`` exactly as written. This is what a build
  freezes into the artifact, so secrets are never resolved into files or images;
* ``spec``: a ``DockSpec`` validated on a copy where references are resolved when they can be.

A stage stops the pipeline only when later stages have nothing to work on: a YAML error
ends it; unresolved references do not (they are reported and the literal text stays, so the
schema and semantic errors of the same file are reported in the same run).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdock.errors import DockfileError, DockfileInvalid
from agentdock.spec.context import Context
from agentdock.spec.interpolate import make_lookup, references, resolve
from agentdock.spec.lint import run_lints
from agentdock.spec.models import DockSpec
from agentdock.spec.paths import Marks, locate
from agentdock.spec.schema_errors import best_effort_model, validate_model
from agentdock.spec.semantics import run_checks
from agentdock.spec.yamlio import read_document

DEFAULT_DOCKFILE = "Dockfile.yaml"


@dataclass(frozen=True)
class Loaded:
    """A valid Dockfile: ``spec`` (resolved where possible) and ``raw`` (references kept)."""

    spec: DockSpec
    raw: dict[str, Any]
    path: Path
    base_dir: Path
    warnings: list[DockfileError] = field(default_factory=list)
    files: tuple[Path, ...] = ()  # the Dockfile and every file it !included


@dataclass(frozen=True)
class Report:
    """What one validation found. ``valid`` is true when there are no errors (warnings allowed)."""

    path: Path
    errors: list[DockfileError] = field(default_factory=list)
    warnings: list[DockfileError] = field(default_factory=list)
    spec: DockSpec | None = None
    raw: dict[str, Any] | None = None
    files: tuple[Path, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """The ``validate --json`` document."""
        return {
            "valid": self.valid,
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
        }


def validate_file(
    path: str | Path = DEFAULT_DOCKFILE,
    *,
    env: dict[str, str] | None = None,
    strict: bool = False,
    allow_unresolved: bool = False,
    check_imports: bool = True,
) -> Report:
    """Run the whole pipeline and report; never raises for a problem in the Dockfile."""
    file = Path(path)
    base_dir = file.resolve().parent
    doc = read_document(file)
    if doc.errors:
        return Report(file, errors=_placed(doc.errors, doc.marks, file.name), files=tuple(doc.files))
    raw: dict[str, Any] | None = doc.data if isinstance(doc.data, dict) else None
    resolution = resolve(doc.data, make_lookup(env, base_dir / ".env"))
    errors = resolution.errors(allow_unresolved=allow_unresolved)
    spec, schema_errors = validate_model(resolution.data, resolution.substituted)
    errors.extend(schema_errors)
    checked = spec or best_effort_model(resolution.data)
    warnings: list[DockfileError] = []
    if checked is not None:
        unresolved = frozenset(ref.path for ref in resolution.unresolved)
        ctx = Context(
            spec=checked,
            base_dir=base_dir,
            check_imports=check_imports,
            unresolved=unresolved,
            references=tuple(references(doc.data)),
        )
        errors.extend(run_checks(ctx))
        warnings = run_lints(ctx)
    if strict:
        errors, warnings = errors + warnings, []
    return Report(
        file,
        errors=_placed(errors, doc.marks, file.name),
        warnings=_placed(warnings, doc.marks, file.name),
        spec=spec,
        raw=copy.deepcopy(raw),
        files=tuple(doc.files),
    )


def load_dockfile(
    path: str | Path = DEFAULT_DOCKFILE,
    *,
    env: dict[str, str] | None = None,
    allow_unresolved: bool = False,
    check_imports: bool = True,
    strict: bool = False,
) -> Loaded:
    """The validated Dockfile, or ``DockfileInvalid`` carrying every error (and the warnings)."""
    report = validate_file(
        path, env=env, strict=strict, allow_unresolved=allow_unresolved, check_imports=check_imports
    )
    if report.errors or report.spec is None or report.raw is None:
        raise DockfileInvalid(report.errors, report.warnings)
    file = Path(path)
    return Loaded(
        spec=report.spec,
        raw=report.raw,
        path=file,
        base_dir=file.resolve().parent,
        warnings=report.warnings,
        files=report.files,
    )


def _placed(errors: list[DockfileError], marks: Marks, main: str) -> list[DockfileError]:
    """Errors with their file/line, in file order: the Dockfile, then included files, then unplaced."""
    located = [locate(e, marks) for e in errors]
    return sorted(located, key=lambda e: (e.line is None, e.file != main, e.file or "", e.line or 0))
