"""Contacts, opportunities, orders and notes over HTTP: each resource's CRUD endpoints."""

from __future__ import annotations

from fastapi import APIRouter

from server.api.router_factory import crud_router
from server.crm.resources import contact_resource, note_resource, opportunity_resource, order_resource

router = APIRouter()
for resource, tag in (
    (contact_resource, "contacts"),
    (opportunity_resource, "opportunities"),
    (order_resource, "orders"),
    (note_resource, "notes"),
):
    router.include_router(crud_router(resource, tag=tag))
