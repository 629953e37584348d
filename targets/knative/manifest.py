"""Render the ``serving.knative.dev/v1`` Service of one agent version: a pure function of the model.

No I/O, no clock: the same model, version and traffic always give the same dict (golden tests compare
it whole, and every manifest the test API server receives is validated against the CRD schema).

Traffic is pinned to named revisions only (``latestRevision: false``): a new revision never takes
traffic by itself. Tags: ``live`` (the current version, the service URL's target), ``candidate``
(a canary's new version) and ``v<n>`` per version, so every version keeps its own URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agentdock import settings as env_names
from agentdock.build.flavours import CONTAINER_PORT, HEALTH_PATH, NON_ROOT_UID
from agentdock.targets.knative.model import KnativeModel, revision_name

API_VERSION = "serving.knative.dev/v1"
KIND = "Service"
GROUP, VERSION, PLURAL = "serving.knative.dev", "v1", "services"
LIVE, CANDIDATE = "live", "candidate"
CONTAINER_NAME = "agent"
MANAGED_BY = "agentdock"
ANN = "agentdock.dev/"  # our annotation / label prefix
AUTOSCALING = "autoscaling.knative.dev/"
AUTOSCALING_CLASSES = {"kpa": "kpa.autoscaling.knative.dev", "hpa": "hpa.autoscaling.knative.dev"}


def version_tag(version: int) -> str:
    return f"v{version}"


@dataclass(frozen=True)
class Traffic:
    """Where traffic goes: ``live`` takes 100 - ``percent``, ``candidate`` takes ``percent``;
    ``tagged`` versions get a ``v<n>`` tag at 0 %. With no live version yet (a first deploy), the
    newest tagged version takes 100 % untagged-live until the gate passes."""

    live: int | None
    tagged: tuple[int, ...] = ()
    candidate: int | None = None
    percent: int = 0

    def entries(self, service: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        tagged = sorted(set(self.tagged) | {v for v in (self.live, self.candidate) if v is not None})
        if self.live is not None:
            share = 100 - (self.percent if self.candidate is not None else 0)
            out.append(_entry(service, self.live, share, LIVE))
        if self.candidate is not None:
            out.append(_entry(service, self.candidate, self.percent if self.live is not None else 100, CANDIDATE))
        first = self.live is None and self.candidate is None and tagged
        for v in tagged:
            out.append(_entry(service, v, 100 if first and v == tagged[-1] else 0, version_tag(v)))
        return out


def _entry(service: str, version: int, percent: int, tag: str) -> dict[str, Any]:
    return {
        "revisionName": revision_name(service, version),
        "percent": percent,
        "tag": tag,
        "latestRevision": False,
    }


def _annotations(model: KnativeModel) -> dict[str, str]:
    ann = {
        AUTOSCALING + "class": AUTOSCALING_CLASSES[model.autoscaling_class],
        AUTOSCALING + "metric": model.metric,
        AUTOSCALING + "min-scale": str(model.min_scale),
    }
    if model.max_scale is not None:
        ann[AUTOSCALING + "max-scale"] = str(model.max_scale)
    if model.target is not None:
        ann[AUTOSCALING + "target"] = str(model.target)
    return ann


def _env(model: KnativeModel, version: int) -> list[dict[str, Any]]:
    """Plain values for AgentDock's own settings; every secret as a ``secretKeyRef``, never a value."""
    import json

    plain = {
        env_names.ENV_AGENT_VERSION: str(version),
        env_names.ENV_CONTENT_HASH: model.content_hash,
    }
    if model.store_url:
        plain[env_names.ENV_STORE] = model.store_url
    if model.secret_refs:
        plain[env_names.ENV_SECRET_REFS] = json.dumps(dict(model.secret_refs), sort_keys=True, separators=(",", ":"))
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(plain.items())]
    for ref in model.secret_env:
        selector: dict[str, Any] = {"name": ref.secret, "key": ref.key}
        if ref.optional:
            selector["optional"] = True
        env.append({"name": ref.var, "valueFrom": {"secretKeyRef": selector}})
    return env


def _resources(model: KnativeModel) -> dict[str, Any]:
    amounts = {k: v for k, v in (("cpu", model.cpu), ("memory", model.memory)) if v}
    return {"requests": dict(amounts), "limits": dict(amounts)} if amounts else {}


def _container(model: KnativeModel, version: int) -> dict[str, Any]:
    probe = {"httpGet": {"path": HEALTH_PATH}}
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": model.image,
        "ports": [{"name": "http1", "containerPort": CONTAINER_PORT}],
        "env": _env(model, version),
        "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 3, "timeoutSeconds": 2},
        "livenessProbe": {**probe, "periodSeconds": 15, "failureThreshold": 4, "timeoutSeconds": 5},
        # Non-root as the image's USER; no privilege escalation, no Linux capabilities. The root
        # filesystem stays writable: an emptyDir /tmp needs a Knative feature flag most clusters lack.
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": NON_ROOT_UID,
            "runAsGroup": NON_ROOT_UID,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    resources = _resources(model)
    if resources:
        container["resources"] = resources
    return container


def labels(model: KnativeModel) -> dict[str, str]:
    """Labels of the Service (and selectors for ``agentdock`` to find its own)."""
    return {
        "app.kubernetes.io/name": model.service,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        ANN + "agent": model.service,
    }


def render_service(
    model: KnativeModel, version: int, traffic: Traffic, *, agentdock_version: str
) -> dict[str, Any]:
    """The whole Service for ``version`` (its revision ``<service>-v<n>``) with ``traffic``."""
    spec: dict[str, Any] = {"timeoutSeconds": model.timeout_s, "containers": [_container(model, version)]}
    if model.container_concurrency is not None:
        spec["containerConcurrency"] = model.container_concurrency
    if model.service_account:
        spec["serviceAccountName"] = model.service_account
    template_annotations = {
        **_annotations(model),
        ANN + "version": str(version),
        ANN + "content-hash": model.content_hash,
        ANN + "agentdock-version": agentdock_version,
    }
    if model.label:
        template_annotations[ANN + "label"] = model.label
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": model.service,
            "namespace": model.namespace,
            "labels": labels(model),
            "annotations": {ANN + "agentdock-version": agentdock_version},
        },
        "spec": {
            "template": {
                "metadata": {
                    "name": revision_name(model.service, version),
                    "labels": {**labels(model), ANN + "version": str(version)},
                    "annotations": dict(sorted(template_annotations.items())),
                },
                "spec": spec,
            },
            "traffic": traffic.entries(model.service),
        },
    }


def with_traffic(service: dict[str, Any], traffic: Traffic, name: str) -> dict[str, Any]:
    """``service`` (a live object or a rendered one) with its traffic block replaced."""
    out = {**service, "spec": {**service.get("spec", {}), "traffic": traffic.entries(name)}}
    return out


def traffic_from(entries: Iterable[dict[str, Any]], service: str) -> Traffic:
    """Read our tags back from a Service's ``spec.traffic`` (entries we did not write are ignored)."""
    prefix = service + "-v"
    live = candidate = None
    percent = 0
    tagged: list[int] = []
    for e in entries:
        name = str(e.get("revisionName") or "")
        if not name.startswith(prefix) or not name[len(prefix) :].isdigit():
            continue
        n = int(name[len(prefix) :])
        if e.get("tag") == LIVE:
            live = n
        elif e.get("tag") == CANDIDATE:
            candidate, percent = n, int(e.get("percent") or 0)
        elif e.get("tag") == version_tag(n):
            tagged.append(n)
    return Traffic(live=live, tagged=tuple(sorted(tagged)), candidate=candidate, percent=percent)
