"""The Knative target: one ``serving.knative.dev/v1`` Service per agent, one revision per version,
traffic pinned to named revisions with tags (``live``, ``candidate``, ``v<n>``); rollback = traffic patch.

Modules by role: ``model`` (settings -> desired state, pure), ``manifest`` (the Service, pure),
``diff`` (dry-run diff, pure), ``client`` (the cluster calls), ``rollout`` (deploy steps, undoable),
``gate`` (health gate), ``traffic`` (rollback/promote platform half, ``--keep``), ``status``,
``target`` (the ``Target`` on the release core).
"""

from agentdock.targets.knative.target import KnativeTarget

__all__ = ["KnativeTarget"]
