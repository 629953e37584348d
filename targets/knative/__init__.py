"""The Knative target: one ``serving.knative.dev/v1`` Service per agent, one revision per version,
traffic pinned to named revisions with tags (``live``, ``candidate``, ``v<n>``); rollback = traffic patch."""
