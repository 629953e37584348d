"""The Dockfile v1 as typed, frozen models: the one DockSpec everything downstream consumes.

These models are structural: they say which keys exist and what type each has. Rules that
own their own error code (supported framework 4007, auth consistency 4005, regexes 4006,
I/O schema shape 4004, exposure 4010, ...) are checked in ``agentdock.spec.semantics`` so
that each failure gets the code the contract gives it. ``dockfile-1.0.json`` is generated
from these models and a contract test keeps the two identical.

The models validate in **strict** mode with Python's ``re`` engine so that they accept and
reject exactly the JSON documents the generated JSON Schema accepts and rejects: no silent
``"8080"`` -> 8080 or ``"yes"`` -> True coercion. The one coercion kept is the one JSON Schema
itself makes: an integral float (``5.0``) is an integer (see ``Int``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

SUPPORTED_VERSIONS = ("1.0", "1.1")
SUPPORTED_FRAMEWORKS = ("langgraph", "langchain", "callable")
PERMISSIONS = ("deploy", "rollback", "invoke", "view_metrics", "key_manage", "read_logs", "read_docs")
DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "admin": PERMISSIONS,
    "developer": ("invoke", "view_metrics", "read_logs"),
    "viewer": ("view_metrics", "read_docs"),
}


def _integral(value: Any) -> Any:
    """JSON Schema counts 5.0 as an integer; so do we (and only that float)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer as JSON Schema defines it: 5 and 5.0 pass, True and "5" do not. The optional
# form wraps the whole union so that Field(ge=...) still becomes "minimum" in the JSON Schema.
Int = Annotated[int, BeforeValidator(_integral)]
OptInt = Annotated[int | None, BeforeValidator(_integral)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, regex_engine="python-re")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, strict=True, regex_engine="python-re")


class Agent(_Model):
    """What to run: the agent's name and the callable that builds it."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_-]{2,63}$",
        description="Agent name: lowercase, 3-64 chars. Targets derive a DNS-safe name by mapping '_' to '-'.",
    )
    description: str | None = Field(default=None, description="What the agent does (shown in /docs).")
    entrypoint: str = Field(
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="'module.path:callable' returning a graph/runnable (or being one).",
    )
    framework: str = Field(
        description="One of: langgraph, langchain, callable.", examples=list(SUPPORTED_FRAMEWORKS)
    )


class Model(_Model):
    """The chat model the agent uses."""

    provider: Literal["openai", "azure", "anthropic", "google", "ollama", "custom"] = Field(
        description="Model provider."
    )
    name: str = Field(description="Model name, e.g. gpt-4o-mini.")
    temperature: float | None = Field(default=None, ge=0, le=2, description="Sampling temperature, 0..2.")
    max_tokens: OptInt = Field(default=None, ge=1, description="Upper bound on generated tokens.")
    endpoint: str | None = Field(default=None, description="Provider endpoint URL (azure, ollama, custom).")
    extra: dict[str, Any] | None = Field(
        default=None, description="Provider-specific settings, passed through."
    )


class IOSchema(_Model):
    """The input/output contract: either inline JSON Schemas (input + output) or pydantic classes (input_class + output_class)."""

    input: dict[str, Any] | None = Field(
        default=None, description="Inline JSON Schema (type: object) of the input."
    )
    output: dict[str, Any] | None = Field(
        default=None, description="Inline JSON Schema (type: object) of the output."
    )
    input_class: str | None = Field(
        default=None, description="Dotted path to a pydantic model for the input."
    )
    output_class: str | None = Field(
        default=None, description="Dotted path to a pydantic model for the output."
    )


class ToolPolicy(_Model):
    """Which tools the agent may call; checked before a tool body runs."""

    allowed: list[str] = Field(default_factory=list, description="Tool names the agent may call.")
    deny_by_default: bool = Field(default=True, description="Deny any tool not in 'allowed'.")


class SafetyPolicy(_Model):
    """Redaction, output size and prompt-injection checks around every run."""

    redact_patterns: list[str] = Field(
        default_factory=list, description="Regexes redacted from input and output."
    )
    max_output_chars: OptInt = Field(default=None, ge=1, description="Truncate (or halt) longer output.")
    block_prompt_injection: bool = Field(
        default=True, description="Refuse inputs that look like prompt injection."
    )
    halt_on_violation: bool = Field(
        default=False, description="Any policy match refuses the request (403/413)."
    )


class Policies(_Model):
    """Tool gating and safety policies."""

    tools: ToolPolicy = Field(
        default_factory=ToolPolicy, description="Tool gating, enforced before a tool runs."
    )
    safety: SafetyPolicy = Field(
        default_factory=SafetyPolicy, description="Redaction, output size, injection."
    )


class JWTAuth(_Model):
    """HS256 JWT settings (required when auth.mode is jwt)."""

    secret_key: str | None = Field(default=None, description="HS256 secret, >= 16 chars; use ${JWT_SECRET}.")
    expiry_minutes: Int = Field(default=60, ge=5, description="Lifetime of tokens minted by agentdock.")


class APIKeys(_Model):
    """API key settings (enabled must be true when auth.mode is api_key)."""

    enabled: bool = Field(default=False, description="Accept x-api-key; required true when mode is api_key.")
    rotation_days: OptInt = Field(default=None, ge=1, description="Keys expire after this many days.")


class OAuth2(_Model):
    """Bearer JWTs verified against an issuer's JWKS (auth.mode oauth2)."""

    issuer: str | None = Field(default=None, description="Expected 'iss' claim.")
    audience: str | None = Field(default=None, description="Expected 'aud' claim.")
    jwks_url: str | None = Field(default=None, description="Where the issuer publishes its signing keys.")


class Role(_Model):
    """A named set of permissions."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{2,32}$", description="Role name.")
    permissions: list[str] = Field(description="Permissions: " + ", ".join(PERMISSIONS) + ".")


class Auth(_Model):
    """Authentication and authorization."""

    mode: Literal["jwt", "api_key", "oauth2"] = Field(description="Primary authentication mode.")
    jwt: JWTAuth | None = Field(default=None, description="HS256 JWT settings.")
    api_keys: APIKeys | None = Field(default=None, description="API key settings.")
    oauth2: OAuth2 | None = Field(default=None, description="Bearer JWTs verified against an issuer's JWKS.")
    roles: list[Role] | None = Field(
        default=None, description="Roles; defaults are admin, developer, viewer."
    )
    rate_limits: dict[str, str] | None = Field(
        default=None, description="Role -> limit, 'N/s|m|h|d' or '100 requests/minute'."
    )
    public_docs: bool = Field(
        default=False, description="Serve /docs, /openapi.json and /schema without auth."
    )


class Langfuse(_Model):
    """Langfuse tracing: public_key and secret_key are required when this block exists."""

    project: str | None = Field(default=None, description="Langfuse project name.")
    public_key: str | None = Field(
        default=None, description="Langfuse public key; use ${LANGFUSE_PUBLIC_KEY}."
    )
    secret_key: str | None = Field(
        default=None, description="Langfuse secret key; use ${LANGFUSE_SECRET_KEY}."
    )
    host: str | None = Field(default=None, description="Langfuse host URL.")


class ModelPrice(_Model):
    """A model's price in USD per 1 million tokens."""

    input: float = Field(ge=0, description="USD per 1M input (prompt) tokens.")
    output: float = Field(ge=0, description="USD per 1M output (completion) tokens.")


class Metrics(_Model):
    """Which Prometheus metrics /metrics exports."""

    latency: bool = Field(default=True, description="Latency histogram.")
    tokens: bool = Field(default=True, description="Token counters.")
    cost: bool = Field(default=False, description="Cost counters.")
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description="USD per 1M tokens by model name; overrides and extends the built-in table "
        "(agentdock.telemetry.cost) used for cost_usd on traces, metrics and log lines.",
    )


class Observability(_Model):
    """Tracing, logging and metrics."""

    langfuse: Langfuse | None = Field(default=None, description="Send traces to Langfuse.")
    tracing: bool = Field(default=True, description="Trace requests.")
    log_level: Literal["debug", "info", "warn", "error"] = Field(default="info", description="Log level.")
    metrics: Metrics = Field(default_factory=Metrics, description="Which Prometheus metrics to export.")


class CORS(_Model):
    """Cross-origin settings."""

    origins: list[str] = Field(default_factory=list, description="Allowed origins.")
    methods: list[str] = Field(default_factory=lambda: ["GET", "POST"], description="Allowed methods.")


class Expose(_Model):
    """Which endpoints are served and where."""

    rest: bool = Field(default=True, description="Serve POST /invoke.")
    streaming: Literal["sse", "websocket", "none"] = Field(
        default="sse", description="Token streaming transport."
    )
    port: Int = Field(default=8080, ge=1, le=65535, description="Port the server listens on.")
    host: str = Field(default="0.0.0.0", description="Bind address inside the function.")
    cors: CORS | None = Field(default=None, description="CORS; none unless set.")


class Metadata(_Open):
    """Free metadata; keys beyond these are allowed."""

    maintainer: str | None = Field(default=None, description="Who owns the agent.")
    version: str | None = Field(default=None, description="Human label for deployed versions.")
    tags: list[str] = Field(default_factory=list, description="Free tags.")


class LambdaDeploy(_Model):
    """AWS Lambda (container image, function URL, alias) settings."""

    region: str | None = Field(default=None, description="AWS region; default from the AWS chain.")
    function_name: str | None = Field(default=None, description="Function name; default the agent name.")
    memory_mb: Int = Field(default=1024, ge=128, le=10240, description="Memory in MB.")
    timeout_s: Int = Field(default=60, ge=1, le=900, description="Function timeout in seconds.")
    architecture: Literal["arm64", "x86_64"] = Field(default="arm64", description="CPU architecture.")
    ecr_repository: str | None = Field(default=None, description="ECR repository; default agentdock/<agent>.")
    alias: str = Field(default="live", description="Alias the function URL points at.")
    reserved_concurrency: OptInt = Field(default=None, ge=0, description="Reserved concurrency.")
    provisioned_concurrency: OptInt = Field(default=None, ge=0, description="Provisioned concurrency.")
    url_auth: Literal["none", "aws_iam"] = Field(default="none", description="Function URL AuthType.")
    role_arn: str | None = Field(
        default=None, description="Execution role; created least-privilege if unset."
    )


class KnativeDeploy(_Model):
    """Knative Serving settings."""

    namespace: str = Field(default="default", description="Kubernetes namespace.")
    registry: str | None = Field(default=None, description="Image registry.")
    min_scale: Int = Field(default=0, ge=0, description="autoscaling.knative.dev/min-scale.")
    max_scale: OptInt = Field(default=None, ge=1, description="autoscaling.knative.dev/max-scale.")
    container_concurrency: OptInt = Field(default=None, ge=0, description="Hard concurrency limit.")
    cpu: str | None = Field(default=None, description="CPU request/limit, e.g. '1'.")
    memory: str | None = Field(default=None, description="Memory, e.g. '512Mi'.")
    service_account: str | None = Field(default=None, description="Service account name.")
    timeout_s: Int = Field(
        default=300, ge=1, le=3600, description="Request timeout in seconds (revision timeoutSeconds)."
    )
    autoscaling_class: Literal["kpa", "hpa"] = Field(
        default="kpa", description="autoscaling.knative.dev/class: kpa (Knative) or hpa (Kubernetes HPA)."
    )
    metric: Literal["concurrency", "rps", "cpu", "memory"] = Field(
        default="concurrency",
        description="autoscaling.knative.dev/metric: concurrency|rps (kpa) or cpu|memory (hpa).",
    )
    target: OptInt = Field(
        default=None, ge=1, description="autoscaling.knative.dev/target: per-replica target of the metric."
    )


class CloudRunDeploy(_Model):
    """Google Cloud Run settings."""

    project: str | None = Field(default=None, description="GCP project id.")
    region: str | None = Field(default=None, description="Cloud Run region.")
    registry: str | None = Field(default=None, description="Artifact Registry path.")
    min_instances: Int = Field(default=0, ge=0, description="Minimum instances.")
    max_instances: OptInt = Field(default=None, ge=1, description="Maximum instances.")
    concurrency: OptInt = Field(default=None, ge=1, le=1000, description="Requests per instance.")
    cpu: str | None = Field(default=None, description="CPU limit, e.g. '1'.")
    memory: str | None = Field(default=None, description="Memory limit, e.g. '512Mi'.")
    cpu_boost: bool = Field(default=True, description="Startup CPU boost.")
    service_account: str | None = Field(default=None, description="Service account email.")
    ingress: Literal["all", "internal", "internal-and-cloud-load-balancing"] = Field(
        default="all", description="Ingress setting."
    )
    service: str | None = Field(default=None, description="Cloud Run service name; default the agent name.")
    timeout_s: Int = Field(default=300, ge=1, le=3600, description="Request timeout in seconds.")
    cpu_idle: bool = Field(
        default=True, description="CPU only during requests; false keeps CPU allocated (background flushes)."
    )
    execution_environment: Literal["gen1", "gen2"] = Field(
        default="gen2", description="Sandbox: gen2 (full Linux) or gen1."
    )
    allow_unauthenticated: bool = Field(
        default=False,
        description="Public: grant roles/run.invoker to allUsers (the agent's own auth still applies).",
    )
    session_affinity: bool = Field(
        default=False,
        description="Send a client's requests to the same instance (best effort), so stream resumes and run joins find their run.",
    )


class LocalDeploy(_Model):
    """Settings of the embedded local target."""

    port: Int = Field(default=8080, ge=1, le=65535, description="Stable port of the live version.")


class State(_Model):
    """Thread state for the LangGraph Server API (``/threads``): where checkpoints persist (v1.x)."""

    checkpointer: Literal["none", "memory", "store"] = Field(
        default="none",
        description=(
            "none: stateless runs only (threads answer 409); memory: threads live in this process; "
            "store: a LangGraph checkpointer on the metadata store's backend (sqlite://, postgresql://)."
        ),
    )
    url: str | None = Field(
        default=None,
        description="Checkpointer URL overriding the store's (sqlite:///path, postgresql://..., memory://).",
    )


class Deploy(_Model):
    """Per-target deploy settings (v1.x addition)."""

    store: str | None = Field(
        default=None, description="Metadata store URL (sqlite://, dynamodb://, postgresql://)."
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="VAR -> where it resolves at run time: env, aws-sm://name, ssm://name, k8s://secret/key, gcp-sm://secret[/version].",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "NAME -> plain, non-secret value every target sets in the function's environment"
            " (written into the function configuration, shown in plans). ${VAR} references resolve"
            " at deploy from --env, the environment, .env; secrets belong in deploy.secrets."
        ),
    )
    lambda_: LambdaDeploy | None = Field(default=None, alias="lambda", description="AWS Lambda settings.")
    knative: KnativeDeploy | None = Field(default=None, description="Knative settings.")
    cloudrun: CloudRunDeploy | None = Field(default=None, description="Cloud Run settings.")
    local: LocalDeploy | None = Field(default=None, description="Local target settings.")

    # populate_by_name lets Python code write Deploy(lambda_=...); Dockfile data is validated with
    # by_name=False so that only the key `lambda` is accepted, as in the JSON Schema.
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, regex_engine="python-re", populate_by_name=True
    )


class DockSpec(_Model):
    """A validated Dockfile. Frozen: build, runtime and targets all read the same value."""

    version: Literal["1.0", "1.1"] = Field(
        description="Dockfile format version: " + ", ".join(SUPPORTED_VERSIONS)
    )
    agent: Agent = Field(description="What to run.")
    model: Model = Field(description="The chat model the agent uses.")
    io_schema: IOSchema = Field(description="Input/output contract: inline schemas or pydantic classes.")
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="Adapter config: timeout_sec, max_retries, enable_streaming, ..."
    )
    policies: Policies = Field(default_factory=Policies, description="Tool gating and safety.")
    auth: Auth = Field(description="Authentication and authorization.")
    observability: Observability = Field(default_factory=Observability, description="Tracing, logs, metrics.")
    expose: Expose = Field(default_factory=Expose, description="Which endpoints are served.")
    metadata: Metadata = Field(default_factory=Metadata, description="Free metadata.")
    deploy: Deploy | None = Field(default=None, description="Per-target deploy settings (v1.x).")
    state: State = Field(default_factory=State, description="Thread state for the LangGraph API (v1.x).")

    def dump(self) -> dict[str, Any]:
        """The spec as plain JSON data, keys as written in a Dockfile (``deploy.lambda``)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @property
    def dns_name(self) -> str:
        return self.agent.name.replace("_", "-")

    def roles(self) -> dict[str, tuple[str, ...]]:
        if not self.auth.roles:
            return dict(DEFAULT_ROLES)
        return {r.name: tuple(r.permissions) for r in self.auth.roles}
