"""The Google Cloud Run target: the Cloud Run Admin API v2 through the official ``google-cloud-run``
client. Modules by role: ``model`` (the v2 ``Service`` body, pure), ``manifest`` (the same as
Knative-style ``service.yaml``), ``client`` (the only module that calls Google)."""
