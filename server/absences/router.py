"""Absences over HTTP: the resource's CRUD endpoints."""

from __future__ import annotations

from server.absences.resources import absence_resource
from server.api.router_factory import crud_router

router = crud_router(absence_resource, tag="absences")
