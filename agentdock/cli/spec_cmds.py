"""``agentdock init | validate | schema``: start a project, check a Dockfile, print the JSON Schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import typer

from agentdock.cli.output import EXIT_FAILED, EXIT_USAGE, emit, fail
from agentdock.errors import DockfileError

NAME_RULE = re.compile(r"^[a-z][a-z0-9_-]{2,63}$")
TEMPLATES = ("langgraph", "langchain")
INIT_FILES = {  # file written -> template under templates/init/
    "Dockfile.yaml": "Dockfile.yaml.j2",
    "agent.py": "agent_{template}.py.j2",
    "requirements.txt": "requirements.txt.j2",
    ".env.example": "env.example.j2",
    "README.md": "README.md.j2",
}
# Written beside the Dockfile so editors complete it offline (yaml-language-server $schema comment).
SCHEMA_FILE = ".dockfile-1.0.schema.json"


def init(
    directory: Path = typer.Argument(Path("."), help="Project folder (created if missing)."),
    name: str | None = typer.Option(
        None, "--name", help="Agent name (default: derived from the folder name)."
    ),
    template: str = typer.Option("langgraph", "--template", help="Agent skeleton: langgraph or langchain."),
    force: bool = typer.Option(False, "--force", help="Overwrite files that already exist."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Scaffold a Dockfile, an agent that runs offline, requirements, .env.example and a README."""
    if template not in TEMPLATES:
        fail(
            f"unknown template '{template}' (choose: {', '.join(TEMPLATES)})",
            as_json=as_json,
            code=EXIT_USAGE,
        )
    agent_name = name or agent_name_for(directory)
    if not NAME_RULE.match(agent_name):
        fail(
            f"invalid agent name '{agent_name}': must match {NAME_RULE.pattern}",
            as_json=as_json,
            code=EXIT_USAGE,
        )
    if directory.exists() and not directory.is_dir():
        fail(f"{directory} exists and is not a folder", as_json=as_json, code=EXIT_USAGE)
    existing = [f for f in (*INIT_FILES, SCHEMA_FILE) if (directory / f).exists()]
    if existing and not force:
        fail(
            f"refusing to overwrite {', '.join(existing)} in {directory} (use --force to replace them)",
            as_json=as_json,
            code=EXIT_FAILED,
        )
    files = render_init(agent_name, template)
    directory.mkdir(parents=True, exist_ok=True)
    for file, text in files.items():
        (directory / file).write_text(text, encoding="utf-8")
    next_steps = [f"cd {directory}", "agentdock validate", "agentdock serve"]
    emit(
        {
            "ok": True,
            "dir": str(directory),
            "name": agent_name,
            "template": template,
            "files": list(files),
            "next": next_steps,
        },
        as_json=as_json,
        human=[
            f"✓ Created {agent_name} ({template}) in {directory}",
            *(f"  {f}" for f in files),
            "Next: " + " && ".join(next_steps),
        ],
    )


def agent_name_for(directory: Path) -> str:
    """A valid agent name from a folder name: lowercase, other characters -> '-', at least 3 chars."""
    base = re.sub(r"[^a-z0-9_-]+", "-", directory.resolve().name.lower()).strip("-_")
    if not base or not base[0].isalpha():
        base = "agent-" + base if base else "my-agent"
    return (base + "-agent" if len(base) < 3 else base)[:64].rstrip("-_")


def render_init(agent_name: str, template: str) -> dict[str, str]:
    """The scaffold's files (pure: no I/O besides reading the templates)."""
    import jinja2

    from agentdock.spec import json_schema
    from agentdock.spec.schema import render_schema

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("agentdock.templates", "init"),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    values = {"name": agent_name, "template": template, "schema_url": SCHEMA_FILE}
    files = {
        file: env.get_template(tpl.format(template=template)).render(**values)
        for file, tpl in INIT_FILES.items()
    }
    return files | {SCHEMA_FILE: render_schema(json_schema())}


def validate(
    file: Path = typer.Argument(Path("Dockfile.yaml"), help="The Dockfile to check (or its folder)."),
    strict: bool = typer.Option(False, "--strict", help="Treat lint warnings as errors."),
    as_json: bool = typer.Option(False, "--json", help='Print {"valid", "errors", "warnings"} as JSON.'),
    env: list[str] = typer.Option(
        [], "--env", help="KEY=VALUE for ${KEY} references (repeatable; beats the environment)."
    ),
    no_imports: bool = typer.Option(
        False, "--no-imports", help="Do not import the entrypoint or I/O classes."
    ),
) -> None:
    """Check a Dockfile: YAML, includes, ${VAR} references, schema, semantics, lint. Exit 0 valid, 1 invalid."""
    from agentdock.spec import validate_file

    values = parse_env_pairs(env, as_json=as_json)
    if file.is_dir():
        file = file / "Dockfile.yaml"
    if not file.is_file():
        fail(f"no Dockfile at {file} (create one with `agentdock init`)", as_json=as_json, code=EXIT_USAGE)
    report = validate_file(file, env=values, strict=strict, check_imports=not no_imports)
    emit(report.to_dict(), as_json=as_json, human=human_report(report.errors, report.warnings, file))
    if not report.valid:
        raise typer.Exit(EXIT_FAILED)


def parse_env_pairs(pairs: list[str], *, as_json: bool) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            fail(f"--env expects KEY=VALUE, got {pair!r}", as_json=as_json, code=EXIT_USAGE)
        values[key] = value
    return values


def human_report(errors: list[DockfileError], warnings: list[DockfileError], file: Path) -> list[str]:
    """``path: cause (code NAME)`` per problem, its place, and the fix when there is one."""
    if not errors:
        return ["✓ Validated successfully", *_with_hints(warnings, "⚠")]
    summary = f"✗ {file}: {len(errors)} error(s)" + (f", {len(warnings)} warning(s)" if warnings else "")
    return [*_with_hints(errors, "✗"), *_with_hints(warnings, "⚠"), summary]


def _with_hints(problems: list[DockfileError], mark: str) -> list[str]:
    lines: list[str] = []
    for problem in problems:
        lines.append(f"{mark} {_line(problem)}")
        if problem.hint:
            lines.append(f"    fix: {problem.hint}")
    return lines


def _line(problem: DockfileError) -> str:
    where = f"  [{problem.file}:{problem.line}]" if problem.line is not None else ""
    return f"{problem}{where}"


def schema(
    out: Path | None = typer.Option(None, "--out", help="Write the schema to this file instead of stdout."),
    as_json: bool = typer.Option(False, "--json", help="With --out: print the result as JSON."),
) -> None:
    """Print the Dockfile JSON Schema (Draft 2020-12), for editors and CI."""
    from agentdock.spec import json_schema
    from agentdock.spec.schema import render_schema

    document: dict[str, Any] = json_schema()
    if out is None:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_schema(document), encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}", as_json=as_json, code=EXIT_USAGE)
    emit({"ok": True, "out": str(out), "id": document.get("$id")}, as_json=as_json, human=f"✓ Wrote {out}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("validate")(validate)
    app.command("schema")(schema)
