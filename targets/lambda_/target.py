"""AWS Lambda target: container-image function, immutable versions, alias ``live``, function URL.

Staged like chalice's deployer: ``resolve_model`` (what should exist, pure) -> ``observe``
(read-only describes) -> ``build_plan`` (frozen calls, pure) -> ``Executor`` (the only side
effects). ``plan()`` is what ``--dry-run --json`` prints; ``apply()`` runs the same calls.

Settings (``LambdaTarget(store=..., **settings)``; CLI flags win over the Dockfile): ``region``,
``endpoint_url``, ``profile``, ``session`` (a boto3 Session), ``function_name``, ``role_arn``,
``actor``, ``probe`` (the URL gate's HTTP GET), ``preflight`` (the local preflight callable),
``builder`` (a ``Builder``, a path to a docker-compatible CLI, or False: never build here),
``progress`` (called with each step), ``gate_timeout_s``, ``wait_attempts``, ``sleep``,
``aws_factory`` (region -> an ``aws.AwsApi``; tests pass ``agentdock.testing.FakeAwsClients``).
Unknown settings are ignored (the registry passes every target the same ones).
"""

from __future__ import annotations

import time
from typing import Any

from agentdock.targets.base import Artifact, Deployment, Plan, Status
from agentdock.targets.lambda_ import ops as lambda_ops
from agentdock.targets.lambda_.aws import AwsApi, AwsClients, default_region
from agentdock.targets.lambda_.execute import Executor
from agentdock.targets.lambda_.gate import choose_gate
from agentdock.targets.lambda_.image import check_image, find_builder, image_tag, parse_ecr_uri
from agentdock.targets.lambda_.model import LambdaModel, check_invoke_mode, frozen_spec, resolve_model
from agentdock.targets.lambda_.observe import observe
from agentdock.targets.lambda_.options import LambdaOptions, canary_weight
from agentdock.targets.lambda_.plan import Facts, build_plan
from agentdock.targets.lambda_.steps import POINTER, TARGET, DeploySteps
from agentdock.targets.release import Release

from agentdock.build.builder import Builder
from agentdock.errors import DeployConflict, DeployError, ImageNotFound
from agentdock.spec.models import DockSpec
from agentdock.store import actor
from agentdock.store.base import MetadataStore

_OVERRIDES = ("region", "function_name", "role_arn")
_UNSET = object()


class LambdaTarget:
    name = TARGET

    def __init__(self, store: MetadataStore, **settings: Any) -> None:
        self.store = store
        self.settings = settings
        self._clients: dict[str, AwsApi] = {}
        self._builder: Builder | None | object = _UNSET

    # --- wiring ----------------------------------------------------------------------------

    def aws(self, region: str) -> AwsApi:
        factory = self.settings.get("aws_factory")  # the test seam: region -> AwsApi
        if region not in self._clients and factory is not None:
            self._clients[region] = factory(region)
        if region not in self._clients:
            self._clients[region] = AwsClients(
                region,
                session=self.settings.get("session"),
                endpoint_url=self.settings.get("endpoint_url"),
                profile=self.settings.get("profile"),
            )
        return self._clients[region]

    def builder(self) -> Builder | None:
        """The image builder, detected once (probing an engine's daemon takes a moment)."""
        if self._builder is _UNSET:
            self._builder = find_builder(self.settings.get("builder"))
        return self._builder  # type: ignore[return-value]

    @property
    def actor(self) -> str:
        return actor(self.settings.get("actor"))

    def _model(
        self, spec: DockSpec, artifact: Artifact, region: str | None = None
    ) -> tuple[LambdaModel, list[str]]:
        overrides = {k: self.settings.get(k) for k in _OVERRIDES if self.settings.get(k)}
        if region:
            overrides["region"] = region
        chain = (
            None
            if overrides.get("region")
            else default_region(self.settings.get("session"), self.settings.get("profile"))
        )
        return resolve_model(
            spec, artifact, region=chain, store_url=getattr(self.store, "url", None), overrides=overrides
        )

    # --- plan / apply ----------------------------------------------------------------------

    def plan(self, spec: DockSpec, artifact: Artifact, **options: Any) -> Plan:
        model, warnings = self._model(spec, artifact)
        evidence = check_invoke_mode(artifact, model.invoke_mode)
        canary = canary_weight(options.get("canary"))
        force = bool(options.get("force"))
        aws = self.aws(model.region)
        gate = choose_gate(options.get("health_gate"), endpoint_override=aws.endpoint_override)
        image, building, image_exists = self._image(model, artifact, options.get("image_uri"), aws)
        pointer = self.store.get_pointer(model.agent, TARGET, POINTER)
        if pointer is not None and pointer.canary_version is not None and not force:
            raise DeployConflict(
                model.agent,
                f"a canary of version {pointer.canary_version} is in progress",
                hint=f"agentdock promote {model.agent} (or agentdock rollback {model.agent}) first, or --force",
            )
        version, reuse = self._version(model, image, force)
        seen = observe(aws, model, building=building, url_gate=gate == "url")
        on_function = (seen.configuration.get("Environment") or {}).get("Variables") or {}
        warnings += [
            f"deploy.secrets.{key} is `env`: set {key} on the function (deploys keep it) or use aws-sm:// / ssm://"
            for key in model.env_secrets
            if key not in on_function
        ]
        facts = Facts(
            version=version,
            reuse=reuse,
            image=image,
            building=building,
            image_exists=image_exists,
            gate=gate,
            canary_weight=canary,
            pointer_revision=pointer.revision if pointer else None,
            live_version=pointer.live_version if pointer else None,
            live_lambda_version=(pointer.details.get("lambda_version") if pointer else None),
            context_dir=artifact.context_dir,
            force=force,
        )
        actions, diff = build_plan(model, seen, facts)
        plan_options = LambdaOptions(
            region=model.region,
            function_name=model.function_name,
            alias=model.alias,
            invoke_mode=model.invoke_mode.value,
            invoke_mode_evidence=evidence,
            health_gate=gate,
            canary=canary,
            image_uri=image,
            force=force,
            version=version,
            pointer_revision=facts.pointer_revision,
            endpoint_override=aws.endpoint_override,
            warnings=tuple(warnings),
        )
        return Plan(TARGET, model.agent, spec, artifact, actions, diff, plan_options)

    def apply(self, plan: Plan) -> Deployment:
        started = time.monotonic()
        opts = plan.options
        if plan.target != TARGET or not isinstance(opts, LambdaOptions):
            raise DeployError("plan", f"a {plan.target} plan cannot be applied by the lambda target")
        pointer = Release(self.store, TARGET, self.actor, POINTER).unmoved(plan.agent, opts.pointer_revision)
        if not plan.actions:
            assert pointer is not None
            ms = int((time.monotonic() - started) * 1000)
            details = {
                "lambda_version": pointer.details.get("lambda_version"),
                "alias": opts.alias,
            }
            return Deployment(
                plan.agent,
                int(opts.version),
                pointer.url,
                TARGET,
                "unchanged",
                ms,
                pointer.previous_version,
                details,
            )
        model, _ = self._model(plan.spec, plan.artifact, opts.region)
        aws = self.aws(model.region)
        steps = DeploySteps(
            store=self.store,
            model=model,
            aws=aws,
            actor=self.actor,
            context_dir=plan.artifact.context_dir,
            spec_snapshot=frozen_spec(plan.artifact, plan.spec),
            probe=self.settings.get("probe"),
            preflight_fn=self.settings.get("preflight"),
            builder=self.builder() if plan.diff.get("image", {}).get("build") else None,
            gate_timeout_s=float(self.settings.get("gate_timeout_s", 120.0)),
            sleep=self.settings.get("sleep", time.sleep),
            started=started,
        )
        executor = Executor(
            aws,
            steps.mapping(),
            wait_attempts=int(self.settings.get("wait_attempts", 300)),
            sleep=self.settings.get("sleep", time.sleep),
            progress=self.settings.get("progress"),
        )
        values = executor.execute(plan.actions)
        canary = opts.canary if plan.diff.get("alias", {}).get("change") == "canary" else 0.0
        url = values.get("live_url") or (pointer.url if pointer else None)
        details = {
            "lambda_version": values.get("lambda_version"),
            "function_name": model.function_name,
            "alias": model.alias,
            "invoke_mode": model.invoke_mode.value,
            "canary_weight": canary,
            "health_gate": opts.health_gate,
            "calls": executor.log,
        }
        return Deployment(
            plan.agent,
            int(opts.version),
            url,
            TARGET,
            "canary" if canary else "live",
            int((time.monotonic() - started) * 1000),
            values.get("previous_version"),
            details,
        )

    # --- pointer moves, status, destroy ----------------------------------------------------

    def rollback(self, agent: str, version: int | None = None) -> Deployment:
        region = lambda_ops.live_pointer(self.store, agent).details["region"]
        return lambda_ops.move_live(
            self.store, self.aws(region), self.actor, agent, version=version, action="rollback"
        )

    def promote(self, agent: str) -> Deployment:
        region = lambda_ops.live_pointer(self.store, agent).details["region"]
        return lambda_ops.move_live(
            self.store, self.aws(region), self.actor, agent, version=None, action="promote"
        )

    def status(self, agent: str) -> Status:
        return lambda_ops.status(self.store, self.aws, agent)

    def destroy(self, agent: str) -> None:
        lambda_ops.destroy(self.store, self.aws, self.actor, agent)

    # --- helpers ---------------------------------------------------------------------------

    def _image(
        self, model: LambdaModel, artifact: Artifact, given: str | None, aws: AwsApi
    ) -> tuple[str, bool, bool]:
        """(image URI, build it here?, already in ECR?). CI's URI wins, then an ECR image the
        artifact carries, then a build with docker."""
        candidate = given or (artifact.image if artifact.image and ".dkr.ecr." in artifact.image else None)
        if candidate:
            image = parse_ecr_uri(candidate)
            check_image(aws.ecr, image, model.region)
            return image.uri, False, True
        if self.builder() is None:
            raise ImageNotFound(
                "--image-uri",
                "no image to deploy and no working image builder (docker, podman, buildah) here",
                hint="build and push in CI, then: agentdock deploy --target lambda --image-uri URI",
            )
        repo = f"{aws.account_id()}.dkr.ecr.{model.region}.amazonaws.com/{model.ecr_repository}"
        image_uri = f"{repo}:{image_tag(model.content_hash)}"
        try:
            check_image(aws.ecr, parse_ecr_uri(image_uri), model.region)
            exists = True
        except ImageNotFound:
            exists = False
        return image_uri, True, exists

    def _version(self, model: LambdaModel, image: str, force: bool) -> tuple[int, bool]:
        """The store version this deploy uses (the release core reuses the one of the same content and
        image, so a re-run after a failure converges on the same Lambda version)."""
        return Release(self.store, TARGET, self.actor).version_for(
            model.agent, content_hash=model.content_hash, image=image, force=force
        )
