"""Query-string filters shared by list endpoints: time, text, bbox, radius."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from server.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from server.errors import InvalidInput


class ListQuery(BaseModel):
    """Parameters every list endpoint accepts."""

    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
    cursor: str | None = None
    updated_since: datetime | None = None


class ByCustomerQuery(ListQuery):
    """For records that hang off a customer: `?customer_id=` narrows the list to one."""

    customer_id: uuid.UUID | None = None


class SpatialListQuery(ListQuery):
    q: Annotated[str | None, Field(min_length=1, max_length=200, description="Name contains")] = None
    bbox: Annotated[
        str | None, Field(description="minLon,minLat,maxLon,maxLat (WGS84)", examples=["2.2,48.8,2.4,48.9"])
    ] = None
    near: Annotated[str | None, Field(description="lat,lon", examples=["48.85,2.35"])] = None
    radius_m: Annotated[float | None, Field(gt=0, le=1_000_000, allow_inf_nan=False)] = None


@dataclass(frozen=True)
class BoundingBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_m: float


def _floats(text: str, count: int, what: str, code: str) -> list[float]:
    parts = text.split(",")
    if len(parts) != count:
        raise InvalidInput(f"{what} needs {count} comma-separated numbers", code=code)
    try:
        values = [float(p) for p in parts]
    except ValueError as exc:
        raise InvalidInput(f"{what} must contain only numbers", code=code) from exc
    if not all(math.isfinite(v) for v in values):
        raise InvalidInput(f"{what} must contain finite numbers", code=code)
    return values


def _check_lat_lon(lat: float, lon: float, code: str) -> None:
    if not -90 <= lat <= 90:
        raise InvalidInput(f"latitude {lat} is outside [-90, 90]", code=code)
    if not -180 <= lon <= 180:
        raise InvalidInput(f"longitude {lon} is outside [-180, 180]", code=code)


def parse_bbox(text: str) -> BoundingBox:
    min_lon, min_lat, max_lon, max_lat = _floats(text, 4, "bbox", "INVALID_BBOX")
    _check_lat_lon(min_lat, min_lon, "INVALID_BBOX")
    _check_lat_lon(max_lat, max_lon, "INVALID_BBOX")
    if min_lon > max_lon or min_lat > max_lat:
        raise InvalidInput("bbox must be minLon,minLat,maxLon,maxLat with min <= max", code="INVALID_BBOX")
    return BoundingBox(min_lon, min_lat, max_lon, max_lat)


def parse_near(text: str, radius_m: float | None) -> Circle:
    lat, lon = _floats(text, 2, "near", "INVALID_NEAR")
    _check_lat_lon(lat, lon, "INVALID_NEAR")
    if radius_m is None:
        raise InvalidInput("near needs radius_m (metres)", code="INVALID_NEAR")
    return Circle(lat, lon, radius_m)
