"""What a running deployment tells its operator: Prometheus metrics (`metrics`), the core's telemetry port filled
with them (`telemetry`)."""
