"""Image-faithful preflight without a container engine: the build context's locked requirements
in a cached environment, the image's own CMD, the image's ENV plus the target's environment, a
sandbox (read-only root, /tmp only, non-root), reached as the platform reaches it."""

from agentdock.preflight.runner import Running, preflight, running

__all__ = ["Running", "preflight", "running"]
