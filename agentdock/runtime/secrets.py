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
runtime's import path (and its cold start) never pays for it. A fetched secret is cached for
``CACHE_TTL_S`` (5 minutes), so a rotated or revoked secret stops being used within that time
without a fetch per request. Values never appear in errors or logs: only names and references do.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from agentdock.errors import DockfileInvalid, SecretResolutionError
from agentdock.settings import DEFAULT_SECRETS_DIR, ENV_SECRETS_DIR

SCHEMES = ("env", "aws-sm://", "ssm://", "k8s://", "gcp-sm://")
CACHE_TTL_S = 300.0


class SecretResolver:
    """``lookup(var)`` for ``agentdock.spec.interpolate``: env or the source named in deploy.secrets."""

    def __init__(
        self,
        sources: Mapping[str, str],
        *,
        env: Mapping[str, str] | None = None,
        secrets_dir: str | Path | None = None,
        client_factory: Callable[[str], Any] | None = None,
        ttl_s: float = CACHE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sources = dict(sources)
        self.env = os.environ if env is None else env
        self.secrets_dir = Path(secrets_dir or self.env.get(ENV_SECRETS_DIR) or DEFAULT_SECRETS_DIR)
        self._client_factory = client_factory
        self._clients: dict[str, Any] = {}
        self._cache: dict[str, tuple[float, str]] = {}  # reference -> (expires at, value)
        self._ttl_s = ttl_s
        self._clock = clock
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

    def _cached(self, cache_key: str, fetch: Callable[[], str]) -> str:
        now = self._clock()
        hit = self._cache.get(cache_key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = fetch()
        self._cache[cache_key] = (now + self._ttl_s, value)
        return value

    def _aws_sm(self, name: str) -> str:
        cache_key = "aws-sm://" + name

        def fetch() -> str:
            response = self._client("secretsmanager").get_secret_value(SecretId=name)
            value = response.get("SecretString")
            if value is None:
                raise SecretResolutionError(
                    cache_key, "the secret has no SecretString (binary secrets are not supported)"
                )
            return str(value)

        return self._cached(cache_key, fetch)

    def _ssm(self, name: str) -> str:
        def fetch() -> str:
            response = self._client("ssm").get_parameter(Name=name, WithDecryption=True)
            return str(response["Parameter"]["Value"])

        return self._cached("ssm://" + name, fetch)

    def _k8s(self, var: str, ref: str) -> str | None:
        secret, _, key = ref[len("k8s://") :].partition("/")
        root = self.secrets_dir.resolve()
        path = (root / secret / key).resolve() if secret and key else root
        # Containment, not string equality: `a/../x`, `a/b/../../..`, absolute keys and symlinks
        # that leave the secrets folder are all refused.
        bad = not secret or not key or ".." in Path(secret, key).parts or path == root
        if bad or not path.is_relative_to(root):
            raise SecretResolutionError(
                f"deploy.secrets.{var}", f"{ref} is not k8s://secret/key inside the secrets folder"
            )
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
    from agentdock.spec.plainenv import without_plain_env

    if resolver is None:
        sources = (raw.get("deploy") or {}).get("secrets") or {}
        resolver = SecretResolver(sources)
    try:
        # deploy.env was resolved by the deploy and is already in this process's environment.
        resolved: dict[str, Any] = interpolate(without_plain_env(raw), resolver.lookup)
    except DockfileInvalid as exc:
        paths = ", ".join(sorted({e.path for e in exc.errors if e.path})) or "?"
        raise SecretResolutionError(
            paths,
            "unresolved ${VAR} reference(s) at run time: " + "; ".join(e.cause for e in exc.errors),
            hint="set the variable in the function's environment or map it in deploy.secrets",
        ) from None
    return resolved
