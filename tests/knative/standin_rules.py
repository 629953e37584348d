"""Admission for the Kubernetes API stand-in: the real Knative CRD schema plus Knative's webhook rules.

``crd_validator()`` turns the CRD's ``openAPIV3Schema`` (the verbatim copy in ``specs/``
or ``$AGENTDOCK_KNATIVE_CRD_SCHEMA``) into a JSON Schema a ``jsonschema`` validator runs:

* structural schemas reject unknown fields (what ``fieldValidation=Strict`` does; without it the API
  server would silently prune them), except under ``x-kubernetes-preserve-unknown-fields``;
* ``x-kubernetes-int-or-string`` becomes ``integer | string``;
* ``x-kubernetes-list-type: map`` / ``set`` become uniqueness checks (by the list-map keys);
* other ``x-kubernetes-*`` keys carry no validation here and are dropped.

``webhook_errors()`` adds the rules Knative's admission webhook enforces that a schema cannot say:
revision names prefixed by the Service name, traffic percents summing to 100, unique tags,
``revisionName`` xor ``latestRevision: true``, reserved env names, one container port.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

DEFAULT_SCHEMA = Path(__file__).resolve().parent / "specs" / "knative-serving-service-v1.openapi.json"
ENV_SCHEMA = "AGENTDOCK_KNATIVE_CRD_SCHEMA"
RESERVED_ENV = ("PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def schema_path() -> Path:
    return Path(os.environ.get(ENV_SCHEMA) or DEFAULT_SCHEMA)


def structural_to_jsonschema(node: Any) -> Any:
    """A JSON Schema (draft 2020-12 keywords) equivalent of one structural-schema node."""
    if isinstance(node, list):
        return [structural_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key == "description":
            continue
        if key == "properties":
            out[key] = {name: structural_to_jsonschema(sub) for name, sub in value.items()}
        elif (
            key in ("items", "additionalProperties", "not")
            and isinstance(value, dict)
            or key in ("anyOf", "allOf", "oneOf")
        ):
            out[key] = structural_to_jsonschema(value)
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["type"] = ["integer", "string"]
    if (
        out.get("type") == "object"
        and "properties" in out
        and "additionalProperties" not in out
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    list_type = node.get("x-kubernetes-list-type")
    if list_type == "set":
        out["uniqueItems"] = True
    elif list_type == "map":
        out["x-list-map-keys"] = list(node.get("x-kubernetes-list-map-keys") or [])
    return out


def _list_map_keys(validator: Any, keys: list[str], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if not isinstance(instance, list):
        return
    seen: set[str] = set()
    for item in instance:
        if isinstance(item, dict):
            key = json.dumps([item.get(k) for k in keys])
            if key in seen:
                yield jsonschema.ValidationError(f"duplicate entry for list-map keys {keys}: {key}")
            seen.add(key)


@lru_cache(maxsize=2)
def crd_validator(path: str | None = None) -> Any:
    raw = json.loads(Path(path or schema_path()).read_text(encoding="utf-8"))
    schema = structural_to_jsonschema(raw)
    schema.pop("$comment", None)
    base = jsonschema.Draft202012Validator
    cls = jsonschema.validators.extend(base, {"x-list-map-keys": _list_map_keys})
    cls.check_schema(schema)
    return cls(schema)


def schema_errors(obj: dict[str, Any]) -> list[str]:
    """Every CRD-schema violation of ``obj``, as ``path: message`` lines."""
    errors = sorted(crd_validator().iter_errors(obj), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors]


def webhook_errors(obj: dict[str, Any]) -> list[str]:
    """Knative admission rules for a Service (``serving.knative.dev/v1``)."""
    errors: list[str] = []
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    if obj.get("apiVersion") != "serving.knative.dev/v1" or obj.get("kind") != "Service":
        errors.append("apiVersion/kind: expected serving.knative.dev/v1 Service")
    if not DNS_LABEL.match(name) or len(name) > 63:
        errors.append(f"metadata.name: {name!r} is not a DNS-1035 label")
    spec = obj.get("spec") or {}
    template = spec.get("template") or {}
    rev = (template.get("metadata") or {}).get("name")
    if rev is not None and (not rev.startswith(name + "-") or len(rev) > 63):
        errors.append(f"spec.template.metadata.name: {rev!r} must start with {name + '-'!r} (63 chars max)")
    containers = (template.get("spec") or {}).get("containers") or []
    if len(containers) != 1:
        errors.append("spec.template.spec.containers: exactly one container (serving) expected here")
    for i, c in enumerate(containers):
        for env in c.get("env") or []:
            if env.get("name") in RESERVED_ENV:
                errors.append(f"spec.template.spec.containers[{i}].env: {env['name']} is reserved")
            if "value" in env and "valueFrom" in env:
                errors.append(
                    f"spec.template.spec.containers[{i}].env.{env.get('name')}: value and valueFrom"
                )
        if len(c.get("ports") or []) > 1:
            errors.append(f"spec.template.spec.containers[{i}].ports: at most one port")
    traffic = spec.get("traffic")
    if traffic:
        errors += _traffic_errors(traffic)
    return errors


def _traffic_errors(traffic: list[dict[str, Any]]) -> list[str]:
    errors: list[str] = []
    tags: set[str] = set()
    total = 0
    for i, t in enumerate(traffic):
        where = f"spec.traffic[{i}]"
        total += int(t.get("percent") or 0)
        if not 0 <= int(t.get("percent") or 0) <= 100:
            errors.append(f"{where}.percent: must be 0..100")
        latest = t.get("latestRevision")
        if t.get("revisionName") and latest:
            errors.append(f"{where}: revisionName and latestRevision: true are exclusive")
        if not t.get("revisionName") and latest is False:
            errors.append(f"{where}: latestRevision: false needs a revisionName")
        tag = t.get("tag")
        if tag is not None:
            if not DNS_LABEL.match(tag):
                errors.append(f"{where}.tag: {tag!r} is not a DNS label")
            if tag in tags:
                errors.append(f"{where}.tag: {tag!r} is used twice")
            tags.add(tag)
    if total != 100:
        errors.append(f"spec.traffic: percents sum to {total}, want 100")
    return errors
