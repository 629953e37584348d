"""The local target (the embedded default): versions run as uvicorn processes on this machine
behind a front proxy on a stable port. Modules by role: ``target`` (plan/apply/rollback/destroy),
``execute`` (install, start, gate, go live), ``status`` (status, logs), ``run`` (process env,
health gate, proxy control), ``process`` (POSIX process and file helpers), ``proxy`` (the proxy)."""

from agentdock.targets.local.target import LocalTarget, preflight

__all__ = ["LocalTarget", "preflight"]
