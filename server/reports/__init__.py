"""Reports: read-only figures by team, rep and day, as JSON and CSV."""
