"""The deploy's non-AWS steps: the store record, the health gate, the image build.

Each step takes the call's resolved params and returns a dict the executor may bind. The store is
written in two places only: ``register_version`` (before anything in the cloud depends on the
number) and ``record_deploy`` (after traffic moved: pointer by compare-and-set, statuses, audit).
A failure is recorded by ``record_failure`` (the version marked failed, the cause audited).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentdock.targets.lambda_.aws import AwsApi, cloud_error
from agentdock.targets.lambda_.execute import Step
from agentdock.targets.lambda_.gate import Preflight, Probe, preflight_gate, url_gate
from agentdock.targets.lambda_.iam import partition
from agentdock.targets.lambda_.image import build_and_push
from agentdock.targets.lambda_.model import LambdaModel
from agentdock.targets.release import Release

from agentdock import settings as env_names
from agentdock.build.builder import Builder
from agentdock.errors import BuildError, DeployConflict
from agentdock.store.base import MetadataStore

TARGET = "lambda"
POINTER = "live"  # the store's pointer name; the Lambda alias name is in its details


@dataclass
class DeploySteps:
    store: MetadataStore
    model: LambdaModel
    aws: AwsApi
    actor: str
    context_dir: str
    spec_snapshot: dict[str, Any]
    probe: Probe | None = None
    preflight_fn: Preflight | None = None
    env_values: dict[str, str] = field(default_factory=dict)  # --env / .env values (secrets: never stored)
    builder: Builder | None = None
    gate_timeout_s: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    started: float = field(default_factory=time.monotonic)
    registered: bool = False

    def mapping(self) -> dict[str, Step]:
        return {
            "preflight": self.preflight,
            "push_secrets": self.push_secrets,
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
        env, secret_names = self.function_env(int(p.get("version") or 0))
        return preflight_gate(
            p["context_dir"],
            preflight=self.preflight_fn,
            timeout_s=min(self.gate_timeout_s, 90),
            env=env,
            secret_names=secret_names,
        )

    def push_secrets(self, p: dict[str, Any]) -> dict[str, Any]:
        from agentdock.targets.lambda_.sources import push_secrets

        return {"pushed": push_secrets(self.aws, self.model.secrets, list(p["names"]), self.env_values)}

    def function_env(self, version: int) -> tuple[dict[str, str], set[str]]:
        """What the function will have: its configuration's environment, the values of secrets
        declared ``env`` (from --env / .env), and what its execution role and region give it."""
        from agentdock.preflight.targetenv import aws_credentials

        env = self.model.environment(version)
        secret_names = set(self.model.secrets)
        env |= {k: v for k, v in self.env_values.items() if k in self.model.env_secrets}
        env |= aws_credentials()
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = self.model.region
        endpoint = getattr(self.aws, "endpoint_url", None) or os.environ.get(env_names.ENV_AWS_ENDPOINT_URL)
        if endpoint:  # an emulator stands in for AWS: the function must reach it too
            env[env_names.ENV_AWS_ENDPOINT_URL] = endpoint
        return env, secret_names | {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}

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

    @property
    def release(self) -> Release:
        return Release(self.store, TARGET, self.actor, POINTER)

    def register_version(self, p: dict[str, Any]) -> dict[str, Any]:
        n = int(p["version"])
        self.release.register(
            self.agent,
            content_hash=self.model.content_hash,
            spec=self.spec_snapshot,
            image=p["image"],
            label=self.model.label,
            number=n,
            reuse=bool(p["reuse"]),
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
        self.release.audit(
            "health_gate_skipped",
            self.agent,
            {"version": p["version"], "asked": "none"},
        )
        return {}

    def record_deploy(self, p: dict[str, Any]) -> dict[str, Any]:
        n, lv, canary = int(p["version"]), str(p["lambda_version"]), float(p["canary_weight"])
        current = self.release.pointer(self.agent)
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
        if canary:
            details["canary_lambda_version"] = lv
        else:
            details.update(lambda_version=lv, canary_lambda_version=None)
        # a lost race raises DeployConflict; the plan's undo phase then moves the alias back
        pointer, move = self.release.move(
            self.agent,
            n,
            expected_revision=p["expected_revision"],
            current=current,
            canary_weight=canary,
            url=p["url"],
            details=details,
        )
        self.release.audit(
            "deploy",
            self.agent,
            {
                "version": n,
                "lambda_version": lv,
                "previous_version": move.previous_version if not canary else move.live_version,
                "canary_weight": canary,
                "health_gate": p["gate"],
                "content_hash": m.content_hash,
                "image": p["image"],
                "url": p["url"],
                "invoke_mode": m.invoke_mode.value,
                "duration_ms": int((time.monotonic() - self.started) * 1000),
            },
        )
        # a canary's "previous" is the version that keeps the rest of the traffic: the live one
        previous = move.previous_version if not canary else move.live_version
        return {"pointer_revision": pointer.revision, "previous_version": previous}

    def record_failure(self, p: dict[str, Any]) -> dict[str, Any]:
        n = int(p["version"])
        if p["mark_failed"] and self.registered:
            self.release.mark_failed(self.agent, n)
        details = {k: p.get(k) for k in ("version", "gate", "failed_call", "error", "undone")}
        self.release.audit("deploy_failed", self.agent, details)
        return {}
