"""A local stand-in for the Cloud Run Admin API v2 REST surface (and the Secret Manager version
read) that the real ``google-cloud-run`` client talks to over HTTP on 127.0.0.1.

It keeps services and revisions, answers long-running operations (done on their first poll), plays
the controller (a new template makes revision ``template.revision``; traffic must name existing
revisions and add up to 100; tags get URLs), keeps IAM policies with etags, fails on request, and
**validates every request** (query parameters against the method's, bodies against the schema)
with Google's own ``run.v2.json``. Tag URLs are served here too: ``GET <tag url>/health`` answers
200 (or 503 for a revision marked unhealthy), so a deploy's health gate runs over real HTTP.
The controller's rules and the state live in ``crrules``; the validator in ``crdiscovery``.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from crdiscovery import DiscoveryValidator, load_discovery, proto_enum_decoder
from crrules import (
    ApiError,
    Failure,
    Match,
    State,
    check_traffic,
    err,
    etag,
    make_revision,
    now,
    service_output,
)

SERVICE_TYPE = "type.googleapis.com/google.cloud.run.v2.Service"
_SYSTEM_PARAMS = {"$alt", "$.xgafv", "alt", "fields", "prettyPrint", "key", "quotaUser"}
_BASE = r"/v2/projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(_BASE + r"/services$"), "services.create"),
    ("GET", re.compile(_BASE + r"/services$"), "services.list"),
    ("GET", re.compile(_BASE + r"/services/(?P<service>[^/:]+):getIamPolicy$"), "services.getIamPolicy"),
    ("POST", re.compile(_BASE + r"/services/(?P<service>[^/:]+):setIamPolicy$"), "services.setIamPolicy"),
    ("GET", re.compile(_BASE + r"/services/(?P<service>[^/:]+)$"), "services.get"),
    ("PATCH", re.compile(_BASE + r"/services/(?P<service>[^/:]+)$"), "services.patch"),
    ("DELETE", re.compile(_BASE + r"/services/(?P<service>[^/:]+)$"), "services.delete"),
    ("GET", re.compile(_BASE + r"/services/(?P<service>[^/]+)/revisions$"), "services.revisions.list"),
    ("GET", re.compile(_BASE + r"/services/(?P<service>[^/]+)/revisions/(?P<rev>[^/]+)$"), "services.revisions.get"),
    ("GET", re.compile(_BASE + r"/operations/(?P<op>[^/]+)$"), "operations.get"),
]  # fmt: skip
_SECRET = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)/versions/(?P<version>[^/]+)$"
)
_SERVE = re.compile(r"^/_serve/(?P<service>[^/]+)/(?P<tag>[^/]+)/health$")


class CloudRunStandIn:
    """``with CloudRunStandIn() as api: client = CloudRunClient(endpoint=api.endpoint)``."""

    def __init__(self) -> None:
        self.validator = DiscoveryValidator(load_discovery(), enum_decoder=proto_enum_decoder)
        self.state = State()
        self.lock = threading.RLock()
        self._seq = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> CloudRunStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- test controls ---------------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int = 500,
        message: str = "injected failure",
        *,
        times: int = 1,
        match: Match | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (e.g. ``services.patch``) for which ``match(query,
        body)`` holds (any, without it) answer ``status``."""
        self.state.failures.setdefault(method, []).extend([Failure(status, message, match)] * times)

    def add_secret(self, project: str, secret: str, states: tuple[str, ...] = ("ENABLED",)) -> None:
        self.state.secrets[(project, secret)] = list(states)

    def invalid_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.state.requests if r["errors"]]

    def bodies(self, method: str) -> list[Any]:
        return [r["body"] for r in self.state.requests if r["method"] == method]

    # --- dispatch --------------------------------------------------------------------------

    def handle(self, verb: str, raw_path: str, raw_body: bytes) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if verb == "GET" and (m := _SERVE.match(parts.path)):
            return self._serve(m["service"], m["tag"])
        if verb == "GET" and (m := _SECRET.match(parts.path)):
            return self._secret(m["project"], m["secret"], m["version"])
        for route_verb, pattern, method in ROUTES:  # noqa: B007 (used after the loop)
            match = pattern.match(parts.path)
            if match and route_verb == verb:
                break
        else:
            return 404, err(404, f"no route {verb} {parts.path}")
        body = json.loads(raw_body) if raw_body else None
        record: dict[str, Any] = {"method": method, "path": parts.path, "query": query, "body": body}
        with self.lock:
            record["errors"] = errors = self._validate(method, query, body)
            self.state.requests.append(record)
            if errors:
                return 400, err(400, "request does not match run.v2.json: " + "; ".join(errors))
            queued = self.state.failures.get(method) or []
            hit = next((f for f in queued if f.match is None or f.match(query, body)), None)
            if hit is not None:
                queued.remove(hit)
                return hit.status, err(hit.status, hit.message)
            try:
                return 200, getattr(self, "_" + method.replace(".", "_"))(match, query, self._normal)
            except ApiError as exc:
                return exc.status, err(exc.status, exc.message)

    def _validate(self, method: str, query: dict[str, str], body: Any) -> list[str]:
        spec = self.validator.method("run.projects.locations." + method)
        allowed = set(spec.get("parameters", {})) | _SYSTEM_PARAMS
        errors = [f"query parameter {k!r} is not a parameter of {method}" for k in query if k not in allowed]
        request = spec.get("request")
        if request is None and body not in (None, {}):
            errors.append(f"{method} takes no body")
        normal = None
        if request is not None:
            found, normal = self.validator.check(
                request["$ref"],
                body if body is not None else {},
                int_enums="enum-encoding=int" in query.get("$alt", ""),
            )
            errors += found
        self._normal: Any = normal if request is not None else None  # read by the handler, under the lock
        return errors

    # --- services --------------------------------------------------------------------------

    def _services_create(self, m: re.Match[str], q: dict[str, str], _: Any) -> dict[str, Any]:
        name = f"projects/{m['project']}/locations/{m['region']}/services/{q.get('serviceId', '')}"
        if not q.get("serviceId"):
            raise ApiError(400, "serviceId is required")
        if name in self.state.services:
            raise ApiError(409, f"service {name} already exists")
        return self._apply(name, None, copy.deepcopy(self._normal), q, ())

    def _services_patch(self, m: re.Match[str], q: dict[str, str], _: Any) -> dict[str, Any]:
        name = f"projects/{m['project']}/locations/{m['region']}/services/{m['service']}"
        live = self.state.services.get(name)
        if live is None:
            raise ApiError(404, f"service {name} not found")
        body = copy.deepcopy(self._normal)
        if body.get("etag") and body["etag"] != live["etag"]:
            raise ApiError(409, f"etag {body['etag']} does not match {live['etag']}: the service changed")
        mask = tuple(p for p in q.get("updateMask", "").split(",") if p)
        return self._apply(name, live, body, q, mask)

    def _apply(
        self,
        name: str,
        live: dict[str, Any] | None,
        body: dict[str, Any],
        q: dict[str, str],
        mask: tuple[str, ...],
    ) -> dict[str, Any]:
        """Create or update ``name``: a changed template makes a revision, traffic is checked."""
        new = {k: v for k, v in (live or {}).items()}
        for key, value in body.items():
            if key in ("name", "etag"):
                continue
            if not mask or key in mask:
                new[key] = value
        service_id = name.rsplit("/", 1)[1]
        tpl = new.get("template") or {}
        rev_id = tpl.get("revision") or f"{service_id}-{next(self._seq):05d}-auto"
        rev_name = f"{name}/revisions/{rev_id}"
        creating = rev_name not in self.state.revisions
        if not creating and self.state.templates[rev_name] != tpl:
            raise ApiError(409, f"revision {rev_id} already exists with a different template")
        known = {r.rsplit("/", 1)[1] for r in self.state.revisions if r.startswith(name + "/")} | {rev_id}
        check_traffic(new.get("traffic") or [], known)
        if q.get("validateOnly") == "true":
            return self._operation(name, service_output(self.endpoint, name, new, live, rev_id), done=True)
        failure = self.state.failing_revisions.pop(rev_id, None) if creating else None
        if creating:
            make_revision(self.state, name, rev_id, tpl, failure)
        if failure is not None:  # the revision exists (failed); the service keeps its old traffic
            if live is not None:
                live["latestCreatedRevision"] = rev_name
            return self._operation(name, None, error=f"Revision '{rev_id}' is not ready: {failure}")
        service = service_output(self.endpoint, name, new, live, rev_id)
        self.state.services[name] = service
        self.state.policies.setdefault(name, {"version": 1, "etag": etag(0), "bindings": []})
        return self._operation(name, service)

    def _operation(
        self, name: str, service: dict[str, Any] | None, *, done: bool = False, error: str | None = None
    ) -> dict[str, Any]:
        op_name = name.split("/services/")[0] + f"/operations/{uuid.uuid4()}"
        op: dict[str, Any] = {"name": op_name, "done": False}
        if not done and self.state.pending_operations > 0:
            self.state.pending_operations -= 1
            op["never"] = True
        elif error is not None:
            op["final"] = {"done": True, "error": {"code": 9, "message": error}}
        else:
            snapshot = {"@type": SERVICE_TYPE, **copy.deepcopy(service or {})}
            op["final"] = {"done": True, "response": snapshot}
            op["metadata"] = snapshot
        self.state.operations[op_name] = op
        return self._operations_view(op) if not done else {"name": op_name, **op["final"]}

    def _operations_view(self, op: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in op.items() if k in ("name", "done", "metadata")}

    def _operations_get(self, m: re.Match[str], q: dict[str, str], _: Any) -> dict[str, Any]:
        op_name = f"projects/{m['project']}/locations/{m['region']}/operations/{m['op']}"
        op = self.state.operations.get(op_name)
        if op is None:
            raise ApiError(404, f"operation {op_name} not found")
        if op.get("never"):
            return self._operations_view(op)
        return {"name": op_name, **op["final"]}

    def _services_get(self, m: re.Match[str], q: dict[str, str], _: Any) -> dict[str, Any]:
        name = f"projects/{m['project']}/locations/{m['region']}/services/{m['service']}"
        if name not in self.state.services:
            raise ApiError(404, f"service {name} not found")
        return self.state.services[name]

    def _services_list(self, m: re.Match[str], q: dict[str, str], _: Any) -> dict[str, Any]:
        prefix = f"projects/{m['project']}/locations/{m['region']}/services/"
        return {"services": [s for n, s in self.state.services.items() if n.startswith(prefix)]}

    def _services_delete(self, m: re.Match[str], q: dict[str, str], _: Any) -> dict[str, Any]:
        name = f"projects/{m['project']}/locations/{m['region']}/services/{m['service']}"
        service = self.state.services.pop(name, None)
        if service is None:
            raise ApiError(404, f"service {name} not found")
        for rev in [r for r in self.state.revisions if r.startswith(name + "/")]:
            del self.state.revisions[rev]
        self.state.policies.pop(name, None)
        return self._operation(name, service)

    def _services_revisions_list(self, m: re.Match[str], q: dict[str, str], _: Any) -> dict[str, Any]:
        prefix = f"projects/{m['project']}/locations/{m['region']}/services/{m['service']}/revisions/"
        return {"revisions": [r for n, r in self.state.revisions.items() if n.startswith(prefix)]}

    def _services_revisions_get(self, m: re.Match[str], q: dict[str, str], _: Any) -> dict[str, Any]:
        name = f"projects/{m['project']}/locations/{m['region']}/services/{m['service']}/revisions/{m['rev']}"
        if name not in self.state.revisions:
            raise ApiError(404, f"revision {name} not found")
        return self.state.revisions[name]

    # --- IAM -------------------------------------------------------------------------------

    def _services_getIamPolicy(self, m: re.Match[str], q: dict[str, str], _: Any) -> dict[str, Any]:  # noqa: N802
        name = f"projects/{m['project']}/locations/{m['region']}/services/{m['service']}"
        if name not in self.state.policies:
            raise ApiError(404, f"service {name} not found")
        policy = self.state.policies[name]
        return {k: v for k, v in policy.items() if k != "bindings" or v}

    def _services_setIamPolicy(self, m: re.Match[str], q: dict[str, str], _: Any) -> dict[str, Any]:  # noqa: N802
        name = f"projects/{m['project']}/locations/{m['region']}/services/{m['service']}"
        current = self.state.policies.get(name)
        if current is None:
            raise ApiError(404, f"service {name} not found")
        policy = self._normal.get("policy", {})
        if policy.get("etag") and policy["etag"] != current["etag"]:
            raise ApiError(409, "the policy changed meanwhile (etag mismatch)")
        count = int(base64.b64decode(current["etag"]).decode() or "0") + 1
        self.state.policies[name] = {
            "version": 1,
            "etag": etag(count),
            "bindings": policy.get("bindings", []),
        }
        return self._services_getIamPolicy(m, q, None)

    # --- Secret Manager and serving --------------------------------------------------------

    def _secret(self, project: str, secret: str, version: str) -> tuple[int, Any]:
        states = self.state.secrets.get((project, secret))
        with self.lock:
            self.state.requests.append(
                {
                    "method": "secrets.versions.get",
                    "path": f"{secret}/{version}",
                    "query": {},
                    "body": None,
                    "errors": [],
                }
            )
        number = len(states) if states and version == "latest" else int(version) if version.isdigit() else 0
        if not states or not 1 <= number <= len(states):
            return 404, err(404, f"Secret [projects/{project}/secrets/{secret}] version {version} not found")
        name = f"projects/{project}/secrets/{secret}/versions/{number}"
        return 200, {"name": name, "state": states[number - 1], "createTime": now()}

    def _serve(self, service_id: str, tag: str) -> tuple[int, Any]:
        with self.lock:
            service = next(
                (s for n, s in self.state.services.items() if n.endswith("/services/" + service_id)), None
            )
            entries = (service or {}).get("traffic") or []
            if tag == "-":
                entry = max(entries, key=lambda t: int(t.get("percent", 0)), default=None)
            else:
                entry = next((t for t in entries if t.get("tag") == tag), None)
        if entry is None:
            return 404, {"error": f"no route for {service_id}/{tag}"}
        revision = entry["revision"]
        if revision in self.state.unhealthy:
            return 503, {"status": "unhealthy", "revision": revision}
        return 200, {"status": "ok", "revision": revision}


def _handler(api: CloudRunStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _do(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, payload = api.handle(self.command, self.path, raw)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _do  # noqa: N815

        def log_message(self, *args: Any) -> None:  # quiet
            return

    return Handler


if __name__ == "__main__":  # python tests/cloudrun/crstandin.py PROJECT [SECRET ...]: serve until Ctrl-C
    import sys
    import time

    with CloudRunStandIn() as stand_in:
        for name in sys.argv[2:]:
            stand_in.add_secret(sys.argv[1], name)
        print(stand_in.endpoint, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
