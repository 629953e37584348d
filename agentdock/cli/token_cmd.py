"""``agentdock token issue``: mint an HS256 JWT that an agent accepts, for testing and scripts.

The secret is the Dockfile's ``auth.jwt.secret_key`` after ``${VAR}`` interpolation (``--env``,
then the environment, then ``.env``); ``aud`` is the agent name; the role must exist in the
Dockfile. Human output is the bare token on stdout (``TOKEN=$(agentdock token issue ...)``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer

from agentdock.cli.output import EXIT_USAGE, emit, fail

_TTL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> int | None:
    """``"15m"`` -> 900; a bare number is seconds; None when unparseable or zero."""
    match = _TTL.match(text.lower())
    if match is None:
        return None
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    return seconds or None


def issue(
    file: Path = typer.Argument(Path("Dockfile.yaml"), help="The agent's Dockfile."),
    sub: str = typer.Option(..., "--sub", help="Subject: who the token identifies (user or service id)."),
    role: str = typer.Option(
        ..., "--role", help="Role from the Dockfile's auth.roles (or admin/developer/viewer)."
    ),
    ttl: str | None = typer.Option(
        None, "--ttl", help="Lifetime: 30s, 15m, 2h, 1d (default: auth.jwt.expiry_minutes)."
    ),
    env: list[str] = typer.Option([], "--env", help="KEY=VALUE for ${KEY} references (repeatable)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object with the token and its claims."
    ),
) -> None:
    """Mint a JWT for the agent of FILE (auth.mode jwt), signed with its auth.jwt.secret_key."""
    from agentdock.cli.spec_cmds import parse_env_pairs
    from agentdock.errors import AgentDockError
    from agentdock.security.jwt import issue_token
    from agentdock.spec import load_dockfile

    values = parse_env_pairs(env, as_json=as_json)
    if not sub.strip():
        fail("--sub must not be empty", as_json=as_json, code=EXIT_USAGE)
    ttl_s = parse_ttl(ttl) if ttl is not None else None
    if ttl is not None and ttl_s is None:
        fail(
            f"--ttl expects a duration like 30s, 15m, 2h or 1d, got {ttl!r}", as_json=as_json, code=EXIT_USAGE
        )
    if not file.is_file():
        fail(f"no Dockfile at {file}", as_json=as_json, code=EXIT_USAGE)
    try:
        spec = load_dockfile(file, env=values, check_imports=False).spec
    except AgentDockError as exc:
        fail(exc, as_json=as_json)
    roles = spec.roles()
    if role not in roles:
        fail(
            f"role '{role}' is not defined (roles: {', '.join(sorted(roles))})",
            as_json=as_json,
            code=EXIT_USAGE,
        )
    if spec.auth.mode != "jwt":
        how = "tokens come from the issuer" if spec.auth.mode == "oauth2" else "use an API key"
        fail(
            f"auth.mode is {spec.auth.mode}: this agent does not accept HS256 tokens ({how})", as_json=as_json
        )
    lifetime = ttl_s or 60 * (spec.auth.jwt.expiry_minutes if spec.auth.jwt else 60)
    try:
        token = issue_token(spec, sub=sub, role=role, ttl_s=lifetime)
    except AgentDockError as exc:
        fail(exc, as_json=as_json)
    expires = (datetime.now(UTC) + timedelta(seconds=lifetime)).replace(microsecond=0)
    if not as_json:
        typer.echo(f"token for {sub} ({role}) on {spec.agent.name}, expires {expires.isoformat()}", err=True)
    emit(
        {
            "ok": True,
            "token": token,
            "sub": sub,
            "role": role,
            "aud": spec.agent.name,
            "ttl_s": lifetime,
            "expires_at": expires.isoformat(),
        },
        as_json=as_json,
        human=token,
    )


def register(app: typer.Typer) -> None:
    token_app = typer.Typer(help="Mint tokens for testing an agent.", no_args_is_help=True)
    token_app.command("issue")(issue)
    app.add_typer(token_app, name="token")
