"""The deploy's non-AWS steps: the store record, the health gate, the image build.

Each step takes the call's resolved params and returns a dict the executor may bind. The store is
written in two places only: ``register_version`` (before anything in the cloud depends on the
number) and ``record_deploy`` (after traffic moved: pointer by compare-and-set, statuses, audit).
A failure is recorded by ``record_failure`` (the version marked failed, the cause audited).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentdock.targets.lambda_aws import AwsClients, cloud_error
from agentdock.targets.lambda_exec import Step
from agentdock.targets.lambda_gate import Preflight, Probe, preflight_gate, url_gate
from agentdock.targets.lambda_iam import partition
from agentdock.targets.lambda_image import build_and_push
from agentdock.targets.lambda_model import LambdaModel

from agentdock import settings as env_names
from agentdock.build.builder import Builder
from agentdock.errors import BuildError, DeployConflict, RecordNotFound, StoreConflict
from agentdock.store.base import AuditRecord, MetadataStore, utcnow

TARGET = "lambda"
POINTER = "live"  # the store's pointer name; the Lambda alias name is in its details


def audit(store: MetadataStore, actor: str, action: str, agent: str, details: dict[str, Any]) -> None:
    store.append_audit(
        AuditRecord(actor=actor, action=action, agent=agent, target=TARGET, details=details, at=utcnow())
    )


@dataclass
class DeploySteps:
    store: MetadataStore
    model: LambdaModel
    aws: AwsClients
    actor: str
    context_dir: str
    spec_snapshot: dict[str, Any]
    probe: Probe | None = None
    preflight_fn: Preflight | None = None
    builder: Builder | None = None
    gate_timeout_s: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    started: float = field(default_factory=time.monotonic)
    registered: bool = False

    def mapping(self) -> dict[str, Step]:
        return {
            "preflight": self.preflight,
            "build_image": self.build_image,
            "register_version": self.register_version,
            "merge_env": self.merge_env,
            "verify_version": self.verify_version,
            "health_gate": self.health_gate,
            "gate_skipped": self.gate_skipped,
            "record_deploy": self.record_deploy,
            "record_failure": self.record_failure,
        }

    @property
    def agent(self) -> str:
        return self.model.agent

    def preflight(self, p: dict[str, Any]) -> dict[str, Any]:
        return preflight_gate(
            p["context_dir"], preflight=self.preflight_fn, timeout_s=min(self.gate_timeout_s, 60)
        )

    def build_image(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.builder is None:
            raise BuildError(
                "--image-uri", "no image builder on this machine", hint="deploy with --image-uri"
            )
        return build_and_push(
            self.aws.ecr,
            builder=self.builder,
            context_dir=p["context_dir"],
            image_uri=p["image"],
            architecture=p["architecture"],
        )

    def register_version(self, p: dict[str, Any]) -> dict[str, Any]:
        n = int(p["version"])
        if p["reuse"]:
            record = self.store.get_version(self.agent, n)
            if record.status in ("failed", "retired"):
                self.store.set_version_status(self.agent, n, "registered")
        else:
            record = self.store.create_version(
                self.agent,
                content_hash=self.model.content_hash,
                target=TARGET,
                spec=self.spec_snapshot,
                created_by=self.actor,
                image=p["image"],
                label=self.model.label,
            )
            if record.number != n:
                self.store.set_version_status(self.agent, record.number, "failed")
                raise DeployConflict(
                    "store", f"version {n} was taken by another deploy meanwhile", hint="re-run the deploy"
                )
        self.registered = True
        return {"version": n}

    def merge_env(self, p: dict[str, Any]) -> dict[str, Any]:
        """AgentDock's variables plus the ``env`` secrets as they are on the function now."""
        try:
            config = self.aws.lambda_.get_function_configuration(FunctionName=p["function"])
        except Exception as exc:
            raise cloud_error("lambda", "GetFunctionConfiguration", exc) from exc
        current = (config.get("Environment") or {}).get("Variables") or {}
        return {"variables": {**p["managed"], **{k: current[k] for k in p["keep"] if k in current}}}

    def verify_version(self, p: dict[str, Any]) -> dict[str, Any]:
        env = p.get("environment") or {}
        want = (str(p["version"]), self.model.content_hash)
        got = (env.get(env_names.ENV_AGENT_VERSION), env.get(env_names.ENV_CONTENT_HASH))
        if got != want:
            raise DeployConflict(
                "lambda.publish_version",
                f"Lambda version {p['lambda_version']} carries AgentDock version {got[0]} / {got[1]}, not {want[0]}",
                hint="someone changed the function during this deploy; re-run it",
            )
        return {}

    def health_gate(self, p: dict[str, Any]) -> dict[str, Any]:
        return url_gate(
            p["url"],
            int(p["version"]),
            region=self.model.region,
            credentials=self.aws.credentials(),
            probe=self.probe,
            timeout_s=self.gate_timeout_s,
            sleep=self.sleep,
        )

    def gate_skipped(self, p: dict[str, Any]) -> dict[str, Any]:
        audit(
            self.store,
            self.actor,
            "health_gate_skipped",
            self.agent,
            {"version": p["version"], "asked": "none"},
        )
        return {}

    def record_deploy(self, p: dict[str, Any]) -> dict[str, Any]:
        n, lv, canary = int(p["version"]), str(p["lambda_version"]), float(p["canary_weight"])
        current = self.store.get_pointer(self.agent, TARGET, POINTER)
        details = dict(current.details) if current else {}
        mapping = dict(details.get("lambda_versions") or {})
        mapping[str(n)] = lv
        m = self.model
        details.update(
            function_name=m.function_name,
            function_arn=f"arn:{partition(m.region)}:lambda:{m.region}:{self.aws.account_id()}:function:{m.function_name}",
            region=m.region,
            alias=m.alias,
            invoke_mode=m.invoke_mode.value,
            auth_type=m.url_auth,
            role_arn=p["role_arn"],
            role_created=p["role_created"],
            role_name=m.role_name if p["role_created"] else None,
            lambda_versions=mapping,
            health_gate=p["gate"],
        )
        live = current.live_version if current else None
        abandoned = current.canary_version if current and current.canary_version not in (None, n) else None
        if canary:
            details["canary_lambda_version"] = lv
            previous = current.previous_version if current else None
            fields: dict[str, Any] = {"live_version": live, "previous_version": previous, "canary_version": n}
            fields.update(canary_weight=canary, status="canary")
        else:
            details.update(lambda_version=lv, canary_lambda_version=None)
            previous = live if live != n else (current.previous_version if current else None)
            fields = {"live_version": n, "previous_version": previous, "canary_version": None}
            fields.update(canary_weight=0.0, status="live")
        try:
            pointer = self.store.move_pointer(
                self.agent,
                TARGET,
                POINTER,
                expected_revision=p["expected_revision"],
                url=p["url"],
                details=details,
                **fields,
            )
        except StoreConflict as exc:
            raise DeployConflict(
                "store pointer",
                "another deploy or rollback moved this agent's pointer meanwhile",
                hint="re-run",
            ) from exc
        if not canary:
            self.store.set_version_status(self.agent, n, "live")
            if live is not None and live != n:
                self.store.set_version_status(self.agent, live, "retired")
        if abandoned is not None:
            self.store.set_version_status(self.agent, abandoned, "retired")
        audit(
            self.store,
            self.actor,
            "deploy",
            self.agent,
            {
                "version": n,
                "lambda_version": lv,
                "previous_version": previous if not canary else live,
                "canary_weight": canary,
                "health_gate": p["gate"],
                "content_hash": m.content_hash,
                "image": p["image"],
                "url": p["url"],
                "invoke_mode": m.invoke_mode.value,
                "duration_ms": int((time.monotonic() - self.started) * 1000),
            },
        )
        return {"pointer_revision": pointer.revision, "previous_version": fields["previous_version"]}

    def record_failure(self, p: dict[str, Any]) -> dict[str, Any]:
        n = int(p["version"])
        if p["mark_failed"] and self.registered:
            with contextlib.suppress(RecordNotFound):
                self.store.set_version_status(self.agent, n, "failed")
        details = {k: p.get(k) for k in ("version", "gate", "failed_call", "error", "undone")}
        audit(self.store, self.actor, "deploy_failed", self.agent, details)
        return {}
