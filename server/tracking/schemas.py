"""What the tracking endpoints answer (the tracker protocol and the event stream excepted)."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class RejectedPosition(BaseModel):
    index: int = Field(description="Position of the bad point in the batch")
    reason: str


class PositionBatchReport(BaseModel):
    stored: int
    duplicates: int = Field(description="Points of this device and time stored before (kept once)")
    rejected: list[RejectedPosition]


class TrackPoint(BaseModel):
    time: str = Field(description="ISO 8601")
    lat: float
    lon: float
    accuracy_m: float | None
    speed_mps: float | None


class TrackStop(BaseModel):
    lat: float
    lon: float
    start: str
    end: str
    minutes: float


class TrackSummary(BaseModel):
    user_id: uuid.UUID
    start: str
    end: str
    points_recorded: int
    distance_m: float
    points: list[TrackPoint] = Field(description="The track simplified to the tolerance")
    stops: list[TrackStop]


class LastPosition(BaseModel):
    user_id: uuid.UUID
    time: str
    lat: float
    lon: float
    accuracy_m: float | None
    speed_mps: float | None
    battery_pct: float | None


class LastPositions(BaseModel):
    items: list[LastPosition]


class WorkdayMark(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime | None = Field(default=None, description="When the rep tapped it (default: now)")


class WorkdayRead(BaseModel):
    day: str = Field(description="The local date, YYYY-MM-DD")
    started_at: str
    ended_at: str | None
