"""Knative target: one ``serving.knative.dev/v1`` Service per agent, one revision per version,
traffic pinned to named revisions (``live``, ``candidate``, ``v<n>`` tags), on the release core.

Settings (``KnativeTarget(store=..., **settings)``; CLI flags win over the Dockfile): ``context``
and ``kubeconfig`` (else ``$KUBECONFIG`` / ``~/.kube/config``, else in-cluster), ``namespace``,
``api_client`` (a ready ``kubernetes.client.ApiClient``), ``actor``, ``progress``, ``probe`` (the
gate's HTTP GET), ``wait_timeout_s``, ``gate_timeout_s``. Unknown settings are ignored.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from agentdock.targets.base import Artifact, Deployment, Plan, Status, frozen_spec
from agentdock.targets.knative import status as kstatus
from agentdock.targets.knative.client import KnativeClient
from agentdock.targets.knative.connect import connect
from agentdock.targets.knative.diff import diff
from agentdock.targets.knative.gate import choose_gate, url_gate
from agentdock.targets.knative.manifest import MANAGED_BY, MANAGED_LABEL, render_service
from agentdock.targets.knative.model import KnativeModel, resolve_model, revision_name
from agentdock.targets.knative.options import KnativeOptions, canary_percent, keep_count
from agentdock.targets.knative.plan import plan_actions
from agentdock.targets.knative.rollout import Rollout, ours_or_first
from agentdock.targets.knative.traffic import KnativeTraffic, collect
from agentdock.targets.release import Release, move_traffic

import agentdock
from agentdock.errors import AgentDockError, DeployError, SecretMissing
from agentdock.spec.models import DockSpec
from agentdock.spec.plainenv import function_references
from agentdock.store import actor as who
from agentdock.store.base import MetadataStore

TARGET = "knative"


class KnativeTarget:
    name = TARGET

    def __init__(self, store: MetadataStore, **settings: Any) -> None:
        self.store = store
        self.settings = settings
        self._clients: dict[str, KnativeClient] = {}
        self._api: Any = settings.get("api_client")

    # --- wiring ----------------------------------------------------------------------------
    def client(self, namespace: str) -> KnativeClient:
        if namespace not in self._clients:
            if self._api is None:
                self._api = connect(
                    context=self.settings.get("context"), kubeconfig=self.settings.get("kubeconfig")
                )
            self._clients[namespace] = KnativeClient(self._api, namespace)
        return self._clients[namespace]

    def release(self) -> Release:
        return Release(self.store, TARGET, who(self.settings.get("actor")))

    def _progress(self, step: str) -> None:
        if self.settings.get("progress"):
            self.settings["progress"](step)

    def _model(self, spec: DockSpec, artifact: Artifact, image: str | None) -> tuple[KnativeModel, list[str]]:
        raw = frozen_spec(artifact, spec, target=TARGET)
        refs = [(r.var, r.default) for r in function_references(raw)]
        overrides = {k: self.settings.get(k) for k in ("namespace", "image_digest") if self.settings.get(k)}
        return resolve_model(
            spec,
            content_hash=artifact.content_hash,
            image=image or artifact.image,
            references=refs,
            store_url=getattr(self.store, "url", None),
            overrides=overrides,
        )

    # --- plan / apply ----------------------------------------------------------------------
    def plan(self, spec: DockSpec, artifact: Artifact, **options: Any) -> Plan:
        model, warnings = self._model(spec, artifact, options.get("image_uri"))
        canary, keep = canary_percent(options.get("canary")), keep_count(options.get("keep"))
        force, gate = bool(options.get("force")), choose_gate(options.get("health_gate"))
        pointer = self.release().deployable(model.agent, force=force)
        version, reuse = self.release().version_for(
            model.agent, content_hash=model.content_hash, image=model.image, force=force
        )
        kube = self.client(model.namespace)
        missing = kube.missing_secrets(model.required_secrets())
        if missing:
            raise SecretMissing(
                f"namespace {model.namespace}",
                "the manifest reads Kubernetes Secrets that do not exist: " + ", ".join(missing),
                hint=f"create them first, e.g. kubectl -n {model.namespace} create secret generic "
                f"{missing[0].split('/')[0]} --from-literal=KEY=VALUE (values never go through AgentDock)",
            )
        live = kube.get_service(model.service)
        if live is not None and live["metadata"].get("labels", {}).get(MANAGED_LABEL) != MANAGED_BY:
            raise DeployError(
                f"service {model.namespace}/{model.service}",
                "a Knative Service of that name exists and AgentDock did not create it",
                hint="deploy under another agent.name or --namespace, or delete that Service first",
            )
        traffic = ours_or_first((live or {}).get("spec", {}).get("traffic"), model.service, version)
        desired = render_service(model, version, traffic, agentdock_version=agentdock.__version__)
        unchanged = (
            reuse
            and pointer is not None
            and pointer.live_version == version
            and live is not None
            and live["spec"]["template"]["metadata"].get("name") == model.revision(version)
            and not canary
        )
        answer = kube.apply(desired, dry_run=True) if not unchanged else desired
        actions = (
            ()
            if unchanged
            else plan_actions(model, version, exists=live is not None, gate=gate, canary=canary, keep=keep)
        )
        plan_diff = {
            "service": diff(live, answer),
            "traffic_before": (live or {}).get("spec", {}).get("traffic"),
        }
        opts = KnativeOptions(
            namespace=model.namespace,
            service=model.service,
            revision=model.revision(version),
            version=version,
            reuse=reuse,
            image=model.image,
            health_gate=gate,
            canary=canary,
            keep=keep,
            force=force,
            pointer_revision=pointer.revision if pointer else None,
            live_version=pointer.live_version if pointer else None,
            server_dry_run=not unchanged,
            warnings=tuple(warnings),
        )
        return Plan(TARGET, model.agent, spec, artifact, actions, plan_diff, opts)

    def apply(self, plan: Plan) -> Deployment:
        started = time.monotonic()
        opts = plan.options
        if plan.target != TARGET or not isinstance(opts, KnativeOptions):
            raise DeployError("plan", f"a {plan.target} plan cannot be applied by the knative target")
        release = self.release()
        pointer = release.unmoved(plan.agent, opts.pointer_revision)
        if not plan.actions:
            assert pointer is not None
            return Deployment(
                plan.agent,
                opts.version,
                pointer.url,
                TARGET,
                "unchanged",
                0,
                pointer.previous_version,
                {"revision": opts.revision, "message": "content and image unchanged"},
            )
        model, _ = self._model(plan.spec, plan.artifact, opts.image)
        release.register(
            plan.agent,
            content_hash=model.content_hash,
            spec=frozen_spec(plan.artifact, plan.spec, target=TARGET),
            image=model.image,
            label=model.label,
            number=opts.version,
            reuse=opts.reuse,
        )
        kube = self.client(opts.namespace)
        rollout = Rollout(
            kube,
            model,
            opts.version,
            agentdock.__version__,
            wait_timeout_s=float(self.settings.get("wait_timeout_s", 300.0)),
        )
        gate = self._gate(opts) if opts.health_gate == "url" else None
        try:
            service, routed_to, evidence = rollout.deliver(
                canary=opts.canary, gate=gate, progress=self._progress
            )
        except AgentDockError as exc:
            with contextlib.suppress(Exception):
                rollout.restore()
            release.mark_failed(plan.agent, opts.version)
            release.audit(
                "deploy_failed",
                plan.agent,
                {"version": opts.version, "revision": opts.revision, "error": exc.name, "cause": exc.cause},
            )
            raise
        canary = opts.canary if routed_to.candidate is not None else 0
        url = (service.get("status") or {}).get("url")
        revisions = {
            **((pointer.details.get("revisions") if pointer else None) or {}),
            str(opts.version): opts.revision,
        }
        details = {
            "namespace": opts.namespace,
            "service": opts.service,
            "revisions": revisions,
            "context": self.settings.get("context"),
        }
        release.move(
            plan.agent,
            opts.version,
            expected_revision=opts.pointer_revision,
            current=pointer,
            canary_weight=canary / 100,
            url=url,
            details=details,
            compensate=rollout.restore,
        )
        info = {
            "version": opts.version,
            "revision": opts.revision,
            "canary": canary,
            "gate": evidence,
            "from": opts.live_version,
        }
        release.audit("deploy", plan.agent, info)
        if opts.keep:
            info["deleted_revisions"] = collect(self, plan.agent, opts.keep)
        return Deployment(
            plan.agent,
            opts.version,
            url,
            TARGET,
            "canary" if canary else "live",
            int((time.monotonic() - started) * 1000),
            opts.live_version,
            info,
        )

    def _gate(self, opts: KnativeOptions) -> Callable[[str], dict[str, Any]]:
        timeout = float(self.settings.get("gate_timeout_s", 60.0))
        probe = self.settings.get("probe")
        return lambda url: url_gate(url, opts.version, probe=probe, timeout_s=timeout)

    # --- pointer moves, status, destroy ----------------------------------------------------
    def rollback(self, agent: str, version: int | None = None) -> Deployment:
        return move_traffic(self.release(), KnativeTraffic(self), agent, version=version)

    def promote(self, agent: str) -> Deployment:
        return move_traffic(self.release(), KnativeTraffic(self), agent, promote=True)

    def status(self, agent: str) -> Status:
        release = self.release()
        pointer = release.pointer(agent)
        history = release.history(agent)
        if pointer is None or not pointer.details.get("service"):
            return Status(agent, TARGET, None, None, None, {"deployed": False}, history)
        d = pointer.details
        seen = kstatus.read(self.client(d["namespace"]), d["service"])
        ready: dict[str, Any] = next(
            (c for c in (seen or {}).get("conditions", []) if c["type"] == "Ready"), {}
        )
        details = {
            **(seen or {"namespace": d["namespace"], "service": d["service"], "missing": True}),
            "canary": {"version": pointer.canary_version, "percent": round(pointer.canary_weight * 100)}
            if pointer.canary_version
            else None,
            "previous_version": pointer.previous_version,
            "last_release": release.last_release(agent),
        }
        url = (seen or {}).get("url") or pointer.url
        return Status(
            agent,
            TARGET,
            pointer.live_version,
            url,
            ready.get("status") == "True" if seen else False,
            details,
            history,
        )

    def destroy(self, agent: str) -> None:
        """Delete the Service (its revisions go with it) and the agent's knative records. Idempotent."""
        release = self.release()
        pointer = release.pointer(agent)
        if pointer is None or not pointer.details.get("service"):
            return
        d = pointer.details
        deleted = self.client(d["namespace"]).delete_service(d["service"])
        self.store.delete_agent(agent, TARGET)
        release.audit(
            "destroy", agent, {"namespace": d["namespace"], "service": d["service"], "existed": deleted}
        )


__all__ = ["TARGET", "KnativeTarget", "revision_name"]
