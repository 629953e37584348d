"""The CORS headers a browser client gets, wherever the agent runs: the runtime's middleware
(``security.middleware``) and the Lambda function URL's own CORS configuration
(``build.lambda_function``), which answers preflights before the function sees them."""

from __future__ import annotations

# What a browser client sends: auth, a JSON body, the API key, a trace id to continue, and
# Last-Event-ID when it rejoins a stream.
ALLOW_HEADERS = ("authorization", "content-type", "x-api-key", "x-trace-id", "last-event-id")
# What it may read: the trace id, rate-limit state, and where a LangGraph run lives
# (``Content-Location``: useStream's ``onCreated`` and run id; ``Location``: reconnecting a stream).
EXPOSE_HEADERS = (
    "content-location",
    "location",
    "x-trace-id",
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)
