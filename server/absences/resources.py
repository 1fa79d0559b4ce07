"""The absence resource: what planning leaves out (a rep's days off, the organisation's holidays)."""

from __future__ import annotations

from server.absences.policy import AbsencePolicy
from server.absences.schemas import AbsenceCreate, AbsenceListQuery, AbsenceRead, AbsenceUpdate
from server.absences.service import overlapping
from server.api.resource import ResourceSpec
from server.models import Absence

absence_resource: ResourceSpec[Absence] = ResourceSpec(
    model=Absence,
    name="absence",
    path="/absences",
    read_schema=AbsenceRead,
    create_schema=AbsenceCreate,
    update_schema=AbsenceUpdate,
    policy=AbsencePolicy(),
    list_query=AbsenceListQuery,
    equality_filters={"user_id": Absence.user_id},
    extra_filters=overlapping,
)
