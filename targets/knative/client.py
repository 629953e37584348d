"""The cluster side of the Knative target, through the official ``kubernetes`` client.

``KnativeClient`` is the only module that talks to a cluster: Services through ``CustomObjectsApi``
(create / replace with ``resourceVersion``, merge-patch of ``spec.traffic``, server-side dry-run,
delete), Revisions (watch until Ready or failed, list, delete) and Secrets through ``CoreV1Api``
(existence of each name and key only: values are neither kept nor printed). Connection: a kubeconfig (``--context``, the file from
``$KUBECONFIG`` or ``~/.kube/config``) or, inside a pod, the in-cluster service account.

Every API error becomes ``ClusterCallFailed`` naming the verb, the object and the server's message.
A write that loses a ``resourceVersion`` race (409) re-reads and retries, at most ``CONFLICT_RETRIES``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from agentdock.targets.knative.connect import api_message, as_obj, hint_for

from agentdock.errors import ClusterCallFailed, DeployConflict, RevisionFailed

GROUP, VERSION = "serving.knative.dev", "v1"
SERVICES, REVISIONS = "services", "revisions"
CONFLICT_RETRIES = 5
STRICT = "Strict"  # fieldValidation: an unknown field is an error, never silently pruned
REQUEST_TIMEOUT_S = 30.0
FAILURE_CONDITIONS = ("Ready", "ContainerHealthy", "ResourcesAvailable")


class KnativeClient:
    """Knative Serving calls for one namespace."""

    def __init__(self, api_client: Any, namespace: str) -> None:
        from kubernetes import client

        self.api_client = api_client
        self.namespace = namespace
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)

    @property
    def server(self) -> str:
        return str(self.api_client.configuration.host)

    @contextmanager
    def _call(self, what: str) -> Iterator[None]:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            yield
        except ApiException as exc:
            raise ClusterCallFailed(what, api_message(exc), hint=hint_for(exc.status)) from exc
        except HTTPError as exc:
            raise ClusterCallFailed(
                what,
                f"cannot reach the API server at {self.server} ({type(exc).__name__})",
                hint="check the kubeconfig context and that the cluster is up",
            ) from exc

    def _status_of(self, exc: BaseException) -> int | None:
        cause = exc.__cause__
        return getattr(cause, "status", None)

    # --- Services ------------------------------------------------------------------------------
    def _or_missing(self, what: str, call: Callable[[], object]) -> tuple[bool, object]:
        """(True, the answer), or (False, None) when the object does not exist (404)."""
        try:
            with self._call(what):
                return True, call()
        except ClusterCallFailed as exc:
            if self._status_of(exc) == 404:
                return False, None
            raise

    def get_service(self, name: str) -> dict[str, Any] | None:
        found, obj = self._or_missing(
            f"get service {self.namespace}/{name}",
            lambda: self.custom.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, SERVICES, name, _request_timeout=REQUEST_TIMEOUT_S
            ),
        )
        return as_obj(obj) if found else None

    def apply(self, manifest: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Create the Service, or replace it carrying the live ``resourceVersion``; a 409 re-reads
        and retries (bounded). ``dry_run`` asks the server (``dryRun=All``) and changes nothing."""
        name = manifest["metadata"]["name"]
        dry = "All" if dry_run else None

        def write(live: dict[str, Any] | None) -> tuple[str, Callable[[], object]]:
            if live is None:
                return "create", lambda: self.custom.create_namespaced_custom_object(
                    GROUP, VERSION, self.namespace, SERVICES, manifest,
                    _request_timeout=REQUEST_TIMEOUT_S, dry_run=dry, field_validation=STRICT,
                )  # fmt: skip
            meta = {**manifest["metadata"], "resourceVersion": live["metadata"]["resourceVersion"]}
            return "replace", lambda: self.custom.replace_namespaced_custom_object(
                GROUP, VERSION, self.namespace, SERVICES, name, {**manifest, "metadata": meta},
                _request_timeout=REQUEST_TIMEOUT_S, dry_run=dry, field_validation=STRICT,
            )  # fmt: skip

        return self._retrying(name, write, "the Service kept changing under us")

    def patch_traffic(self, name: str, traffic: list[dict[str, Any]]) -> dict[str, Any]:
        """Merge-patch ``spec.traffic`` (the list is replaced whole) with the live ``resourceVersion``
        as a precondition; a 409 re-reads and retries (bounded)."""

        def write(live: dict[str, Any] | None) -> tuple[str, Callable[[], object]]:
            if live is None:
                raise ClusterCallFailed(
                    f"patch service {self.namespace}/{name}", "the Service does not exist"
                )
            patch = {
                "metadata": {"resourceVersion": live["metadata"]["resourceVersion"]},
                "spec": {"traffic": traffic},
            }
            return "patch traffic of", lambda: self.custom.patch_namespaced_custom_object(
                GROUP, VERSION, self.namespace, SERVICES, name, patch, _request_timeout=REQUEST_TIMEOUT_S,
                _content_type="application/merge-patch+json", field_validation=STRICT,
            )  # fmt: skip

        return self._retrying(name, write, "traffic could not be set")

    def _retrying(
        self,
        name: str,
        write: Callable[[dict[str, Any] | None], tuple[str, Callable[[], object]]],
        what: str,
    ) -> dict[str, Any]:
        """Read the live Service, make the write ``write(live)`` chooses; on 409 read again (bounded)."""
        for _attempt in range(CONFLICT_RETRIES):
            verb, call = write(self.get_service(name))
            try:
                with self._call(f"{verb} service {self.namespace}/{name}"):
                    return as_obj(call())
            except ClusterCallFailed as exc:
                if self._status_of(exc) != 409:
                    raise
        raise DeployConflict(
            f"service {self.namespace}/{name}",
            f"{what} ({CONFLICT_RETRIES} resourceVersion conflicts)",
            hint="another controller or deploy is writing it; retry when it settles",
        )

    def delete_service(self, name: str) -> bool:
        """Delete the Service (its revisions go with it); False when it was not there."""
        found, _ = self._or_missing(
            f"delete service {self.namespace}/{name}",
            lambda: self.custom.delete_namespaced_custom_object(
                GROUP, VERSION, self.namespace, SERVICES, name, _request_timeout=REQUEST_TIMEOUT_S
            ),
        )
        return found

    def wait_service(
        self, name: str, done: Callable[[dict[str, Any]], bool], *, timeout_s: float
    ) -> dict[str, Any]:
        """Watch the Service until ``done(service)``; returns it (raises RevisionFailed on timeout)."""
        found = self._watch(SERVICES, name, done, timeout_s)
        if found is None:
            raise RevisionFailed(
                f"service {self.namespace}/{name}",
                f"the route did not settle within {timeout_s:.0f}s",
                hint="kubectl get ksvc -o yaml shows its conditions",
            )
        return found

    # --- Revisions -----------------------------------------------------------------------------
    def wait_revision(self, revision: str, *, timeout_s: float) -> dict[str, Any]:
        """Watch ``revision`` until Ready is True; a False failure condition raises RevisionFailed with
        its reason and message, and so does the timeout (with the last conditions seen)."""
        seen: dict[str, Any] = {}

        def settled(obj: dict[str, Any]) -> bool:
            seen.clear()
            seen.update(obj)
            conditions = {c.get("type"): c for c in obj.get("status", {}).get("conditions", [])}
            for kind in FAILURE_CONDITIONS:
                cond = conditions.get(kind) or {}
                if cond.get("status") == "False":
                    raise RevisionFailed(
                        f"revision {self.namespace}/{revision}",
                        f"{kind} is False: {cond.get('reason', '?')}: {cond.get('message', '')}".rstrip(": "),
                        hint=f"kubectl describe revision {revision} -n {self.namespace}",
                    )
            return (conditions.get("Ready") or {}).get("status") == "True"

        found = self._watch(REVISIONS, revision, settled, timeout_s)
        if found is None:
            last = [
                f"{c.get('type')}={c.get('status')} {c.get('reason', '')}".strip()
                for c in seen.get("status", {}).get("conditions", [])
            ]
            raise RevisionFailed(
                f"revision {self.namespace}/{revision}",
                f"not Ready within {timeout_s:.0f}s (last: {', '.join(last) or 'not created'})",
                hint=f"kubectl describe revision {revision} -n {self.namespace}; raise --wait-timeout if it is slow",
            )
        return found

    def list_revisions(self, service: str) -> list[dict[str, Any]]:
        with self._call(f"list revisions of {self.namespace}/{service}"):
            listed = as_obj(
                self.custom.list_namespaced_custom_object(
                    GROUP,
                    VERSION,
                    self.namespace,
                    REVISIONS,
                    label_selector=f"serving.knative.dev/service={service}",
                    _request_timeout=REQUEST_TIMEOUT_S,
                )
            )
        return list(listed.get("items", []))

    def delete_revision(self, name: str) -> None:
        with self._call(f"delete revision {self.namespace}/{name}"):
            self.custom.delete_namespaced_custom_object(
                GROUP, VERSION, self.namespace, REVISIONS, name, _request_timeout=REQUEST_TIMEOUT_S
            )

    def _watch(
        self, plural: str, name: str, done: Callable[[dict[str, Any]], bool], timeout_s: float
    ) -> dict[str, Any] | None:
        from kubernetes import watch

        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            stream = watch.Watch()
            with self._call(f"watch {plural} {self.namespace}/{name}"):
                for event in stream.stream(
                    self.custom.list_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    self.namespace,
                    plural,
                    field_selector=f"metadata.name={name}",
                    timeout_seconds=max(1, int(left + 0.999)),
                    _request_timeout=left + 5,
                ):
                    obj = event.get("raw_object") or event.get("object")
                    if event.get("type") in ("ADDED", "MODIFIED") and isinstance(obj, dict) and done(obj):
                        stream.stop()
                        return obj
        return None

    # --- Secrets -------------------------------------------------------------------------------
    def missing_secrets(self, required: dict[str, list[str]]) -> list[str]:
        """``secret`` or ``secret/key`` for each required Secret or key the namespace lacks."""
        missing: list[str] = []
        for secret, keys in sorted(required.items()):
            found, obj = self._or_missing(
                f"read secret {self.namespace}/{secret}",
                lambda name=secret: self.core.read_namespaced_secret(  # type: ignore[misc]
                    name, self.namespace, _request_timeout=REQUEST_TIMEOUT_S
                ),
            )
            if not found:
                missing.append(secret)
                continue
            present = set(getattr(obj, "data", None) or {}) | set(getattr(obj, "string_data", None) or {})
            missing += [f"{secret}/{key}" for key in keys if key not in present]
        return missing
