"""Runtime telemetry: trace ids (``tracing``), Prometheus metrics (``metrics``), JSON log lines (``logs``)."""
