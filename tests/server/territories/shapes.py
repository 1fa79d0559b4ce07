"""GeoJSON builders for the territory tests: squares near Lyon with known areas."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Customer


def square(lon: float, lat: float, size: float = 0.01, clockwise: bool = False) -> list[list[float]]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return list(reversed(ring)) if clockwise else ring


def feature(name: str, geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"name": name}, "geometry": geometry}


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def polygon(*rings: list[list[float]]) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


def territory_of(db: Session, customer: uuid.UUID) -> uuid.UUID | None:
    """The customer's territory as stored now (not as cached in the session)."""
    return db.scalar(
        select(Customer.territory_id).where(Customer.id == customer).execution_options(populate_existing=True)
    )
