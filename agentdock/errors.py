"""Every user-facing AgentDock error, in one place.

Each error carries a stable numeric ``code``, a ``name``, a ``path`` hint (a Dockfile
field such as ``auth.jwt.secret_key``, a route, a store key), a one-line ``cause`` and,
where one exists, a ``hint`` that shows the fix.

    AgentDockError
    ├── DockfileError                      Dockfile v1 contract, codes 4001-4010
    │   ├── YAMLParseError              4001
    │   ├── EnvInterpolationError       4001
    │   ├── InvalidSchemaError          4002
    │   ├── EntrypointNotFoundError     4003
    │   ├── InvalidIOSchemaError        4004
    │   ├── AuthConfigError             4005
    │   ├── PolicyValidationError       4006
    │   ├── UnsupportedFrameworkError   4007
    │   ├── TelemetryConfigError        4008
    │   ├── IncludeCycleError           4009
    │   └── ExposureError               4010
    ├── DockfileInvalid                    carries every DockfileError found in one run
    ├── HTTPError                          runtime; rendered as the JSON envelope, code = HTTP status
    │   ├── BadRequest                   400
    │   ├── AuthenticationError          401
    │   ├── PermissionDenied             403
    │   │   ├── PolicyViolationError     403
    │   │   └── ToolDenied               403
    │   ├── NotFound                     404
    │   ├── MethodNotAllowed             405
    │   ├── Conflict                     409  e.g. /threads on an agent with no state.checkpointer
    │   ├── Gone                         410  e.g. a /stream resume from events no longer kept
    │   ├── PayloadTooLarge              413
    │   ├── ValidationFailed             422
    │   ├── RateLimited                  429
    │   ├── TokenExpired                 498
    │   ├── KeyRevoked                   499
    │   ├── AgentError                   500
    │   ├── SchemaMismatchError          500
    │   ├── NotReady                     503
    │   └── AgentTimeout                 504
    ├── StoreError                         metadata store
    │   ├── StoreNotInitialized
    │   ├── StoreConflict                  a conditional write lost (immutable row, compare-and-set)
    │   ├── RecordNotFound
    │   ├── CheckpointTooLarge        5107  a checkpoint/write over the backend's item limit (DynamoDB 400 KB)
    │   └── EncryptionKeyError             no/wrong key-encryption key for secrets at rest
    ├── RuntimeStartupError                [RUNTIME] the function cannot start, codes 5400-5409
    │   ├── SecretResolutionError       5401  a ${VAR} reference did not resolve at run time
    │   └── AgentLoadError              5402  the entrypoint failed to import or build the agent
    ├── BuildError                         rendering a build context, building an image
    └── DeployError                        targets
        ├── TargetNotFound
        ├── CapabilityMissing          5304  the target lacks an optional capability (promote, logs)
        ├── AgentNotFound              5305  no agent of that name where the command looked
        ├── HealthGateFailed
        ├── DeployConflict
        ├── InvokeModeMismatch        5310  [LAMBDA] image AWS_LWA_INVOKE_MODE vs function URL InvokeMode
        ├── ImageNotFound             5311  [LAMBDA] the image to deploy is not in ECR (or not ECR)
        ├── CloudCallFailed           5312  [LAMBDA] an AWS API call failed (service.Operation + AWS code)
        ├── ClusterCallFailed         5320  [KNATIVE] a Kubernetes API call failed (verb + object + status)
        ├── SecretMissing             5321  [KNATIVE] a referenced Kubernetes Secret (or key) does not exist
        ├── RevisionFailed            5322  [KNATIVE] the new revision failed or did not become Ready in time
        ├── CdkConfigError            5330  [CDK] AgentFunction / AgentMetadataTable props or Dockfile unusable
        ├── GoogleCallFailed          5340  [CLOUDRUN] a Google Cloud API call failed (method + status)
        ├── GoogleSecretMissing       5341  [CLOUDRUN] a gcp-sm:// secret (or version) does not exist
        └── CloudRunRevisionFailed    5342  [CLOUDRUN] the new revision failed or was not Ready in time

The HTTP envelope is ``{"error": name, "code": status, "detail": cause, "trace_id": ...}``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self


class AgentDockError(Exception):
    code: ClassVar[int] = 1
    name: ClassVar[str] = "AgentDockError"

    def __init__(self, path: str = "", cause: str = "", hint: str | None = None) -> None:
        self.path = path
        self.cause = cause
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.cause} ({self.code} {self.name})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "path": self.path,
            "message": self.cause,
            "hint": self.hint,
        }


# --- Dockfile (4001-4010) -------------------------------------------------------------


class DockfileError(AgentDockError):
    """A Dockfile problem. ``file``/``line`` say where it was written (set by the loader from the
    YAML marks; ``None`` when the error has no single place, e.g. a missing top-level key)."""

    code = 4000
    name = "DockfileError"
    file: str | None = None
    line: int | None = None

    def at(self, file: str | None, line: int | None) -> Self:
        self.file, self.line = file, line
        return self

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "file": self.file, "line": self.line}


class YAMLParseError(DockfileError):
    code = 4001
    name = "YAMLParseError"


class EnvInterpolationError(DockfileError):
    code = 4001
    name = "EnvInterpolationError"


class InvalidSchemaError(DockfileError):
    code = 4002
    name = "InvalidSchemaError"


class EntrypointNotFoundError(DockfileError):
    code = 4003
    name = "EntrypointNotFoundError"


class InvalidIOSchemaError(DockfileError):
    code = 4004
    name = "InvalidIOSchemaError"


class AuthConfigError(DockfileError):
    code = 4005
    name = "AuthConfigError"


class PolicyValidationError(DockfileError):
    code = 4006
    name = "PolicyValidationError"


class UnsupportedFrameworkError(DockfileError):
    code = 4007
    name = "UnsupportedFrameworkError"


class TelemetryConfigError(DockfileError):
    code = 4008
    name = "TelemetryConfigError"


class IncludeCycleError(DockfileError):
    code = 4009
    name = "IncludeCycleError"


class ExposureError(DockfileError):
    code = 4010
    name = "ExposureError"


class DockfileInvalid(AgentDockError):
    """Raised once with every error a load found, so a user fixes them all in one pass."""

    code = 4000
    name = "DockfileInvalid"

    def __init__(self, errors: list[DockfileError], warnings: list[DockfileError] | None = None) -> None:
        self.errors = errors
        self.warnings = warnings or []
        first = errors[0] if errors else None
        super().__init__(
            first.path if first else "", f"{len(errors)} error(s): " + "; ".join(map(str, errors))
        )


# --- Runtime HTTP errors ----------------------------------------------------------------


class HTTPError(AgentDockError):
    """An error a client sees. ``code`` is the HTTP status; ``headers`` go on the response."""

    code = 500
    name = "InternalError"

    def __init__(
        self, cause: str = "", path: str = "", hint: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self.headers = headers or {}
        super().__init__(path, cause, hint)

    @property
    def status(self) -> int:
        return self.code

    def envelope(self, trace_id: str) -> dict[str, Any]:
        return {"error": self.name, "code": self.code, "detail": self.cause, "trace_id": trace_id}


class BadRequest(HTTPError):
    code = 400
    name = "BadRequest"


class AuthenticationError(HTTPError):
    code = 401
    name = "AuthenticationError"


class PermissionDenied(HTTPError):
    code = 403
    name = "PermissionDenied"


class PolicyViolationError(PermissionDenied):
    name = "PolicyViolationError"


class ToolDenied(PermissionDenied):
    name = "ToolDenied"


class NotFound(HTTPError):
    code = 404
    name = "NotFound"


class MethodNotAllowed(HTTPError):
    code = 405
    name = "MethodNotAllowed"


class Conflict(HTTPError):
    code = 409
    name = "Conflict"


class Gone(HTTPError):
    code = 410
    name = "Gone"


class PayloadTooLarge(HTTPError):
    code = 413
    name = "PayloadTooLarge"


class UnsupportedMediaType(HTTPError):
    code = 415
    name = "UnsupportedMediaType"


class ValidationFailed(HTTPError):
    code = 422
    name = "ValidationError"


class RateLimited(HTTPError):
    code = 429
    name = "RateLimited"


class TokenExpired(HTTPError):
    code = 498
    name = "TokenExpired"


class KeyRevoked(HTTPError):
    code = 499
    name = "KeyRevoked"


class AgentError(HTTPError):
    code = 500
    name = "AgentError"


class SchemaMismatchError(HTTPError):
    code = 500
    name = "SchemaMismatchError"


class NotReady(HTTPError):
    code = 503
    name = "NotReady"


class AgentTimeout(HTTPError):
    code = 504
    name = "AgentTimeout"


# --- Store, build, deploy --------------------------------------------------------------


class StoreError(AgentDockError):
    code = 5100
    name = "StoreError"


class StoreNotInitialized(StoreError):
    code = 5101
    name = "StoreNotInitialized"


class StoreConflict(StoreError):
    code = 5102
    name = "StoreConflict"


class RecordNotFound(StoreError):
    code = 5104
    name = "RecordNotFound"


class EncryptionKeyError(StoreError):
    """[STORE] secrets at rest: AGENTDOCK_ENCRYPTION_KEY missing or wrong, or a sealed value altered."""

    code = 5105
    name = "EncryptionKeyError"


class CheckpointTooLarge(StoreError):
    """A checkpoint or pending write is bigger than the backend's item limit (DynamoDB: 400 KB)."""

    code = 5107
    name = "CheckpointTooLarge"


# --- [RUNTIME] startup ---------------------------------------------------------------------


class RuntimeStartupError(AgentDockError):
    """The function process cannot serve: raised at startup so the platform sees a failed init."""

    code = 5400
    name = "RuntimeStartupError"


class SecretResolutionError(RuntimeStartupError):
    """A ``${VAR}`` reference of the frozen spec did not resolve (env, aws-sm://, ssm://, k8s://)."""

    code = 5401
    name = "SecretResolutionError"


class AgentLoadError(RuntimeStartupError):
    """The adapter could not import or build the agent named by ``agent.entrypoint``."""

    code = 5402
    name = "AgentLoadError"


class TelemetryReplayError(AgentDockError):
    """Spooled telemetry cannot be replayed (missing credentials, unknown agent)."""

    code = 5410
    name = "TelemetryReplayError"


class BuildError(AgentDockError):
    code = 5200
    name = "BuildError"


class DeployError(AgentDockError):
    code = 5300
    name = "DeployError"


class TargetNotFound(DeployError):
    code = 5301
    name = "TargetNotFound"


class CapabilityMissing(DeployError):
    """The target does not implement an optional capability (``SupportsCanary``, ``SupportsLogs``)."""

    code = 5304
    name = "CapabilityMissing"


class AgentNotFound(DeployError):
    """No agent of that name where the command looked (same answer, exit 1, from every command)."""

    code = 5305
    name = "AgentNotFound"


class HealthGateFailed(DeployError):
    code = 5302
    name = "HealthGateFailed"


class PreflightFailed(HealthGateFailed):
    """The build context, run as its image would run, failed a check. ``path`` names the check;
    the hint carries the command that reproduces it."""

    code = 5340
    name = "PreflightFailed"


class DeployConflict(DeployError):
    code = 5303
    name = "DeployConflict"


# --- [LAMBDA] AWS Lambda target ------------------------------------------------------------


class InvokeModeMismatch(DeployError):
    """The image's ``AWS_LWA_INVOKE_MODE`` and the function URL's ``InvokeMode`` disagree: LWA would
    silently buffer (or a buffered handler would be streamed), so the deploy stops before any change."""

    code = 5310
    name = "InvokeModeMismatch"


class ImageNotFound(DeployError):
    """The image to deploy is not in Amazon ECR (Lambda runs container images from ECR only)."""

    code = 5311
    name = "ImageNotFound"


class CloudCallFailed(DeployError):
    """An AWS API call failed; ``path`` is ``service.Operation`` and the cause carries the AWS code."""

    code = 5312
    name = "CloudCallFailed"


# --- [KNATIVE] Knative target ---------------------------------------------------------------


class ClusterCallFailed(DeployError):
    """A Kubernetes API call failed; ``path`` names the verb and object, the cause the HTTP status,
    reason and the API server's message."""

    code = 5320
    name = "ClusterCallFailed"


class SecretMissing(DeployError):
    """A ``secretKeyRef`` of the manifest names a Secret (or a key) the namespace does not have: the
    deploy refuses before any change, naming each one."""

    code = 5321
    name = "SecretMissing"


class RevisionFailed(DeployError):
    """The new revision reported a failure condition (its reason and message), or was not Ready in time."""

    code = 5322
    name = "RevisionFailed"


# --- [CDK] constructs ------------------------------------------------------------------------


class CdkConfigError(DeployError):
    """A CDK construct cannot be built from these props and this Dockfile (raised at synth time)."""

    code = 5330
    name = "CdkConfigError"


# --- [CLOUDRUN] Google Cloud Run target ------------------------------------------------------


class GoogleCallFailed(DeployError):
    """A Google Cloud API call failed; ``path`` is the method (``run.services.create``), the cause
    carries the HTTP status and Google's message."""

    code = 5340
    name = "GoogleCallFailed"


class GoogleSecretMissing(DeployError):
    """A ``gcp-sm://`` reference names a Secret Manager secret (or version) that does not exist:
    the deploy refuses before any change and names it."""

    code = 5341
    name = "GoogleSecretMissing"


class CloudRunRevisionFailed(DeployError):
    """The new Cloud Run revision failed (a condition with its reason) or was not Ready in time."""

    code = 5342
    name = "CloudRunRevisionFailed"
