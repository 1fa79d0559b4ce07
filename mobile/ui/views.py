"""What the screens show, as small typed rows built from the core's records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.geo import haversine_m

STATUS_WORDS = {
    "planned": "to do",
    "in_progress": "on site",
    "completed": "done",
    "missed": "missed",
    "cancelled": "cancelled",
    "skipped": "skipped",
}


@dataclass(frozen=True)
class TodayVisit:
    id: str
    number: int
    customer_id: str
    customer_name: str
    tier: str
    window: str  # "09:00-09:45" in the phone's time zone
    status: str  # words, not colour alone
    done: bool
    distance_km: float | None  # from the last fix, when there is one

    @property
    def distance_text(self) -> str:
        return "" if self.distance_km is None else f"{self.distance_km:.1f} km"


def today_visits(
    visits: list[dict[str, Any]],
    customers: dict[str, dict[str, Any]],
    zone: ZoneInfo,
    here: tuple[float, float] | None = None,
) -> list[TodayVisit]:
    rows = []
    for number, visit in enumerate(visits, start=1):
        customer = customers.get(visit["customer_id"], {})
        spot = customer.get("location") or None
        distance = None
        if here is not None and spot:
            distance = haversine_m(here[0], here[1], spot["lat"], spot["lon"]) / 1000
        rows.append(
            TodayVisit(
                id=visit["id"],
                number=number,
                customer_id=visit["customer_id"],
                customer_name=str(customer.get("name") or "(customer not on this phone)"),
                tier=str(customer.get("tier") or "C"),
                window=_window(visit.get("planned_start"), visit.get("planned_end"), zone),
                status=STATUS_WORDS.get(str(visit.get("status")), str(visit.get("status"))),
                done=visit.get("status") == "completed",
                distance_km=distance,
            )
        )
    return rows


def _window(start: str | None, end: str | None, zone: ZoneInfo) -> str:
    if not start:
        return "any time"
    begins = datetime.fromisoformat(start).astimezone(zone).strftime("%H:%M")
    if not end:
        return begins
    return f"{begins}-{datetime.fromisoformat(end).astimezone(zone).strftime('%H:%M')}"
