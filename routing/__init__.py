"""FieldForce route and schedule optimizer: a typed problem -> OR-Tools -> a checked result.

Imports `shared/` and ortools only, so it can be used, tested and benchmarked
on its own::

    from routing import Problem, Rep, Visit, HaversineTravel, solve
    result = solve(problem, time_limit=5)
    result.is_feasible(), result.cost(), print(result.summary())
"""

from routing.evaluate import RoutePlan, evaluate
from routing.model import Break, Problem, Rep, Visit
from routing.planning import (
    Appointment,
    DayPlan,
    PlannedVisit,
    Progress,
    RecurringCustomer,
    RepDay,
    plan_days,
    reoptimize,
)
from routing.result import BreakTaken, Result, Route, SolverStats, Stop, Unassigned, UnassignedReason
from routing.search_config import SearchConfig
from routing.solve import solve
from routing.travel import ExplicitTravel, HaversineTravel, OsrmError, OsrmTravel, TravelMatrix

__all__ = [
    "Appointment",
    "Break",
    "BreakTaken",
    "DayPlan",
    "ExplicitTravel",
    "HaversineTravel",
    "OsrmError",
    "OsrmTravel",
    "PlannedVisit",
    "Problem",
    "Progress",
    "RecurringCustomer",
    "Rep",
    "RepDay",
    "Result",
    "Route",
    "RoutePlan",
    "SearchConfig",
    "SolverStats",
    "Stop",
    "TravelMatrix",
    "Unassigned",
    "UnassignedReason",
    "Visit",
    "evaluate",
    "plan_days",
    "reoptimize",
    "solve",
]
