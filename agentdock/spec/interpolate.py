"""``${VAR}`` and ``${VAR:-default}`` in Dockfile string values.

Grammar: ``${NAME}`` (NAME = ``[A-Za-z_][A-Za-z0-9_]*``), ``${NAME:-default}`` (the default
is used when NAME is unset *or empty*, as in a shell), ``$$`` for a literal ``$``. Anything
else starting with ``${`` is malformed. Only string leaves are interpolated, never keys.

The build keeps every reference as written (the frozen spec) and the running function
resolves them, so this module is used twice with different lookups: at validate time
(``--env`` -> process environment -> ``.env`` beside the Dockfile, see ``make_lookup``) and at
run time (the runtime's secret resolver).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdock.errors import DockfileError, DockfileInvalid, EnvInterpolationError
from agentdock.spec.paths import child

Lookup = Callable[[str], str | None]

_TOKEN = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Reference:
    """One ``${VAR}`` as written at ``path``."""

    path: str
    var: str
    default: str | None


@dataclass
class Resolution:
    """The data with what could be resolved; unresolved references stay as written."""

    data: Any
    unresolved: list[Reference] = field(default_factory=list)
    substituted: set[str] = field(default_factory=set)  # paths whose value came from a reference
    malformed: list[DockfileError] = field(default_factory=list)

    def errors(self, *, allow_unresolved: bool) -> list[DockfileError]:
        missing: list[DockfileError] = [] if allow_unresolved else [_unset(ref) for ref in self.unresolved]
        return [*self.malformed, *missing]


def _unset(ref: Reference) -> EnvInterpolationError:
    return EnvInterpolationError(
        ref.path,
        f"${{{ref.var}}} is not set (looked in --env, the environment, .env beside the Dockfile)",
        hint=f"export {ref.var}=... or add {ref.var}=... to .env, or write ${{{ref.var}:-default}}",
    )


def resolve(data: Any, lookup: Lookup) -> Resolution:
    """Resolve every reference ``lookup`` knows; record the rest (never raises)."""
    result = Resolution(data=None)
    result.data = _walk(data, "", lookup, result)
    return result


def interpolate(data: Any, lookup: Lookup, *, allow_unresolved: bool = False) -> Any:
    """``data`` with ``${VAR}`` references resolved through ``lookup``.

    Raises ``DockfileInvalid`` (EnvInterpolationError 4001, with the path) for a malformed
    reference, and for an unresolved one unless ``allow_unresolved`` (then it stays as written).
    """
    result = resolve(data, lookup)
    errors = result.errors(allow_unresolved=allow_unresolved)
    if errors:
        raise DockfileInvalid(errors)
    return result.data


def references(data: Any, path: str = "") -> list[Reference]:
    """Every well-formed reference in ``data``, in document order (e.g. the secrets a build needs)."""
    found: list[Reference] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(references(value, child(path, key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(references(value, child(path, index)))
    elif isinstance(data, str):
        for match in _TOKEN.finditer(data):
            if match.group(1):
                found.append(Reference(path, match.group(1), match.group(2)))
    return found


def _walk(data: Any, path: str, lookup: Lookup, result: Resolution) -> Any:
    if isinstance(data, dict):
        return {key: _walk(value, child(path, key), lookup, result) for key, value in data.items()}
    if isinstance(data, list):
        return [_walk(value, child(path, index), lookup, result) for index, value in enumerate(data)]
    if isinstance(data, str) and "$" in data:
        return _string(data, path, lookup, result)
    return data


def _string(text: str, path: str, lookup: Lookup, result: Resolution) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$$":
            return "$"
        var = match.group(1)
        if var is None:
            snippet = text[match.start() :].split("}", 1)[0][:40] + "}"
            result.malformed.append(
                EnvInterpolationError(
                    path,
                    f"malformed reference {snippet!r}",
                    hint="write ${VAR} or ${VAR:-default} (VAR = letters, digits, _); $$ is a literal $",
                )
            )
            return token
        default = match.group(2)
        value = lookup(var)
        if value is not None and (value != "" or default is None):
            result.substituted.add(path)
            return value
        if default is not None:
            result.substituted.add(path)
            return default
        result.unresolved.append(Reference(path, var, None))
        return token

    return _TOKEN.sub(replace, text)


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` file (``export`` prefix, ``#`` comments, quotes).

    Double-quoted values understand ``\\n``, ``\\t``, ``\\"`` and ``\\\\``; single-quoted values
    are literal; an unquoted value ends at `` #``. Lines that are not assignments are skipped.
    A missing file is an empty mapping.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    values: dict[str, str] = {}
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().removeprefix("export ").strip()
        if _NAME.match(key):
            values[key] = _dotenv_value(value.strip())
    return values


def _dotenv_value(value: str) -> str:
    if value[:1] == "'":
        end = value.find("'", 1)
        return value[1:end] if end > 0 else value[1:]
    if value[:1] == '"':
        out: list[str] = []
        escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
        i = 1
        while i < len(value) and value[i] != '"':
            if value[i] == "\\" and i + 1 < len(value):
                out.append(escapes.get(value[i + 1], "\\" + value[i + 1]))
                i += 2
                continue
            out.append(value[i])
            i += 1
        return "".join(out)
    return re.split(r"\s+#", value, maxsplit=1)[0].strip()


def make_lookup(env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Lookup:
    """The validate-time order: ``env`` (``--env K=V``) -> process environment -> ``dotenv`` file."""
    given = dict(env or {})
    cache: dict[str, str] | None = None

    def lookup(name: str) -> str | None:
        nonlocal cache
        if name in given:
            return given[name]
        if name in os.environ:
            return os.environ[name]
        if dotenv is None:
            return None
        if cache is None:
            cache = read_dotenv(dotenv)
        return cache.get(name)

    return lookup
