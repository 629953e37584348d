"""Resolve the frozen spec's ``${VAR}`` references inside the running function.

A build context carries references, never values. ``deploy.secrets`` says where each
variable comes from; anything not listed comes from the environment:

    env                      (default) the process environment
    aws-sm://name[#jsonkey]  AWS Secrets Manager SecretString (a JSON key of it with #jsonkey)
    ssm://name               SSM Parameter Store, decrypted (``ssm:///a/b`` = parameter ``/a/b``)
    k8s://secret/key         the mounted file <AGENTDOCK_SECRETS_DIR or /var/run/secrets/agentdock>/secret/key,
                             else the environment variable (Knative/Cloud Run env-from-secret)
    gcp-sm://secret[/version] Google Secret Manager: Cloud Run injects the value as the variable
                             itself (``valueSource.secretKeyRef``), so it is read from the environment

boto3 is imported only when an ``aws-sm://`` or ``ssm://`` reference is resolved, so the
runtime's import path (and its cold start) never pays for it. Each secret is fetched once
per process. Values never appear in errors or logs: only variable names and references do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from agentdock.errors import DockfileInvalid, SecretResolutionError
from agentdock.settings import DEFAULT_SECRETS_DIR, ENV_SECRETS_DIR

SCHEMES = ("env", "aws-sm://", "ssm://", "k8s://", "gcp-sm://")


class SecretResolver:
    """``lookup(var)`` for ``agentdock.spec.interpolate``: env or the source named in deploy.secrets."""

    def __init__(
        self,
        sources: Mapping[str, str],
        *,
        env: Mapping[str, str] | None = None,
        secrets_dir: str | Path | None = None,
        client_factory: Callable[[str], Any] | None = None,
    ) -> None:
        self.sources = dict(sources)
        self.env = os.environ if env is None else env
        self.secrets_dir = Path(secrets_dir or self.env.get(ENV_SECRETS_DIR) or DEFAULT_SECRETS_DIR)
        self._client_factory = client_factory
        self._clients: dict[str, Any] = {}
        self._cache: dict[str, str] = {}
        for var, ref in self.sources.items():
            if not isinstance(ref, str) or not (ref == "env" or ref.startswith(SCHEMES[1:])):
                raise SecretResolutionError(
                    f"deploy.secrets.{var}",
                    f"unknown secret source {ref!r}",
                    hint="use env, aws-sm://, ssm://, k8s:// or gcp-sm://",
                )

    def lookup(self, var: str) -> str | None:
        ref = self.sources.get(var, "env")
        if ref == "env" or ref.startswith("gcp-sm://"):
            return self.env.get(var)
        if ref.startswith("k8s://"):
            return self._k8s(var, ref)
        try:
            if ref.startswith("aws-sm://"):
                name, _, key = ref[len("aws-sm://") :].partition("#")
                return self._json_key(var, self._aws_sm(name), key) if key else self._aws_sm(name)
            return self._ssm(ref[len("ssm://") :])
        except SecretResolutionError:
            raise
        except Exception as exc:  # botocore errors: name the reference, never a value
            raise SecretResolutionError(
                f"deploy.secrets.{var}", f"{ref} could not be read ({type(exc).__name__})"
            ) from exc

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            if self._client_factory is not None:
                self._clients[service] = self._client_factory(service)
            else:
                import boto3  # only here: see the module docstring

                self._clients[service] = boto3.client(service)  # type: ignore[call-overload]
        return self._clients[service]

    def _aws_sm(self, name: str) -> str:
        cache_key = "aws-sm://" + name
        if cache_key not in self._cache:
            response = self._client("secretsmanager").get_secret_value(SecretId=name)
            value = response.get("SecretString")
            if value is None:
                raise SecretResolutionError(
                    cache_key, "the secret has no SecretString (binary secrets are not supported)"
                )
            self._cache[cache_key] = value
        return self._cache[cache_key]

    def _ssm(self, name: str) -> str:
        cache_key = "ssm://" + name
        if cache_key not in self._cache:
            response = self._client("ssm").get_parameter(Name=name, WithDecryption=True)
            self._cache[cache_key] = response["Parameter"]["Value"]
        return self._cache[cache_key]

    def _k8s(self, var: str, ref: str) -> str | None:
        secret, _, key = ref[len("k8s://") :].partition("/")
        if not secret or not key or ".." in (secret, key):
            raise SecretResolutionError(f"deploy.secrets.{var}", f"{ref} is not k8s://secret/key")
        path = self.secrets_dir / secret / key
        if path.is_file():
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        return self.env.get(var)

    @staticmethod
    def _json_key(var: str, secret: str, key: str) -> str:
        try:
            value = json.loads(secret)[key]
        except (ValueError, KeyError, TypeError):
            raise SecretResolutionError(
                f"deploy.secrets.{var}", f"the secret is not a JSON object with the key {key!r}"
            ) from None
        return value if isinstance(value, str) else json.dumps(value)


def resolve_frozen(raw: dict[str, Any], *, resolver: SecretResolver | None = None) -> dict[str, Any]:
    """The frozen spec data with every ``${VAR}`` resolved; SecretResolutionError names the misses."""
    from agentdock.spec import interpolate

    if resolver is None:
        sources = (raw.get("deploy") or {}).get("secrets") or {}
        resolver = SecretResolver(sources)
    try:
        resolved: dict[str, Any] = interpolate(raw, resolver.lookup)
    except DockfileInvalid as exc:
        paths = ", ".join(sorted({e.path for e in exc.errors if e.path})) or "?"
        raise SecretResolutionError(
            paths,
            "unresolved ${VAR} reference(s) at run time: " + "; ".join(e.cause for e in exc.errors),
            hint="set the variable in the function's environment or map it in deploy.secrets",
        ) from None
    return resolved
