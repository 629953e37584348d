"""Google Cloud Run target: one revision ``<service>-v<n>`` per version, traffic pinned by tags.

Staged like the other targets: ``resolve_model`` (pure) -> read what runs (service, revision,
secrets; a ``validate_only`` write) -> ``plan`` (frozen calls + diff) -> ``apply`` (the only
writes). Deploy order: the new revision joins with no traffic (tag ``v<n>``) -> invoker IAM ->
health gate on its tag URL -> traffic moves -> store pointer (compare-and-set; traffic goes back
if it lost). Any failure before the traffic move leaves traffic as it was and marks the version
failed; a re-run of the same content converges on the same revision.

Settings (``CloudRunTarget(store=..., **settings)``; CLI flags win over the Dockfile): ``project``,
``region``, ``service``, ``endpoint_url`` (another API server, e.g. the test stand-in),
``credentials``, ``client`` (a ``CloudRunClient``), ``actor``, ``progress``, ``probe`` (the gate's
HTTP GET), ``gate_timeout_s``, ``wait_timeout_s``. Unknown settings are ignored.
"""

from __future__ import annotations

import os
import time
from typing import Any

from agentdock.targets.base import Artifact, Deployment, Plan, Status, frozen_spec
from agentdock.targets.cloudrun import ops
from agentdock.targets.cloudrun import plan as P
from agentdock.targets.cloudrun import routing as R
from agentdock.targets.cloudrun.client import CloudRunClient, adc_project
from agentdock.targets.cloudrun.gate import GATES, http_probe, id_token_headers, wait_healthy
from agentdock.targets.cloudrun.model import (
    MANAGED_LABEL,
    CloudRunModel,
    render_service,
    revision_name,
    traffic,
)
from agentdock.targets.cloudrun.observe import check_secrets, choose_version
from agentdock.targets.cloudrun.resolve import resolve_model
from agentdock.targets.release import Release

from agentdock.errors import (
    AgentDockError,
    DeployConflict,
    DeployError,
    HealthGateFailed,
)
from agentdock.spec.models import DockSpec
from agentdock.store import actor
from agentdock.store.base import MetadataStore

TARGET = P.TARGET
ENV_REGION = "CLOUDSDK_RUN_REGION"  # gcloud's run/region property as an environment variable


class CloudRunTarget:
    name = TARGET

    def __init__(self, store: MetadataStore, **settings: Any) -> None:
        self.store = store
        self.settings = settings
        self._client: CloudRunClient | None = settings.get("client")

    # --- wiring ----------------------------------------------------------------------------

    def client(self) -> CloudRunClient:
        if self._client is None:
            self._client = CloudRunClient(
                endpoint=self.settings.get("endpoint_url"),
                credentials=self.settings.get("credentials"),
                timeout_s=float(self.settings.get("wait_timeout_s", 600.0)),
            )
        return self._client

    def release(self) -> Release:
        return Release(self.store, TARGET, actor(self.settings.get("actor")))

    def _progress(self, step: str) -> None:
        report = self.settings.get("progress")
        if report is not None:
            report(step)

    def _model(
        self, spec: DockSpec, artifact: Artifact, image: str | None
    ) -> tuple[CloudRunModel, list[str]]:
        overrides = {
            k: self.settings.get(k) for k in ("project", "region", "service") if self.settings.get(k)
        }
        block = spec.deploy.cloudrun if spec.deploy else None
        need_adc = not (overrides.get("project") or (block and block.project))
        return resolve_model(
            spec,
            artifact,
            image=image,
            project=adc_project() if need_adc else None,
            region=os.environ.get(ENV_REGION),
            store_url=getattr(self.store, "url", None),
            overrides=overrides,
        )

    # --- plan / apply ----------------------------------------------------------------------

    def plan(self, spec: DockSpec, artifact: Artifact, **options: Any) -> Plan:
        model, warnings = self._model(spec, artifact, options.get("image_uri"))
        canary = R.canary_percent(options.get("canary"))
        gate = options.get("health_gate") or "auto"
        if gate not in GATES:
            raise DeployError("--health-gate", f"{gate!r} is not a Cloud Run gate", hint="auto, url or none")
        force = bool(options.get("force"))
        pointer = self.release().deployable(model.agent, force=force)
        client = self.client()
        check_secrets(client, model)
        live = client.get_service(model.name)
        if live is not None and (live.get("labels") or {}).get(MANAGED_LABEL[0]) != MANAGED_LABEL[1]:
            raise DeployConflict(
                model.name,
                "a Cloud Run service of this name exists and AgentDock does not manage it",
                hint="pick another name (deploy.cloudrun.service) or delete that service first",
            )
        version, reuse, ready = choose_version(self.release(), client, model, force)
        unchanged = (
            reuse
            and pointer is not None
            and pointer.live_version == version
            and pointer.canary_version is None
            and live is not None
            and client.is_public(model.name) == model.public
        )
        serving = pointer if live is not None else None  # a deleted service serves nothing any more
        staged = self._staged_body(model, version, serving, traffic_only=ready)
        if not unchanged:  # the API checks the body it will get, changing nothing
            self._write(client, model, staged, creating=live is None, validate_only=True)
        final = render_service(model, version, R.final_split(serving, version, canary))
        if canary and (serving is None or serving.live_version in (None, version)):
            warnings.append(f"nothing else is live: --canary {canary} ignored, v{version} takes all traffic")
        opts = P.CloudRunOptions(
            project=model.project,
            region=model.region,
            service=model.service,
            image=model.image,
            version=version,
            reuse_revision=ready,
            revision=model.revision(version),
            canary=canary if serving is not None and serving.live_version not in (None, version) else 0,
            health_gate="none" if gate == "none" else "url",
            public=model.public,
            creating=live is None,
            force=force,
            pointer_revision=pointer.revision if pointer else None,
            endpoint_override=bool(self.settings.get("endpoint_url")),
            warnings=tuple(warnings),
        )
        diff = {
            "service": R.diff(final, live),
            "traffic": {"live": (live or {}).get("traffic"), "planned": final["traffic"]},
            "secrets": P.model_summary(model)["secrets"],
        }
        actions = () if unchanged else P.actions(opts, model.name, f"v{version}")
        return Plan(TARGET, model.agent, spec, artifact, actions, diff, opts)

    def apply(self, plan: Plan) -> Deployment:
        started = time.monotonic()
        if plan.target != TARGET:
            raise DeployError("plan", f"a {plan.target} plan cannot be applied by the cloudrun target")
        o = plan.options
        assert isinstance(o, P.CloudRunOptions)
        release = self.release()
        pointer = release.unmoved(plan.agent, o.pointer_revision)
        if not plan.actions:
            assert pointer is not None
            details = {"revision": revision_name(o.service, o.version), "message": "unchanged: already live"}
            return Deployment(
                plan.agent, o.version, pointer.url, TARGET, "unchanged", 0, pointer.previous_version, details
            )
        model, _ = self._model(plan.spec, plan.artifact, o.image)
        client = self.client()
        n = o.version
        release.register(
            plan.agent,
            content_hash=model.content_hash,
            spec=frozen_spec(plan.artifact, plan.spec, target=TARGET),
            image=model.image,
            label=model.label,
            number=n,
            reuse=self._known(plan.agent, n),
        )
        step = "revision"
        try:
            self._progress(f"revision {model.revision(n)}")
            serving = None if o.creating else pointer
            staged = self._staged_body(model, n, serving, traffic_only=o.reuse_revision)
            service = self._write(client, model, staged, creating=o.creating)
            step = "iam"
            client.set_public(model.name, model.public)
            step = "gate"
            tag_url = ops.tag_url(service, f"v{n}")
            if o.health_gate != "none":
                self._progress(f"health gate {tag_url}")
                self._gate(model, tag_url, model.revision(n))
            step = "traffic"
            self._progress("traffic")
            final = traffic(model.service, R.final_split(serving, n, o.canary))
            before = service.get("traffic") or []
            service = client.update_service(
                model.name, {"traffic": final, "etag": service.get("etag", "")}, fields=("traffic",)
            )
        except AgentDockError as exc:
            release.mark_failed(plan.agent, n)
            release.audit("deploy_failed", plan.agent, {"version": n, "step": step, "error": str(exc)})
            raise

        def undo() -> None:
            client.update_service(model.name, {"traffic": before}, fields=("traffic",))

        details = ops.pointer_details(model, pointer, n)
        moved, move = release.move(
            plan.agent,
            n,
            expected_revision=o.pointer_revision,
            current=pointer,
            canary_weight=o.canary / 100.0,
            compensate=undo,
            url=service.get("uri"),
            details=details,
        )
        info = {"version": n, "revision": model.revision(n), "canary": o.canary, "image": model.image}
        release.audit("deploy", plan.agent, info)
        shown = {**info, "tag_url": ops.tag_url(service, f"v{n}"), "service": model.name}
        ms = int((time.monotonic() - started) * 1000)
        status = "canary" if move.canary else "live"
        previous = pointer.live_version if pointer else None
        return Deployment(plan.agent, n, moved.url, TARGET, status, ms, previous, shown)

    # --- pointer moves, status, destroy ----------------------------------------------------

    def rollback(self, agent: str, version: int | None = None) -> Deployment:
        return ops.move(self.release(), self.client(), agent, version=version)

    def promote(self, agent: str) -> Deployment:
        return ops.move(self.release(), self.client(), agent, promote=True)

    def status(self, agent: str) -> Status:
        return ops.status(self.release(), self.client(), agent)

    def destroy(self, agent: str) -> None:
        ops.destroy(self.release(), self.client(), agent)

    # --- helpers ---------------------------------------------------------------------------

    def _staged_body(
        self, model: CloudRunModel, n: int, pointer: Any, *, traffic_only: bool
    ) -> dict[str, Any]:
        staged = R.staged_traffic(model.service, pointer, n)
        if traffic_only:  # the revision exists and is Ready: re-sending its template could clash
            return {"traffic": staged}
        return render_service(model, n, R.final_split(None, n, 0)) | {"traffic": staged}

    def _write(
        self,
        client: CloudRunClient,
        model: CloudRunModel,
        body: dict[str, Any],
        *,
        creating: bool,
        validate_only: bool = False,
    ) -> dict[str, Any]:
        if creating:
            return client.create_service(model.parent, model.service, body, validate_only=validate_only)
        fields = ("traffic",) if set(body) == {"traffic"} else ()
        return client.update_service(model.name, body, validate_only=validate_only, fields=fields)

    def _gate(self, model: CloudRunModel, url: str, revision: str) -> None:
        headers = {} if model.public or self.settings.get("endpoint_url") else id_token_headers(url)
        passed, seen = wait_healthy(
            url,
            timeout_s=float(self.settings.get("gate_timeout_s", 120.0)),
            headers=headers,
            probe=self.settings.get("probe") or http_probe,
        )
        if not passed:
            private = "could not authenticate" in seen
            raise HealthGateFailed(
                revision,
                f"the new revision failed its health gate ({seen}); traffic was not moved",
                hint="run with a service account that can mint ID tokens (GOOGLE_APPLICATION_CREDENTIALS), "
                "or --health-gate none"
                if private
                else "check the revision's logs in the Cloud console; fix and deploy again",
            )

    def _known(self, agent: str, n: int) -> bool:
        return any(v.number == n for v in self.store.list_versions(agent))
