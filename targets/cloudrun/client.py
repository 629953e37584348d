"""The only module that talks to Google: the Cloud Run Admin API v2 through the official
``google-cloud-run`` client (``ServicesClient``/``RevisionsClient``, REST transport) and Secret
Manager's ``get_secret_version`` (metadata only: a secret *value* is never read).

Everything crosses this seam as the JSON form of the API's messages (camelCase dicts), so the
model, plan and tests deal in plain data. ``endpoint`` points both clients at another server (the
stand-in in tests, ``http://127.0.0.1:PORT``) with anonymous credentials; otherwise Application
Default Credentials are used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from agentdock.errors import CloudRunRevisionFailed, GoogleCallFailed

INVOKER_ROLE = "roles/run.invoker"
ALL_USERS = "allUsers"


def _error(method: str, exc: Exception, hint: str | None = None) -> GoogleCallFailed:
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc)
    status = f"HTTP {int(code)} " if isinstance(code, int) else ""
    return GoogleCallFailed(method, f"{status}{message}".strip(), hint=hint)


def adc_project() -> str | None:
    """The project of Application Default Credentials (None when there are none)."""
    try:
        import google.auth

        _, project = google.auth.default()
    except Exception:  # no ADC on this machine: the caller asks for --project
        return None
    return str(project) if project else None


class CloudRunClient:
    """Thin, typed calls on one project and region. ``timeout_s`` bounds every long-running wait."""

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        credentials: Any = None,
        timeout_s: float = 600.0,
        poll_s: float = 0.25,
    ) -> None:
        from google.api_core.client_options import ClientOptions
        from google.cloud import run_v2

        if endpoint and credentials is None:
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()
        options = ClientOptions(api_endpoint=endpoint) if endpoint else None
        self.endpoint = endpoint
        self._credentials = credentials
        self._options = options
        self.services = run_v2.ServicesClient(
            credentials=credentials, transport="rest", client_options=options
        )
        self.revisions = run_v2.RevisionsClient(
            credentials=credentials, transport="rest", client_options=options
        )
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self._secrets: Any = None

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _json(message: Any) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(type(message).to_json(message, use_integers_for_enums=False))
        return data

    def _call(self, method: str, fn: Callable[[], Any], hint: str | None = None) -> Any:
        from google.api_core import exceptions

        try:
            return fn()
        except exceptions.GoogleAPICallError as exc:
            raise _error(method, exc, hint) from exc

    def _wait(self, method: str, operation: Any) -> dict[str, Any]:
        """Wait on a long-running operation; its error (e.g. the revision never became Ready) and a
        timeout are reported with the operation's name."""
        from google.api_core import exceptions
        from google.api_core.future.polling import DEFAULT_POLLING

        polling = DEFAULT_POLLING.with_delay(initial=self.poll_s, maximum=5.0, multiplier=1.5).with_timeout(
            self.timeout_s
        )
        try:
            result = operation.result(timeout=self.timeout_s, polling=polling)
        except exceptions.GoogleAPICallError as exc:
            raise CloudRunRevisionFailed(
                method,
                f"the operation failed: {getattr(exc, 'message', None) or exc}",
                hint="see the revision's conditions: agentdock status AGENT --target cloudrun",
            ) from exc
        except Exception as exc:  # concurrent.futures.TimeoutError / RetryError: not done in time
            raise CloudRunRevisionFailed(
                method,
                f"the operation {operation.operation.name} was not done after {self.timeout_s:g} s",
                hint="re-run the deploy (it converges), or raise the wait timeout",
            ) from exc
        return self._json(result)

    # --- services --------------------------------------------------------------------------

    def get_service(self, name: str) -> dict[str, Any] | None:
        from google.api_core import exceptions

        try:
            return self._json(self.services.get_service(name=name))
        except exceptions.NotFound:
            return None
        except exceptions.GoogleAPICallError as exc:
            raise _error("run.services.get", exc) from exc

    def create_service(
        self, parent: str, service_id: str, body: dict[str, Any], *, validate_only: bool = False
    ) -> dict[str, Any]:
        from google.cloud import run_v2

        request = run_v2.CreateServiceRequest(
            parent=parent,
            service_id=service_id,
            service=run_v2.Service.from_json(json.dumps(body)),
            validate_only=validate_only,
        )
        op = self._call("run.services.create", lambda: self.services.create_service(request=request))
        return self._wait("run.services.create", op)

    def update_service(
        self,
        name: str,
        body: dict[str, Any],
        *,
        validate_only: bool = False,
        fields: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Patch the service (``fields``: only those, e.g. ``("traffic",)``; ``etag`` in the body makes
        it conditional: a concurrent change fails with ABORTED instead of being overwritten)."""
        from google.cloud import run_v2
        from google.protobuf import field_mask_pb2

        service = run_v2.Service.from_json(json.dumps({**body, "name": name}))
        request = run_v2.UpdateServiceRequest(service=service, validate_only=validate_only)
        if fields:
            request.update_mask = field_mask_pb2.FieldMask(paths=list(fields))
        op = self._call("run.services.patch", lambda: self.services.update_service(request=request))
        return self._wait("run.services.patch", op)

    def delete_service(self, name: str) -> bool:
        from google.api_core import exceptions

        try:
            op = self.services.delete_service(name=name)
        except exceptions.NotFound:
            return False
        except exceptions.GoogleAPICallError as exc:
            raise _error("run.services.delete", exc) from exc
        self._wait("run.services.delete", op)
        return True

    # --- revisions -------------------------------------------------------------------------

    def list_revisions(self, service_name: str) -> list[dict[str, Any]]:
        pages = self._call("run.revisions.list", lambda: self.revisions.list_revisions(parent=service_name))
        return [self._json(r) for r in pages]

    def get_revision(self, name: str) -> dict[str, Any] | None:
        from google.api_core import exceptions

        try:
            return self._json(self.revisions.get_revision(name=name))
        except exceptions.NotFound:
            return None
        except exceptions.GoogleAPICallError as exc:
            raise _error("run.revisions.get", exc) from exc

    # --- IAM: the invoker binding ----------------------------------------------------------

    def set_public(self, name: str, public: bool) -> bool:
        """Grant (``public``) or remove ``roles/run.invoker`` for ``allUsers``; True when it changed.
        Read-modify-write with the policy's etag, so a concurrent IAM edit is not lost."""
        from google.iam.v1 import iam_policy_pb2, policy_pb2

        policy = self._call(
            "run.services.getIamPolicy",
            lambda: self.services.get_iam_policy(request=iam_policy_pb2.GetIamPolicyRequest(resource=name)),
        )
        binding = next((b for b in policy.bindings if b.role == INVOKER_ROLE), None)
        has = binding is not None and ALL_USERS in binding.members
        if has == public:
            return False
        if public:
            if binding is None:
                binding = policy.bindings.add(role=INVOKER_ROLE)
            binding.members.append(ALL_USERS)
        else:
            assert binding is not None
            binding.members.remove(ALL_USERS)
            if not binding.members:
                policy.bindings.remove(binding)
        new = policy_pb2.Policy()
        new.CopyFrom(policy)
        self._call(
            "run.services.setIamPolicy",
            lambda: self.services.set_iam_policy(
                request=iam_policy_pb2.SetIamPolicyRequest(resource=name, policy=new)
            ),
        )
        return True

    def is_public(self, name: str) -> bool:
        from google.iam.v1 import iam_policy_pb2

        policy = self._call(
            "run.services.getIamPolicy",
            lambda: self.services.get_iam_policy(request=iam_policy_pb2.GetIamPolicyRequest(resource=name)),
        )
        return any(b.role == INVOKER_ROLE and ALL_USERS in b.members for b in policy.bindings)

    # --- Secret Manager: does the secret exist? -------------------------------------------

    def secret_state(self, project: str, secret: str, version: str) -> str | None:
        """The state of ``projects/P/secrets/S/versions/V`` (``ENABLED``...), None when it does not
        exist. Reads metadata only: ``access_secret_version`` (the value) is never called."""
        from google.api_core import exceptions

        if self._secrets is None:
            from google.cloud import secretmanager

            self._secrets = secretmanager.SecretManagerServiceClient(
                credentials=self._credentials, transport="rest", client_options=self._options
            )
        name = f"projects/{project}/secrets/{secret}/versions/{version}"
        try:
            found = self._secrets.get_secret_version(name=name)
        except exceptions.NotFound:
            return None
        except exceptions.GoogleAPICallError as exc:
            raise _error("secretmanager.versions.get", exc) from exc
        return str(found.state.name)
