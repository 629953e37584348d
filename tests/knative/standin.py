"""A Kubernetes API server stand-in on 127.0.0.1 that the real ``kubernetes`` client talks to.

It serves what the Knative target uses, over plain HTTP (a WSGI app on werkzeug's threaded server):

* ``serving.knative.dev/v1`` Services (get/list/create/replace/merge-patch/delete) and Revisions
  (get/list/delete), core ``v1`` Secrets (get/create/delete);
* ``resourceVersion`` on every object: a replace or patch carrying a stale one gets 409 Conflict;
  ``?dryRun=All`` runs admission and answers the would-be object without storing it;
* ``?watch=true`` streams JSON-line events (existing objects as ADDED first), honouring
  ``fieldSelector=metadata.name=...`` and ``timeoutSeconds``;
* admission: EVERY Service it receives is validated against the real Knative CRD schema and the
  webhook rules (``standin_rules``); an invalid one is refused with 422 and recorded in ``invalid``;
* the Knative controller: a new ``spec.template`` creates its Revision, which becomes Ready (or, as
  asked through ``revision_mode``, never Ready, or fails with a reason and message); the Route
  fills ``status.traffic[].url`` and ``status.url`` once every revision it names is Ready;
* routes: ``GET <status url>/health`` answers as the revision would (``{"version": AGENTDOCK_VERSION}``),
  or 503 when the revision was made ``unhealthy``.

Modules: this one (the server, storage, watches, routes), ``standin_controller`` (the Knative
controller), ``standin_rules`` (admission: CRD schema + webhook rules), ``standin_wire`` (HTTP bits).

``fail_next(method, plural)`` makes the next matching request fail with a 500 (a fault injector).
What it does not do: run the image, schedule pods, scale, program an ingress.

Run alone: ``python tests/knative/standin.py KUBECONFIG_PATH`` (prints the URL; Ctrl-C stops).
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import yaml
from standin_controller import KnativeController
from standin_rules import schema_errors, webhook_errors
from standin_wire import (
    KREV,
    KSVC,
    SECRETS,
    Fault,
    Quiet,
    Reject,
    Start,
    State,
    field_name,
    json_response,
    line,
    merge,
    parse,
    read_json,
    status_body,
)
from werkzeug.serving import BaseWSGIServer, make_server


class KubeStandIn:
    """The server; ``start()`` binds 127.0.0.1:0, ``kubeconfig(path)`` writes a config for it."""

    def __init__(self) -> None:
        self.state = State()
        self.cond = threading.Condition()
        self.server: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None
        self.url = ""
        self.stopped = False
        self.controller = KnativeController(self)

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> KubeStandIn:
        # werkzeug's threaded server speaks HTTP/1.1 and sends a generator body chunked, as the API
        # server streams a watch (the client reads chunk by chunk; HTTP/1.0 would buffer to EOF).
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped = True
        with self.cond:
            self.state.rv += 1
            self.cond.notify_all()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def kubeconfig(self, path: Path, *, context: str = "standin", namespace: str = "default") -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "standin", "cluster": {"server": self.url}}],
            "users": [{"name": "standin", "user": {"token": "standin-token"}}],
            "contexts": [
                {
                    "name": context,
                    "context": {"cluster": "standin", "user": "standin", "namespace": namespace},
                }
            ],
            "current-context": context,
        }
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    # --- test controls -----------------------------------------------------------------------
    def revision_mode(self, revision: str, mode: str, reason: str = "", message: str = "") -> None:
        """``ready`` (default), ``never`` (stays Unknown), ``fail`` (Ready False), ``unhealthy`` (Ready,
        but its /health answers 503)."""
        with self.cond:
            self.state.modes[revision] = (mode, reason, message)

    def fail_next(self, method: str, plural: str, status: int = 500, count: int = 1, after: int = 0) -> None:
        with self.cond:
            self.state.faults.append(Fault(method.upper(), plural, status, count, after))

    def put_secret(self, namespace: str, name: str, data: dict[str, str]) -> None:
        import base64

        body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace}}
        body["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        with self.cond:
            self.store_object(SECRETS, namespace, name, body, "ADDED")

    def get(self, kind: tuple[str, str], namespace: str, name: str) -> dict[str, Any] | None:
        with self.cond:
            obj = self.state.objects.get((*kind, namespace, name))
            return copy.deepcopy(obj) if obj else None

    # --- WSGI --------------------------------------------------------------------------------
    def app(self, environ: dict[str, Any], start: Start) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            if path.startswith("/_route/"):
                return self._route(path, start)
            kind, namespace, name = parse(path)
            with self.cond:
                self.state.requests.append((method, path))
                self._fault(method, kind[1])
            if method == "GET" and name is None and query.get("watch") in ("true", "1"):
                return self._watch(kind, namespace, query, start)
            body = read_json(environ) if method in ("POST", "PUT", "PATCH") else None
            with self.cond:
                code, obj = self._handle(method, kind, namespace, name, query, body, environ)
            return json_response(start, code, obj)
        except Reject as exc:
            return json_response(start, exc.code, status_body(exc.code, exc.reason, exc.message))

    def _fault(self, method: str, plural: str) -> None:
        for fault in self.state.faults:
            if fault.method == method and fault.plural == plural and fault.count > 0:
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.count -= 1
                raise Reject(fault.status, "InternalError", f"injected fault on {method} {plural}")

    def _handle(
        self,
        method: str,
        kind: tuple[str, str],
        ns: str,
        name: str | None,
        query: dict[str, str],
        body: Any,
        environ: dict[str, Any],
    ) -> tuple[int, dict[str, Any]]:
        dry = query.get("dryRun") == "All"
        key = (*kind, ns, name or "")
        if method == "GET" and name is None:
            items = [copy.deepcopy(o) for o in self._list(kind, ns, query)]
            return 200, {
                "kind": "List",
                "apiVersion": kind[0],
                "metadata": {"resourceVersion": str(self.state.rv)},
                "items": items,
            }
        if method == "GET":
            return 200, copy.deepcopy(self._existing(key))
        if method == "DELETE":
            obj = self._existing(key)
            if not dry:
                self._delete(kind, ns, name or "")
            return 200, status_body(200, "", "deleted") | {
                "status": "Success",
                "details": {"name": obj["metadata"]["name"]},
            }
        if method == "POST":
            if not isinstance(body, dict):
                raise Reject(400, "BadRequest", "body must be a JSON object")
            new_name = (body.get("metadata") or {}).get("name") or ""
            if (*kind, ns, new_name) in self.state.objects:
                raise Reject(409, "AlreadyExists", f'{kind[1]} "{new_name}" already exists')
            return 201, self._write(kind, ns, new_name, body, None, dry)
        current = self._existing(key)
        if method == "PATCH":
            ctype = environ.get("CONTENT_TYPE", "")
            if "merge-patch" not in ctype and "strategic-merge-patch" not in ctype:
                raise Reject(415, "UnsupportedMediaType", f"patch type {ctype!r}: merge patches only here")
            body = merge(copy.deepcopy(current), body)
        if not isinstance(body, dict):
            raise Reject(400, "BadRequest", "body must be a JSON object")
        sent_rv = (body.get("metadata") or {}).get("resourceVersion")
        if method == "PUT" and not sent_rv:
            raise Reject(422, "Invalid", "metadata.resourceVersion: must be specified for an update")
        if sent_rv and sent_rv != current["metadata"]["resourceVersion"]:
            raise Reject(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {kind[1]} "{name}": the object has been modified; please apply your changes to the latest version and try again',
            )
        return 200, self._write(kind, ns, name or "", body, current, dry)

    def _existing(self, key: tuple[str, str, str, str]) -> dict[str, Any]:
        obj = self.state.objects.get(key)
        if obj is None:
            raise Reject(404, "NotFound", f'{key[1]} "{key[3]}" not found')
        return obj

    def _list(self, kind: tuple[str, str], ns: str, query: dict[str, str]) -> list[dict[str, Any]]:
        want = field_name(query)
        return [
            o
            for (g, p, n, name), o in sorted(self.state.objects.items())
            if (g, p) == kind and n == ns and (want is None or name == want)
        ]

    def _write(
        self,
        kind: tuple[str, str],
        ns: str,
        name: str,
        body: dict[str, Any],
        current: dict[str, Any] | None,
        dry: bool,
    ) -> dict[str, Any]:
        obj = copy.deepcopy(body)
        obj.pop("status", None)
        meta = obj.setdefault("metadata", {})
        meta["name"], meta["namespace"] = name, ns
        if kind == KSVC:
            self.state.received.append(copy.deepcopy(obj))
            errors = schema_errors(obj) + webhook_errors(obj)
            if current is None or current["spec"].get("template") != obj["spec"].get("template"):
                errors += self.controller.revision_conflict(ns, obj)
            if errors:
                self.state.invalid.append((copy.deepcopy(obj), errors))
                raise Reject(422, "Invalid", f'Service "{name}" is invalid: ' + "; ".join(errors))
        if dry:
            meta.setdefault("resourceVersion", (current or {}).get("metadata", {}).get("resourceVersion", ""))
            return obj
        if current is not None:
            meta["uid"] = current["metadata"]["uid"]
            meta["creationTimestamp"] = current["metadata"]["creationTimestamp"]
            changed = current.get("spec") != obj.get("spec")
            meta["generation"] = current["metadata"].get("generation", 1) + (1 if changed else 0)
            obj["status"] = current.get("status", {})
        else:
            meta["generation"] = 1
        stored = self.store_object(kind, ns, name, obj, "MODIFIED" if current else "ADDED")
        if kind == KSVC:
            self.controller.reconcile(ns, name)
        return copy.deepcopy(self.state.objects[(*kind, ns, name)] if kind == KSVC else stored)

    def store_object(
        self, kind: tuple[str, str], ns: str, name: str, obj: dict[str, Any], event: str
    ) -> dict[str, Any]:
        self.state.rv += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self.state.rv)
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        self.state.objects[(*kind, ns, name)] = obj
        self.state.events.append((self.state.rv, event, kind, ns, copy.deepcopy(obj)))
        self.cond.notify_all()
        return obj

    def _delete(self, kind: tuple[str, str], ns: str, name: str) -> None:
        obj = self.state.objects.pop((*kind, ns, name))
        self.state.rv += 1
        self.state.events.append((self.state.rv, "DELETED", kind, ns, obj))
        if kind == KSVC:  # owned revisions go with their Service
            for key in [k for k in self.state.objects if k[:3] == (*KREV, ns) and self._owner(k) == name]:
                self._delete(KREV, ns, key[3])
        self.cond.notify_all()

    def _owner(self, key: tuple[str, str, str, str]) -> str:
        return self.state.objects[key]["metadata"].get("labels", {}).get("serving.knative.dev/service", "")

    # --- watch and routes --------------------------------------------------------------------
    def _watch(self, kind: tuple[str, str], ns: str, query: dict[str, str], start: Start) -> Iterator[bytes]:
        timeout = float(query.get("timeoutSeconds") or 30)
        want = field_name(query)
        with self.cond:
            since = int(query.get("resourceVersion") or 0)
            initial = [] if since else [copy.deepcopy(o) for o in self._list(kind, ns, query)]
            since = since or self.state.rv
        start("200 OK", [("Content-Type", "application/json")])

        def stream() -> Iterator[bytes]:
            for obj in initial:
                yield line("ADDED", obj)
            deadline, cursor = time.monotonic() + timeout, since
            while time.monotonic() < deadline and not self.stopped:
                with self.cond:
                    fresh = [e for e in self.state.events if e[0] > cursor]
                    if not fresh:
                        self.cond.wait(min(0.5, max(0.0, deadline - time.monotonic())))
                        continue
                cursor = fresh[-1][0]
                for _rv, event, k, n, obj in fresh:
                    if k == kind and n == ns and (want is None or obj["metadata"]["name"] == want):
                        yield line(event, obj)
                if self.stopped:
                    return

        return stream()

    def _route(self, path: str, start: Start) -> Iterable[bytes]:
        parts = path.split("/")[2:]  # ns, svc, [tag], rest...
        ns, name = parts[0], parts[1]
        rest = parts[2:]
        with self.cond:
            svc = self.state.objects.get((*KSVC, ns, name))
            traffic = (svc or {}).get("status", {}).get("traffic") or []
            tag = rest[0] if rest and any(t.get("tag") == rest[0] for t in traffic) else None
            chosen = (
                [t for t in traffic if t.get("tag") == tag]
                if tag
                else sorted(traffic, key=lambda t: -t.get("percent", 0))[:1]
            )
            if not chosen:
                return json_response(start, 404, {"error": "no route"})
            rev = self.state.objects.get((*KREV, ns, chosen[0]["revisionName"]))
            mode = self.state.modes.get(chosen[0]["revisionName"], ("ready", "", ""))[0]
        if rev is None:
            return json_response(start, 503, {"error": "revision missing"})
        env = {e["name"]: e.get("value") for e in rev["spec"]["containers"][0].get("env", [])}
        if mode == "unhealthy":
            return json_response(start, 503, {"status": "unhealthy"})
        return json_response(
            start,
            200,
            {"status": "ok", "version": env.get("AGENTDOCK_VERSION"), "revision": rev["metadata"]["name"]},
        )


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    standin = KubeStandIn().start()
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "standin.kubeconfig")
    standin.kubeconfig(target)
    print(f"stand-in at {standin.url}; kubeconfig: {target}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        standin.stop()
