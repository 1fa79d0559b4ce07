"""What `solve` returns: routes with timed stops, unassigned visits with reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["BreakTaken", "Result", "Route", "SolverStats", "Stop", "Unassigned", "UnassignedReason"]


class UnassignedReason(StrEnum):
    time_window = "time_window"  # no rep can get there inside a window
    shift_too_short = "shift_too_short"  # reachable, but the shift ends before the visit and the way home fit
    skills = "skills"  # no rep has the skills it needs
    no_allowed_rep = "no_allowed_rep"  # its allowed reps (territory) do not exist or exclude each other
    capacity = "capacity"  # its demand exceeds every allowed rep's capacity
    max_stops = "max_stops"  # every allowed rep has max_stops = 0
    not_worth_penalty = "not_worth_penalty"  # optional, and serving it costs more than its penalty
    no_room = "no_room"  # possible alone, but the day is full with more valuable visits


@dataclass(frozen=True)
class Stop:
    visit: str
    arrival: float  # reaching the customer, breaks on the way included
    start: float  # service start, inside a time window
    departure: float
    waiting: float  # idle time before service that was not a break


@dataclass(frozen=True)
class BreakTaken:
    start: float
    duration: float


@dataclass(frozen=True)
class Route:
    rep: str
    stops: tuple[Stop, ...]
    breaks: tuple[BreakTaken, ...]
    start_time: float
    end_time: float
    distance: float
    load: float

    @property
    def duration(self) -> float:
        return self.end_time - self.start_time


@dataclass(frozen=True)
class Unassigned:
    visit: str
    reason: UnassignedReason
    detail: str = ""


@dataclass(frozen=True)
class SolverStats:
    solve_seconds: float
    status: str
    objective: float | None
    strategy: str
    workers: int = 1
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    """Routes as the independent evaluator computed them, from the solver's sequences."""

    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    stats: SolverStats
    violations: tuple[str, ...] = ()
    penalty: float = 0.0
    money_cost: float | None = None  # when the problem gives costs per hour / km
    required_missing: tuple[str, ...] = field(default=())

    @property
    def distance(self) -> float:
        return sum(route.distance for route in self.routes)

    @property
    def duration(self) -> float:
        return sum(route.duration for route in self.routes if route.stops)

    def cost(self) -> float:
        """The objective: money when the problem has costs, else metres; plus penalties of optional visits left out."""
        base = self.money_cost if self.money_cost is not None else self.distance
        return base + self.penalty

    def is_feasible(self) -> bool:
        """Every constraint holds and every required visit is served (the evaluator's verdict)."""
        return not self.violations and not self.required_missing

    def summary(self) -> str:
        used = sum(1 for route in self.routes if route.stops)
        served = sum(len(route.stops) for route in self.routes)
        lines = [
            f"{'feasible' if self.is_feasible() else 'INFEASIBLE'}: {served} visits on {used} routes, "
            f"distance {self.distance:.1f} m, duration {self.duration:.0f} s, cost {self.cost():.1f}, "
            f"{len(self.unassigned)} unassigned, solved in {self.stats.solve_seconds:.2f} s ({self.stats.strategy})"
        ]
        lines += [f"  violation: {v}" for v in self.violations]
        lines += [f"  unassigned {u.visit}: {u.reason.value} {u.detail}".rstrip() for u in self.unassigned]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The problem-file output format (see routing/io.py)."""
        return {
            "routes": [
                {
                    "rep": route.rep,
                    "stops": [
                        {
                            "visit": s.visit,
                            "arrival": round(s.arrival, 3),
                            "start": round(s.start, 3),
                            "departure": round(s.departure, 3),
                            "waiting": round(s.waiting, 3),
                        }
                        for s in route.stops
                    ],
                    "breaks": [{"start": round(b.start, 3), "duration": b.duration} for b in route.breaks],
                    "start_time": round(route.start_time, 3),
                    "end_time": round(route.end_time, 3),
                    "distance": round(route.distance, 3),
                    "duration": round(route.duration, 3),
                    "load": route.load,
                }
                for route in self.routes
                if route.stops
            ],
            "unassigned": [{"visit": u.visit, "reason": u.reason.value, "detail": u.detail} for u in self.unassigned],
            "distance": round(self.distance, 3),
            "duration": round(self.duration, 3),
            "cost": round(self.cost(), 3),
            "feasible": self.is_feasible(),
            "violations": list(self.violations),
            "solve_seconds": round(self.stats.solve_seconds, 3),
            "solver": {
                "status": self.stats.status,
                "strategy": self.stats.strategy,
                "objective": self.stats.objective,
                "workers": self.stats.workers,
            },
        }
