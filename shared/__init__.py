"""FieldForce shared contracts: stdlib only, importable on Android."""

from shared.enums import (
    CustomerStatus,
    GeocodeAccuracy,
    NoteKind,
    OpportunityStage,
    Role,
    TaskKind,
    TaskPriority,
    TaskStatus,
    Tier,
    VerificationStatus,
    VisitStatus,
)
from shared.geo import EARTH_RADIUS_M, GeoPoint, haversine_m

__all__ = [
    "EARTH_RADIUS_M",
    "CustomerStatus",
    "GeoPoint",
    "GeocodeAccuracy",
    "NoteKind",
    "OpportunityStage",
    "Role",
    "TaskKind",
    "TaskPriority",
    "TaskStatus",
    "Tier",
    "VerificationStatus",
    "VisitStatus",
    "haversine_m",
]
