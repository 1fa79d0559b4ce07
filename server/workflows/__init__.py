"""Workflow rules: what the CRM does by itself when something happens (docs/crm.md).

Importing the package registers the engine with the write path, so every process that
imports it (the server, the job worker, the command line) fires rules on every write.
"""

from server.api.resource import observe_writes
from server.workflows.engine import record_written

observe_writes(record_written)
