"""The cluster steps of a Knative deploy, each undoable, in the order ``apply`` runs them:

1. ``publish``  write the Service with the new template (revision ``<svc>-v<n>``); traffic stays
                exactly as it was (a first deploy creates the Service with the new revision only);
2. ``wait``     watch the revision until Ready, or fail with its condition's reason and message;
3. ``expose``   add the ``v<n>`` tag (0 %) and read the revision's own URL from ``status.traffic``;
4. (the health gate runs on that URL)
5. ``route``    move traffic: ``live`` to ``v<n>``, or a canary (``candidate`` at N %).

``restore`` puts the traffic block back as it was before step 1 (a first deploy's Service is
deleted: before it there was nothing), so any failure leaves traffic where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentdock.targets.knative.client import KnativeClient
from agentdock.targets.knative.manifest import Traffic, render_service, traffic_from, version_tag
from agentdock.targets.knative.model import KnativeModel


def status_traffic(service: dict[str, Any]) -> list[dict[str, Any]]:
    return list((service.get("status") or {}).get("traffic") or [])


def tag_url(service: dict[str, Any], tag: str) -> str | None:
    return next((t.get("url") for t in status_traffic(service) if t.get("tag") == tag and t.get("url")), None)


def routed(traffic: list[dict[str, Any]]) -> Callable[[dict[str, Any]], bool]:
    """True once the Route serves exactly ``traffic`` (status mirrors spec, URLs filled in)."""
    want = sorted((t.get("revisionName"), t.get("tag"), int(t.get("percent") or 0)) for t in traffic)

    def done(service: dict[str, Any]) -> bool:
        have = status_traffic(service)
        seen = sorted((t.get("revisionName"), t.get("tag"), int(t.get("percent") or 0)) for t in have)
        return seen == want and all(t.get("url") for t in have if t.get("tag"))

    return done


@dataclass
class Rollout:
    client: KnativeClient
    model: KnativeModel
    version: int
    agentdock_version: str
    wait_timeout_s: float = 300.0
    before: list[dict[str, Any]] | None = None  # spec.traffic before this deploy (None: no Service)

    @property
    def service(self) -> str:
        return self.model.service

    def current(self) -> Traffic:
        return traffic_from(self.before or [], self.service)

    def publish(self) -> dict[str, Any]:
        live = self.client.get_service(self.service)
        self.before = list(live["spec"].get("traffic") or []) if live else None
        traffic = ours_or_first(self.before, self.service, self.version)
        doc = render_service(self.model, self.version, traffic, agentdock_version=self.agentdock_version)
        return self.client.apply(doc)

    def wait(self) -> dict[str, Any]:
        return self.client.wait_revision(self.model.revision(self.version), timeout_s=self.wait_timeout_s)

    def expose(self) -> str:
        """Tag the new revision ``v<n>`` (no traffic) and return its URL once the route serves it."""
        now = self.current() if self.before is not None else Traffic(live=None)
        tagged = Traffic(now.live, (*now.tagged, self.version), now.candidate, now.percent)
        entries = tagged.entries(self.service)
        self.client.patch_traffic(self.service, entries)
        service = self.client.wait_service(self.service, routed(entries), timeout_s=self.wait_timeout_s)
        url = tag_url(service, version_tag(self.version))
        assert url is not None  # routed() waited for every tag's URL
        return url

    def route(self, traffic: Traffic) -> dict[str, Any]:
        """Set traffic and wait until the Route serves it; returns the Service."""
        return set_traffic(self.client, self.service, traffic.entries(self.service), self.wait_timeout_s)

    def deliver(
        self,
        *,
        canary: int,
        gate: Callable[[str], dict[str, Any]] | None,
        progress: Callable[[str], None],
    ) -> tuple[dict[str, Any], Traffic, dict[str, Any]]:
        """Steps 1-5: (the Service, the traffic it now serves, the gate's evidence). A canary needs a
        live version to split with; on a first deploy the new version simply goes live."""
        progress(f"apply service {self.service} ({self.model.revision(self.version)})")
        self.publish()
        progress(f"wait for {self.model.revision(self.version)}")
        self.wait()
        url = self.expose()
        evidence: dict[str, Any] = {"gate": "none"}
        if gate is not None:
            progress(f"health gate {url}")
            evidence = gate(url)
        now = self.current()
        tags = (*now.tagged, self.version)
        traffic = (
            Traffic(live=now.live, tagged=tags, candidate=self.version, percent=canary)
            if canary and now.live is not None
            else Traffic(live=self.version, tagged=tags)
        )
        progress("route traffic")
        return self.route(traffic), traffic, evidence

    def restore(self) -> None:
        """Put traffic back as it was before ``publish`` (best effort is the caller's choice)."""
        if self.before is None:
            self.client.delete_service(self.service)
        else:
            set_traffic(self.client, self.service, self.before, self.wait_timeout_s)


def ours_or_first(entries: list[dict[str, Any]] | None, service: str, version: int) -> Traffic:
    """The traffic we keep while a new template lands: ours as it is, or, when the Service has none of
    our tags (none yet, or only entries someone else wrote), the new revision alone, pinned."""
    ours = traffic_from(entries or [], service)
    return ours if ours.entries(service) else Traffic(live=None, tagged=(version,))


def set_traffic(
    client: KnativeClient, service: str, entries: list[dict[str, Any]], timeout_s: float
) -> dict[str, Any]:
    client.patch_traffic(service, entries)
    return client.wait_service(service, routed(entries), timeout_s=timeout_s)
