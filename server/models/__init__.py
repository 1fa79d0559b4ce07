"""All ORM models, in one metadata for Alembic."""

from server.models.absence import Absence
from server.models.activity import Note, Opportunity, Order, Photo, Task, Visit
from server.models.auth import LoginFailure, RefreshToken
from server.models.base import Base, TenantMixin
from server.models.crm_workflow import (
    CalendarFeed,
    CustomerAnalytics,
    EmailMessage,
    LeadRoundRobin,
    Notification,
    OpportunityStageChange,
    Webhook,
    WebhookDelivery,
    WorkflowRule,
    WorkflowRun,
)
from server.models.customer import Contact, Customer, GeocodeCache
from server.models.files import FileChunk, StoredFile
from server.models.organization import Organization
from server.models.plan import Plan
from server.models.planning_run import PlanningRun, PlanningRunPart
from server.models.report import ReportDirtyDay, ReportRollup, ReportVisitDay
from server.models.sync import SyncChange, SyncClient, SyncConflict, SyncMutationResult, SyncRejection
from server.models.territory import Territory, TerritoryRep
from server.models.tracking import Device, LastPosition, Position, Workday
from server.models.user import User

__all__ = [
    "Absence",
    "Base",
    "CalendarFeed",
    "Contact",
    "Customer",
    "CustomerAnalytics",
    "Device",
    "EmailMessage",
    "FileChunk",
    "GeocodeCache",
    "LastPosition",
    "LeadRoundRobin",
    "LoginFailure",
    "Note",
    "Notification",
    "Opportunity",
    "OpportunityStageChange",
    "Order",
    "Organization",
    "Photo",
    "Plan",
    "PlanningRun",
    "PlanningRunPart",
    "Position",
    "RefreshToken",
    "ReportDirtyDay",
    "ReportRollup",
    "ReportVisitDay",
    "StoredFile",
    "SyncChange",
    "SyncClient",
    "SyncConflict",
    "SyncMutationResult",
    "SyncRejection",
    "Task",
    "TenantMixin",
    "Territory",
    "TerritoryRep",
    "User",
    "Visit",
    "Webhook",
    "WebhookDelivery",
    "Workday",
    "WorkflowRule",
    "WorkflowRun",
]
from server.models import versioning as _versioning  # noqa: F401 - registers the row_version hook
