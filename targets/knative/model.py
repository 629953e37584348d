"""What should exist on Knative for one agent: the model stage of the Knative deploy.

``resolve_model`` is a pure function of the Dockfile (its ``deploy.knative`` block), the frozen spec's
``${VAR}`` references and the deploy settings: no cluster call, no clock. Settings resolve in one
explicit order (STYLE habit 8): CLI flag / target setting, then ``deploy.knative``, then the default.

Secrets: every ``${VAR}`` the frozen spec references reaches the pod as an env var filled from a
Kubernetes Secret (``secretKeyRef``), never as a value:

    k8s://secret/key      -> secretKeyRef {name: secret, key: key}
    env (or not listed)   -> secretKeyRef {name: <service>-env, key: VAR}   (the pod's environment
                             comes from one Secret the operator creates; ``${VAR:-default}`` is optional)
    aws-sm:// , ssm://    -> no env var: the runtime reads them itself (the pod needs AWS credentials)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentdock.build.function_store import StoreReader, function_store_url
from agentdock.errors import DeployError
from agentdock.spec.models import DockSpec, KnativeDeploy
from agentdock.spec.plainenv import plain_env

DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
IMAGE_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
ENV_SECRET_SUFFIX = "-env"


@dataclass(frozen=True)
class SecretEnv:
    """One env var filled from a Kubernetes Secret key (``optional`` when the reference has a default)."""

    var: str
    secret: str
    key: str
    optional: bool = False


@dataclass(frozen=True)
class KnativeModel:
    """The desired state of one agent on Knative. Every field is plain data (printable in a plan)."""

    agent: str
    service: str
    namespace: str
    image: str
    content_hash: str
    container_concurrency: int | None
    timeout_s: int
    cpu: str | None
    memory: str | None
    min_scale: int
    max_scale: int | None
    autoscaling_class: str
    metric: str
    target: int | None
    service_account: str | None
    store_url: str | None = None
    secret_env: tuple[SecretEnv, ...] = ()
    secret_refs: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)  # deploy.env: plain, non-secret values
    label: str | None = None

    def revision(self, version: int) -> str:
        return revision_name(self.service, version)

    def required_secrets(self) -> dict[str, list[str]]:
        """Secret name -> keys that must exist before a deploy (optional references excluded)."""
        need: dict[str, list[str]] = {}
        for ref in self.secret_env:
            if not ref.optional:
                need.setdefault(ref.secret, []).append(ref.key)
        return {name: sorted(set(keys)) for name, keys in sorted(need.items())}


def revision_name(service: str, version: int) -> str:
    """``<service>-v<n>``: one immutable revision per AgentDock version."""
    return f"{service}-v{version}"


def pinned_image(image: str, digest: str | None = None) -> str:
    """The image by digest when the digest is known (``repo@sha256:...``), else as given."""
    if digest is None or "@" in image:
        return image
    if not IMAGE_DIGEST.match(digest):
        raise DeployError("--image", f"{digest!r} is not an image digest", hint="expected sha256:<64 hex>")
    last = image.rsplit("/", 1)
    repo = image.rsplit(":", 1)[0] if ":" in last[-1] else image
    return f"{repo}@{digest}"


def secret_env(
    spec: DockSpec, references: Iterable[tuple[str, str | None]], service: str
) -> tuple[tuple[SecretEnv, ...], list[str]]:
    """The env-from-Secret entries for the frozen spec's references ``(VAR, default)``; warnings."""
    sources = dict(spec.deploy.secrets) if spec.deploy else {}
    found: dict[str, SecretEnv] = {}
    warnings: list[str] = []
    for var, default in references:
        ref = sources.get(var, "env")
        if ref.startswith(("aws-sm://", "ssm://")):
            warnings.append(f"{var} resolves from {ref.split('://')[0]}: the pod needs AWS credentials")
            continue
        if ref.startswith("k8s://"):
            name, _, key = ref[len("k8s://") :].partition("/")
        else:
            name, key = service + ENV_SECRET_SUFFIX, var
        optional = default is not None and found.get(var, SecretEnv(var, name, key, True)).optional
        found[var] = SecretEnv(var, name, key, optional)
    return tuple(found[v] for v in sorted(found)), warnings


KNATIVE_STORE = StoreReader(
    noun="service",
    lands_in="the manifest",
    example="postgresql://... or dynamodb://...",
    password_hint="use a passwordless URL (e.g. postgresql://user@host/db with PGPASSWORD from a Secret)",
)


def resolve_model(
    spec: DockSpec,
    *,
    content_hash: str,
    image: str | None,
    references: Iterable[tuple[str, str | None]] = (),
    store_url: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[KnativeModel, list[str]]:
    """Build the model; returns it with warnings the plan shows. ``overrides`` are CLI settings
    (``namespace``, ``image_digest``) that win over the Dockfile."""
    overrides = overrides or {}
    block = (spec.deploy.knative if spec.deploy else None) or KnativeDeploy()
    service = spec.dns_name
    if not DNS_1035.match(service) or len(revision_name(service, 9999)) > 63:
        raise DeployError(
            "agent.name",
            f"{service!r} cannot name a Knative Service (DNS-1035 label; '<name>-v<n>' must fit 63 chars)",
            hint="use a shorter agent.name that starts with a letter",
        )
    namespace = overrides.get("namespace") or block.namespace
    if not image:
        if not block.registry:
            raise DeployError(
                "--image",
                "no image to deploy: Knative runs a container image from a registry",
                hint="pass --image REGISTRY/REPO:TAG (built with `agentdock build --target knative --image ...`)"
                " or set deploy.knative.registry",
            )
        image = f"{block.registry.rstrip('/')}/{service}:{content_hash.split(':', 1)[-1][:12]}"
    env, warnings = secret_env(spec, references, service)
    store, store_warning = function_store_url(
        spec.deploy.store if spec.deploy else None, store_url, where=KNATIVE_STORE
    )
    if store_warning:
        warnings.append(store_warning)
    model = KnativeModel(
        agent=spec.agent.name,
        service=service,
        namespace=namespace,
        image=pinned_image(image, overrides.get("image_digest")),
        content_hash=content_hash,
        container_concurrency=block.container_concurrency,
        timeout_s=block.timeout_s,
        cpu=block.cpu,
        memory=block.memory,
        min_scale=block.min_scale,
        max_scale=block.max_scale,
        autoscaling_class=block.autoscaling_class,
        metric=block.metric,
        target=block.target,
        service_account=block.service_account,
        store_url=store,
        secret_env=env,
        secret_refs=dict(spec.deploy.secrets) if spec.deploy else {},
        env=plain_env(spec),
        label=spec.metadata.version,
    )
    return model, warnings
