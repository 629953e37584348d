"""Render the ``serving.knative.dev/v1`` Service of one agent version: a pure function of the model.

No I/O, no clock: the same model, version and traffic always give the same dict (golden tests compare
it whole, and every manifest the test API server receives is validated against the CRD schema).

Traffic is pinned to named revisions only (``latestRevision: false``): a new revision never takes
traffic by itself. Tags: ``live`` (the current version, the service URL's target), ``candidate``
(a canary's new version) and ``v<n>`` per version, so every version keeps its own URL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdock.targets.knative.model import KnativeModel, resolve_model, revision_name

from agentdock import settings as env_names
from agentdock.build.flavours import CONTAINER_PORT, HEALTH_PATH, NON_ROOT_UID
from agentdock.spec.models import DockSpec

if TYPE_CHECKING:
    from agentdock.spec import Loaded

API_VERSION = "serving.knative.dev/v1"
KIND = "Service"
GROUP, VERSION, PLURAL = "serving.knative.dev", "v1", "services"
LIVE, CANDIDATE = "live", "candidate"
CONTAINER_NAME = "agent"
MANAGED_BY = "agentdock"
MANAGED_LABEL = "app.kubernetes.io/managed-by"
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
            out.append(
                _entry(service, self.candidate, self.percent if self.live is not None else 100, CANDIDATE)
            )
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
    """Plain values (``deploy.env``, AgentDock's own settings); every secret as a ``secretKeyRef``,
    never a value."""
    plain = {
        **model.env,
        env_names.ENV_AGENT_VERSION: str(version),
        env_names.ENV_CONTENT_HASH: model.content_hash,
    }
    if model.store_url:
        plain[env_names.ENV_STORE] = model.store_url
    if model.secret_refs:
        plain[env_names.ENV_SECRET_REFS] = json.dumps(
            dict(model.secret_refs), sort_keys=True, separators=(",", ":")
        )
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


def _probe(*, period_s: int, failures: int, timeout_s: int) -> dict[str, Any]:
    """An HTTP probe on /health (the container port is implied: Knative allows no other)."""
    return {
        "httpGet": {"path": HEALTH_PATH},
        "periodSeconds": period_s,
        "failureThreshold": failures,
        "timeoutSeconds": timeout_s,
    }


def _container(model: KnativeModel, version: int) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": model.image,
        "ports": [{"name": "http1", "containerPort": CONTAINER_PORT}],
        "env": _env(model, version),
        "readinessProbe": _probe(period_s=5, failures=3, timeout_s=2),
        "livenessProbe": _probe(period_s=15, failures=4, timeout_s=5),
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
        MANAGED_LABEL: MANAGED_BY,
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


SERVICE_FILE = "service.yaml"


def build_service_yaml(
    spec: DockSpec,
    raw: dict[str, Any],
    *,
    content_hash: str,
    image: str | None,
    agentdock_version: str,
    store_url: str | None = None,
) -> tuple[str, list[str]]:
    """``service.yaml`` for a build context (for ``kubectl apply`` users): the manifest a first deploy
    converges to (``<service>-v1``, tags ``live`` and ``v1``). The image is ``image``, else the
    ``deploy.knative.registry`` default, else ``agentdock/<service>:<hash12>`` (retag before applying).
    ``store_url`` is the deploy's store, read when the Dockfile names none (as a deploy does)."""
    from agentdock.spec.plainenv import function_references

    block = spec.deploy.knative if spec.deploy else None
    if not image and not (block and block.registry):
        image = f"agentdock/{spec.dns_name}:{content_hash.split(':', 1)[-1][:12]}"
    refs = [(r.var, r.default) for r in function_references(raw)]
    model, warnings = resolve_model(
        spec, content_hash=content_hash, image=image, references=refs, store_url=store_url
    )
    doc = render_service(model, 1, Traffic(live=1), agentdock_version=agentdock_version)
    import yaml

    return yaml.safe_dump(doc, sort_keys=False), warnings


def write_service_yaml(
    folder: Path, loaded: Loaded, content_hash: str, image: str | None, store_url: str | None = None
) -> Path:
    """Write ``service.yaml`` into a written build context (``agentdock build --target knative``)."""
    import agentdock

    text, _warnings = build_service_yaml(
        loaded.spec,
        loaded.raw,
        content_hash=content_hash,
        image=image,
        agentdock_version=agentdock.__version__,
        store_url=store_url,
    )
    path = folder / SERVICE_FILE
    path.write_text(text, encoding="utf-8")
    return path
