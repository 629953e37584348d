"""Environment-variable names, in one place."""

ENV_STORE = "AGENTDOCK_STORE"  # metadata store URL
ENV_HOME = "AGENTDOCK_HOME"  # default ~/.agentdock
ENV_ACTOR = "AGENTDOCK_ACTOR"  # who is acting, for the audit log
ENV_KEY_PEPPER = "AGENTDOCK_KEY_PEPPER"  # server pepper for API key hashes
ENV_BOOTSTRAP_KEY_HASH = "AGENTDOCK_BOOTSTRAP_KEY_HASH"  # "key_id:role:hash", a key with no store
ENV_SPEC_PATH = "AGENTDOCK_SPEC"  # frozen spec JSON inside a function image
ENV_AGENT_VERSION = "AGENTDOCK_VERSION"  # deployed version number, reported by /health
ENV_ENCRYPTION_KEY = "AGENTDOCK_ENCRYPTION_KEY"  # envelope-encryption key for secrets at rest
ENV_PORT = "PORT"
