"""Environment-variable names, in one place."""

ENV_STORE = "AGENTDOCK_STORE"  # metadata store URL
ENV_SHARED_RATE_LIMIT = "AGENTDOCK_SHARED_RATE_LIMIT"  # "1": count rate limits in the store whatever its kind
ENV_HOME = "AGENTDOCK_HOME"  # default ~/.agentdock
ENV_ACTOR = "AGENTDOCK_ACTOR"  # who is acting, for the audit log
ENV_KEY_PEPPER = "AGENTDOCK_KEY_PEPPER"  # server pepper for API key hashes
ENV_BOOTSTRAP_KEY_HASH = "AGENTDOCK_BOOTSTRAP_KEY_HASH"  # "key_id:role:hash", a key with no store
ENV_SPEC_PATH = "AGENTDOCK_SPEC"  # frozen spec JSON inside a function image
ENV_AGENT_VERSION = "AGENTDOCK_VERSION"  # deployed version number, reported by /health
ENV_ENCRYPTION_KEY = "AGENTDOCK_ENCRYPTION_KEY"  # envelope-encryption key for secrets at rest
ENV_PORT = "PORT"

# [FRAMEWORK] chat model selection (agentdock.testing.fake_chat.select_chat_model)
ENV_FAKE_MODEL = "AGENTDOCK_FAKE_MODEL"  # "1" forces the offline FakeChatModel even when a key is set
ENV_OPENAI_API_KEY = "OPENAI_API_KEY"
ENV_AZURE_OPENAI_API_KEY = "AZURE_OPENAI_API_KEY"
ENV_ANTHROPIC_API_KEY = "ANTHROPIC_API_KEY"
ENV_GOOGLE_API_KEY = "GOOGLE_API_KEY"
ENV_OLLAMA_HOST = "OLLAMA_HOST"

# [STORE] metadata store
ENV_AWS_ENDPOINT_URL = "AWS_ENDPOINT_URL"  # boto3's standard override; the DynamoDB store honours it too
ENV_AWS_ENDPOINT_URL_DYNAMODB = "AWS_ENDPOINT_URL_DYNAMODB"  # service-specific override (wins)

# [RUNTIME] runtime core
ENV_DOCKFILE = "AGENTDOCK_DOCKFILE"  # Dockfile path for `agentdock serve --reload` (the reloader's factory)
ENV_SECRETS_DIR = "AGENTDOCK_SECRETS_DIR"  # where k8s://secret/key files are mounted
DEFAULT_SECRETS_DIR = "/var/run/secrets/agentdock"

# [BUILD] build contexts and the local target
ENV_WHEEL = "AGENTDOCK_WHEEL"  # agentdock wheel a build context carries instead of one built from here
ENV_CACHE = "AGENTDOCK_CACHE"  # wheel / lock / preflight-env cache (default ~/.cache/agentdock)
ENV_INDEX_URL = "AGENTDOCK_INDEX_URL"  # package index the lock resolves against (default PyPI)

# [LAMBDA] AWS Lambda target (function environment it sets)
ENV_CONTENT_HASH = "AGENTDOCK_CONTENT_HASH"  # content hash of the deployed build context
ENV_SECRET_REFS = "AGENTDOCK_SECRET_REFS"  # JSON {VAR: ref} of deploy.secrets: references, never values
ENV_LWA_INVOKE_MODE = "AWS_LWA_INVOKE_MODE"  # Lambda Web Adapter: buffered | response_stream
ENV_KUBECONFIG = "KUBECONFIG"  # the kubeconfig path list (knative target); read at call time
