"""Connecting to a cluster, and reading the API server's answers and errors.

``connect`` builds the ``ApiClient``: the kubeconfig context (``$KUBECONFIG`` or ``~/.kube/config``,
``--context``), else the in-cluster service account. ``api_message``/``hint_for`` turn an
``ApiException`` into a one-line cause and the fix.
"""

from __future__ import annotations

import json
import os
from typing import Any

from agentdock.errors import ClusterCallFailed
from agentdock.settings import ENV_KUBECONFIG


def connect(*, context: str | None = None, kubeconfig: str | None = None) -> Any:
    """An ``ApiClient`` for the kubeconfig context (default: the current one), else in-cluster.
    ``$KUBECONFIG`` is read now: the kubernetes client reads it once, when first imported."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    path = kubeconfig or os.environ.get(ENV_KUBECONFIG) or None
    try:
        return config.new_client_from_config(config_file=path, context=context)
    except (ConfigException, OSError, TypeError) as exc:
        if context or kubeconfig:
            raise ClusterCallFailed(
                "--context" if context else "kubeconfig",
                f"cannot load the kubeconfig ({exc})",
                hint="check `kubectl config get-contexts` and --context, or set KUBECONFIG",
            ) from exc
        try:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException as exc2:
            raise ClusterCallFailed(
                "kubeconfig",
                f"no kubeconfig and not running in a cluster ({exc}; {exc2})",
                hint="set KUBECONFIG or pass --context NAME",
            ) from exc2
        return client.ApiClient(configuration)


def as_obj(value: object) -> dict[str, Any]:
    """A JSON object from the API (the client types custom objects as ``object``)."""
    if not isinstance(value, dict):
        raise ClusterCallFailed("response", f"expected a JSON object, got {type(value).__name__}")
    return value


def api_message(exc: Any) -> str:
    detail = ""
    try:
        body = json.loads(exc.body or "{}")
        detail = body.get("message") or ""
    except (ValueError, TypeError, AttributeError):
        detail = str(exc.body or "")[:300]
    return f"HTTP {exc.status} {exc.reason}" + (f": {detail}" if detail else "")


def hint_for(status: int | None) -> str | None:
    return {
        401: "the kubeconfig credentials were refused: refresh them (kubectl get ns should work)",
        403: "the kubeconfig user lacks RBAC on services.serving.knative.dev in this namespace",
        404: "is Knative Serving installed (kubectl get crd services.serving.knative.dev) and the namespace there?",
        422: "the cluster rejected the manifest: see the message for the field",
    }.get(status or 0)
