"""GPS tracking: devices, ingest (app batches and tracker apps), tracks, live positions, check-in checks."""
