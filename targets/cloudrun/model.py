"""What should exist on Cloud Run for one agent, and the Admin API v2 ``Service`` body that says it.

Pure (chalice's "model" stage): ``render_service`` turns a ``CloudRunModel`` (built by
``resolve.resolve_model``) plus a version into the JSON form of ``google.cloud.run.v2.Service``
(camelCase, as the REST API and ``Service.from_json`` take it); ``traffic`` pins named revisions
with tags. No I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agentdock import __version__
from agentdock import settings as env_names
from agentdock.build.flavours import HEALTH_PATH
from agentdock.spec.models import CloudRunDeploy

INGRESS = {
    "all": "INGRESS_TRAFFIC_ALL",
    "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY",
    "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
}
EXECUTION_ENVIRONMENT = {"gen1": "EXECUTION_ENVIRONMENT_GEN1", "gen2": "EXECUTION_ENVIRONMENT_GEN2"}
REVISION_TYPE = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"
LIVE_TAG = "live"
CANDIDATE_TAG = "candidate"
ANNOTATION_PREFIX = "agentdock.dev/"
MANAGED_LABEL = ("managed-by", "agentdock")
_REVISION_RE = re.compile(r"^(?P<service>.+)-v(?P<version>[1-9][0-9]*)$")


@dataclass(frozen=True)
class SecretRef:
    """``${var}`` reaches the container as env ``var`` from Secret Manager ``secret`` at ``version``."""

    var: str
    secret: str
    version: str = "latest"
    path: str = ""  # the Dockfile field that asked for it (for the refusal message)


@dataclass(frozen=True)
class CloudRunModel:
    """The desired state of one agent on Cloud Run. Plain data: printable in a plan."""

    agent: str
    service: str
    project: str
    region: str
    image: str
    content_hash: str
    port: int
    block: CloudRunDeploy
    secrets: tuple[SecretRef, ...] = ()
    store_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # deploy.env: plain, non-secret values
    label: str | None = None

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    @property
    def name(self) -> str:
        return f"{self.parent}/services/{self.service}"

    @property
    def public(self) -> bool:
        return self.block.allow_unauthenticated

    def revision(self, version: int) -> str:
        return revision_name(self.service, version)

    def environment(self, version: int | None) -> dict[str, str]:
        """Plain (non-secret) variables: ``deploy.env`` and AgentDock's own settings, never a
        secret value."""
        env = {**self.env, env_names.ENV_CONTENT_HASH: self.content_hash}
        if version is not None:
            env[env_names.ENV_AGENT_VERSION] = str(version)
        if self.store_url:
            env[env_names.ENV_STORE] = self.store_url
        return env


def revision_name(service: str, version: int) -> str:
    return f"{service}-v{version}"


def version_of(revision: str | None) -> int | None:
    """The AgentDock version a revision name ``<service>-v<n>`` carries."""
    match = _REVISION_RE.match(revision or "")
    return int(match["version"]) if match else None


# --- rendering --------------------------------------------------------------------------------


def _probe(period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": HEALTH_PATH},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def container(model: CloudRunModel, version: int | None) -> dict[str, Any]:
    """The single serving container: image, port, env (values and Secret Manager refs), probes."""
    env: list[dict[str, Any]] = [
        {"name": k, "value": v} for k, v in sorted(model.environment(version).items())
    ]
    env += [
        {"name": s.var, "valueSource": {"secretKeyRef": {"secret": s.secret, "version": s.version}}}
        for s in model.secrets
    ]
    limits = {k: v for k, v in {"cpu": model.block.cpu, "memory": model.block.memory}.items() if v}
    resources: dict[str, Any] = {"cpuIdle": model.block.cpu_idle, "startupCpuBoost": model.block.cpu_boost}
    if limits:
        resources["limits"] = limits
    return {
        "name": "agent",
        "image": model.image,
        "ports": [{"name": "http1", "containerPort": model.port}],
        "env": env,
        "resources": resources,
        # A cheap /health with a generous start window: LangGraph imports can be slow.
        "startupProbe": _probe(period=5, failures=24),
        "livenessProbe": _probe(period=30, failures=3),
    }


def agentdock_annotations(model: CloudRunModel, version: int | None = None) -> dict[str, str]:
    """AgentDock's own keys (the API v2 refuses run.googleapis.com/* and knative keys here)."""
    found = {
        f"{ANNOTATION_PREFIX}agentdock-version": __version__,
        f"{ANNOTATION_PREFIX}agent": model.agent,
        f"{ANNOTATION_PREFIX}content-hash": model.content_hash,
    }
    if version is not None:
        found[f"{ANNOTATION_PREFIX}version"] = str(version)
    if model.label:
        found[f"{ANNOTATION_PREFIX}label"] = model.label
    return found


def template(model: CloudRunModel, version: int) -> dict[str, Any]:
    """The revision template: one immutable revision ``<service>-v<n>`` per AgentDock version."""
    block = model.block
    scaling: dict[str, int] = {"minInstanceCount": block.min_instances}
    if block.max_instances is not None:
        scaling["maxInstanceCount"] = block.max_instances
    body: dict[str, Any] = {
        "revision": model.revision(version),
        "labels": {MANAGED_LABEL[0]: MANAGED_LABEL[1], "agentdock-version": f"v{version}"},
        "annotations": agentdock_annotations(model, version),
        "scaling": scaling,
        "timeout": f"{block.timeout_s}s",
        "executionEnvironment": EXECUTION_ENVIRONMENT[block.execution_environment],
        "containers": [container(model, version)],
    }
    if block.concurrency is not None:
        body["maxInstanceRequestConcurrency"] = block.concurrency
    if block.service_account:
        body["serviceAccount"] = block.service_account
    if block.session_affinity:
        body["sessionAffinity"] = True
    return body


@dataclass(frozen=True)
class Split:
    """Who gets traffic: ``live`` (all, or 100 - canary percent) and optionally a canary; ``tagged``
    are further versions kept reachable at their ``v<n>`` URL with no traffic."""

    live: int | None
    canary: int | None = None
    canary_percent: int = 0
    tagged: tuple[int, ...] = ()


def traffic(service: str, split: Split) -> list[dict[str, Any]]:
    """Traffic pinned to named revisions (never "latest"), tags ``live``, ``candidate``, ``v<n>``."""
    entries: list[dict[str, Any]] = []
    revision_type = REVISION_TYPE
    if split.live is not None:
        percent = 100 - (split.canary_percent if split.canary is not None else 0)
        entries.append(
            {
                "type": revision_type,
                "revision": revision_name(service, split.live),
                "percent": percent,
                "tag": LIVE_TAG,
            }
        )
    if split.canary is not None:
        entries.append(
            {
                "type": revision_type,
                "revision": revision_name(service, split.canary),
                "percent": split.canary_percent if split.live is not None else 100,
                "tag": CANDIDATE_TAG,
            }
        )
    versions = [v for v in (split.live, split.canary, *split.tagged) if v is not None]
    for version in sorted(set(versions)):
        entries.append(
            {"type": revision_type, "revision": revision_name(service, version), "tag": f"v{version}"}
        )
    return entries


def render_service(model: CloudRunModel, version: int, split: Split) -> dict[str, Any]:
    """The whole ``Service`` body (JSON form of ``run_v2.Service``) that deploys ``version``."""
    body: dict[str, Any] = {
        "labels": {MANAGED_LABEL[0]: MANAGED_LABEL[1], "agentdock-agent": model.service},
        "annotations": agentdock_annotations(model),
        "ingress": INGRESS[model.block.ingress],
        "template": template(model, version),
        "traffic": traffic(model.service, split),
    }
    return body
