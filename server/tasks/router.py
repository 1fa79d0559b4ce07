"""Tasks over HTTP: the resource's CRUD endpoints."""

from __future__ import annotations

from server.api.router_factory import crud_router
from server.tasks.resources import task_resource

router = crud_router(task_resource, tag="tasks")
