"""boto3 clients for the Lambda target, from the standard AWS chain.

Region, credentials and endpoint come from boto3's own resolution (env, shared config, SSO,
instance roles, ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``), so the whole deploy runs
against a moto server when ``AWS_ENDPOINT_URL`` points at one. Clients are created lazily, once
per target and region: creating a boto3 client costs more than most calls against moto.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol

from agentdock import settings as env_names
from agentdock.errors import CloudCallFailed

NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "NoSuchEntity",
        "RepositoryNotFoundException",
        "ImageNotFoundException",
        "ProvisionedConcurrencyConfigNotFoundException",
        "404",
    }
)


class ClientSource(Protocol):
    """What the plan executor needs: a boto3-style client per service name."""

    def client(self, service: str) -> Any: ...


class AwsApi(ClientSource, Protocol):
    """The AWS seam of the Lambda target: ``AwsClients`` in production, any object with these
    members in tests (``agentdock.testing.FakeAwsClients``), passed as ``aws_factory``."""

    region: str

    @property
    def lambda_(self) -> Any: ...

    @property
    def ecr(self) -> Any: ...

    @property
    def iam(self) -> Any: ...

    def account_id(self) -> str: ...

    def credentials(self) -> Any: ...

    @property
    def endpoint_override(self) -> bool: ...


class ServiceClients(ABC):
    """The named services of ``AwsApi`` over one ``client(service)`` method (real and fake bundles)."""

    @abstractmethod
    def client(self, service: str) -> Any: ...

    @property
    def lambda_(self) -> Any:
        return self.client("lambda")

    @property
    def ecr(self) -> Any:
        return self.client("ecr")

    @property
    def iam(self) -> Any:
        return self.client("iam")


class AwsClients(ServiceClients):
    """Lazily created clients of one region, sharing one boto3 session (implements ``AwsApi``)."""

    def __init__(
        self,
        region: str,
        *,
        session: Any | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
    ) -> None:
        import boto3

        self.session = session or boto3.Session(profile_name=profile)
        self.region = region
        self.endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}
        self._account_id: str | None = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=5,
                read_timeout=60,
                user_agent_extra="agentdock",
            )
            self._clients[service] = self.session.client(
                service, region_name=self.region, endpoint_url=self.endpoint_url, config=config
            )
        return self._clients[service]

    def account_id(self) -> str:
        if self._account_id is None:
            try:
                self._account_id = str(self.client("sts").get_caller_identity()["Account"])
            except Exception as exc:
                raise cloud_error("sts", "GetCallerIdentity", exc) from exc
        return self._account_id

    def credentials(self) -> Any:
        """Frozen credentials for SigV4-signing the URL health gate's request."""
        creds = self.session.get_credentials()
        return creds.get_frozen_credentials() if creds is not None else None

    @property
    def endpoint_override(self) -> bool:
        """True when Lambda calls go to a non-AWS endpoint (moto, LocalStack): such a cloud cannot
        run image functions or serve function URLs, so the health gate runs the context locally."""
        return bool(
            self.endpoint_url
            or os.environ.get(env_names.ENV_AWS_ENDPOINT_URL)
            or os.environ.get("AWS_ENDPOINT_URL_LAMBDA")
        )


def default_region(session: Any | None = None, profile: str | None = None) -> str | None:
    """The region of the AWS chain (AWS_REGION / AWS_DEFAULT_REGION / the profile), if any."""
    import boto3

    return (session or boto3.Session(profile_name=profile)).region_name


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def is_not_found(exc: BaseException) -> bool:
    return error_code(exc) in NOT_FOUND_CODES


def none_if_missing(service: str, operation: str, call: Callable[[], Any]) -> Any:
    """``call()``, or None when AWS says the thing does not exist; other failures as ``cloud_error``."""
    try:
        return call()
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise cloud_error(service, operation, exc) from exc


def cloud_error(service: str, operation: str, exc: BaseException) -> CloudCallFailed:
    """A user-facing error for a failed AWS call: where, the AWS code and message, what to do."""
    code = error_code(exc)
    if code is not None:
        message = getattr(exc, "response", {}).get("Error", {}).get("Message", "") or str(exc)
        cause = f"{code}: {message}"
    else:
        cause = f"{type(exc).__name__}: {exc}"
    hint = "re-run the same command: the deploy converges from wherever it stopped"
    if code in ("AccessDenied", "AccessDeniedException", "UnrecognizedClientException"):
        hint = "check the AWS credentials/permissions of this shell (aws sts get-caller-identity)"
    return CloudCallFailed(f"{service}.{operation}", cause, hint=hint)
