"""The Knative controller the API stand-in plays (``standin.py``): a Service's new template creates its
Revision, which becomes Ready after ``READY_DELAY_S`` (or, as a test asked through ``revision_mode``,
never, or fails with a reason, or is Ready but unhealthy); the Route fills ``status.traffic[].url`` and
``status.url`` once every revision it names is Ready, and keeps the last good traffic otherwise.
A failed revision whose cause went away recovers on the next write, as Knative retries a rollout."""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any

from standin_wire import KREV, KSVC, cond

if TYPE_CHECKING:
    from standin import KubeStandIn

READY_DELAY_S = 0.05


class KnativeController:
    def __init__(self, api: KubeStandIn) -> None:
        self.api = api

    def revision_conflict(self, ns: str, svc: dict[str, Any]) -> list[str]:
        template = svc["spec"].get("template") or {}
        rev = (template.get("metadata") or {}).get("name")
        existing = self.api.state.objects.get((*KREV, ns, rev or ""))
        if existing and existing["spec"] != template.get("spec"):
            return [
                f"spec.template: saw changes without a name change (revision {rev} exists with another spec)"
            ]
        return []

    def reconcile(self, ns: str, name: str) -> None:
        svc = self.api.state.objects[(*KSVC, ns, name)]
        template = svc["spec"]["template"]
        rev = template["metadata"]["name"]
        if (*KREV, ns, rev) not in self.api.state.objects:
            labels = {
                **template["metadata"].get("labels", {}),
                "serving.knative.dev/service": name,
                "serving.knative.dev/configuration": name,
            }
            revision = {
                "apiVersion": "serving.knative.dev/v1",
                "kind": "Revision",
                "metadata": {
                    "name": rev,
                    "namespace": ns,
                    "labels": labels,
                    "annotations": dict(template["metadata"].get("annotations", {})),
                },
                "spec": copy.deepcopy(template["spec"]),
                "status": {"conditions": [cond("Ready", "Unknown", "Deploying", "")]},
            }
            self.api.store_object(KREV, ns, rev, revision, "ADDED")
            mode = self.api.state.modes.get(rev, ("ready", "", ""))
            if mode[0] != "never":
                threading.Timer(READY_DELAY_S, self._settle, args=(ns, rev, mode)).start()
        elif self._ready(ns, rev) != "True" and self.api.state.modes.get(rev, ("ready",))[0] in (
            "ready",
            "unhealthy",
        ):
            # the cause went away (e.g. the image was pushed): Knative retries, the revision recovers
            if self._ready(ns, rev) == "False":
                retry = copy.deepcopy(self.api.state.objects[(*KREV, ns, rev)])
                retry["status"]["conditions"] = [cond("Ready", "Unknown", "Deploying", "")]
                self.api.store_object(KREV, ns, rev, retry, "MODIFIED")
            mode = self.api.state.modes.get(rev, ("ready", "", ""))
            threading.Timer(READY_DELAY_S, self._settle, args=(ns, rev, mode)).start()
        self._route_status(ns, name)

    def _settle(self, ns: str, rev: str, mode: tuple[str, str, str]) -> None:
        with self.api.cond:
            obj = self.api.state.objects.get((*KREV, ns, rev))
            if obj is None:
                return
            obj = copy.deepcopy(obj)
            if mode[0] == "fail":
                obj["status"]["conditions"] = [
                    cond("Ready", "False", mode[1] or "RevisionFailed", mode[2] or "failed"),
                    cond("ContainerHealthy", "False", mode[1] or "RevisionFailed", mode[2] or "failed"),
                ]
            else:
                obj["status"]["conditions"] = [
                    cond("Ready", "True", "", ""),
                    cond("ContainerHealthy", "True", "", ""),
                ]
            self.api.store_object(KREV, ns, rev, obj, "MODIFIED")
            svc_name = obj["metadata"]["labels"].get("serving.knative.dev/service", "")
            if (*KSVC, ns, svc_name) in self.api.state.objects:
                self._route_status(ns, svc_name)

    def _ready(self, ns: str, rev: str) -> str:
        obj = self.api.state.objects.get((*KREV, ns, rev))
        if obj is None:
            return "Missing"
        ready = [c for c in obj["status"].get("conditions", []) if c["type"] == "Ready"]
        return ready[0]["status"] if ready else "Unknown"

    def _route_status(self, ns: str, name: str) -> None:
        svc = copy.deepcopy(self.api.state.objects[(*KSVC, ns, name)])
        status = svc.setdefault("status", {})
        rev = svc["spec"]["template"]["metadata"]["name"]
        base = f"{self.api.url}/_route/{ns}/{name}"
        traffic = svc["spec"].get("traffic") or []
        states = {
            t["revisionName"]: self._ready(ns, t["revisionName"]) for t in traffic if t.get("revisionName")
        }
        routes_ready = all(s == "True" for s in states.values())
        if routes_ready:
            status["traffic"] = [
                {**t, **({"url": f"{base}/{t['tag']}"} if t.get("tag") else {})} for t in traffic
            ]
            status["url"] = base
            status["address"] = {"url": f"http://{name}.{ns}.svc.cluster.local"}
        rev_state = self._ready(ns, rev)
        failing = next((r for r, s in states.items() if s == "False"), None)
        status["conditions"] = [
            cond("ConfigurationsReady", rev_state, "" if rev_state == "True" else "RevisionNotReady", ""),
            cond(
                "RoutesReady",
                "True" if routes_ready else ("False" if failing else "Unknown"),
                "" if routes_ready else ("RevisionFailed" if failing else "RevisionMissing"),
                "" if routes_ready else f"Revision {failing or ''} is not ready",
            ),
            cond("Ready", "True" if routes_ready and rev_state == "True" else "Unknown", "", ""),
        ]
        status["latestCreatedRevisionName"] = rev
        if rev_state == "True":
            status["latestReadyRevisionName"] = rev
        status["observedGeneration"] = svc["metadata"].get("generation", 1)
        if status != self.api.state.objects[(*KSVC, ns, name)].get("status"):
            self.api.store_object(KSVC, ns, name, svc, "MODIFIED")
