"""Territory balancing: which rep takes which customer, so that monthly workloads are even.

A CP-SAT assignment model (OR-Tools):
- each customer goes to exactly one rep: its current one, or one of the
  `candidates` reps whose anchor (home or territory centre) is nearest;
- a rep's monthly workload is the sum over their customers of visits per
  month x (service time + estimated travel from the rep's anchor);
- every workload should lie within +-`tolerance` of the mean: soft, with a
  penalty far above everything else, so an impossible target still gives the
  closest proposal (and says it is not within tolerance);
- among balanced assignments: the most compact (customers near their rep's
  anchor), then the fewest moves.

Compactness stands in for contiguity: customers go to nearby anchors, which
keeps areas together in practice but is not a guarantee of connected shapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from shared.geo import haversine_m

__all__ = ["BalanceCustomer", "BalanceRep", "BalanceResult", "balance"]


@dataclass(frozen=True)
class BalanceCustomer:
    id: str
    lat: float
    lon: float
    visits_per_month: float
    current_rep: str
    service_minutes: float = 30.0

    def __post_init__(self) -> None:
        if self.visits_per_month < 0 or self.service_minutes < 0:
            raise ValueError(f"customer {self.id}: visits per month and service minutes cannot be negative")


@dataclass(frozen=True)
class BalanceRep:
    id: str
    lat: float
    lon: float


@dataclass
class BalanceResult:
    assignment: dict[str, str]
    workload_before_h: dict[str, float]
    workload_after_h: dict[str, float]
    mean_after_h: float
    within_tolerance: bool
    moved: list[str] = field(default_factory=list)
    status: str = ""


def _travel_minutes(rep: BalanceRep, customer: BalanceCustomer, speed_kmh: float, circuity: float) -> float:
    metres = haversine_m(rep.lat, rep.lon, customer.lat, customer.lon) * circuity
    return metres / (speed_kmh * 1000 / 60)


def balance(
    customers: list[BalanceCustomer],
    reps: list[BalanceRep],
    *,
    tolerance: float = 0.10,
    candidates: int = 3,
    speed_kmh: float = 35.0,
    circuity: float = 1.3,
    time_limit: float = 10.0,
    seed: int = 0,
) -> BalanceResult:
    if not reps:
        raise ValueError("balancing needs at least one rep")
    if not 0 < tolerance < 1:
        raise ValueError("tolerance is a fraction of the mean, between 0 and 1")
    rep_ids = {rep.id for rep in reps}
    for customer in customers:
        if customer.current_rep not in rep_ids:
            raise ValueError(f"customer {customer.id}: current rep {customer.current_rep} is not among the reps")

    def workload(customer: BalanceCustomer, rep: BalanceRep) -> float:
        return customer.visits_per_month * (
            customer.service_minutes + _travel_minutes(rep, customer, speed_kmh, circuity)
        )

    by_id = {rep.id: rep for rep in reps}
    allowed: dict[str, list[BalanceRep]] = {}
    for customer in customers:
        nearest = sorted(reps, key=lambda r: (haversine_m(r.lat, r.lon, customer.lat, customer.lon), r.id))
        chosen = {r.id: r for r in nearest[:candidates]}
        chosen[customer.current_rep] = by_id[customer.current_rep]
        allowed[customer.id] = list(chosen.values())

    model = cp_model.CpModel()
    x: dict[tuple[str, str], cp_model.IntVar] = {}
    load_terms: dict[str, list[tuple[int, cp_model.IntVar]]] = {rep.id: [] for rep in reps}
    compact_terms: list[tuple[int, cp_model.IntVar]] = []
    move_terms: list[cp_model.IntVar] = []
    for customer in customers:
        options = []
        for rep in allowed[customer.id]:
            var = model.new_bool_var(f"x_{customer.id}_{rep.id}")
            x[(customer.id, rep.id)] = var
            options.append(var)
            load_terms[rep.id].append((round(workload(customer, rep) * 10), var))  # tenths of a minute
            compact_terms.append((round(haversine_m(rep.lat, rep.lon, customer.lat, customer.lon) / 10), var))
            if rep.id != customer.current_rep:
                move_terms.append(var)
            else:
                model.add_hint(var, 1)
        model.add_exactly_one(options)
    loads = {}
    upper = sum(max(w for w, _ in terms) for terms in load_terms.values() if terms) + 1
    for rep in reps:
        load = model.new_int_var(0, max(upper * 10, 1), f"load_{rep.id}")
        model.add(load == sum(w * v for w, v in load_terms[rep.id]))
        loads[rep.id] = load
    total = sum(loads.values())
    count = len(reps)
    percent = round(tolerance * 100)
    deviation = []
    for rep in reps:
        over = model.new_int_var(0, 10**12, f"over_{rep.id}")
        under = model.new_int_var(0, 10**12, f"under_{rep.id}")
        # 100 * R * load within (100 +- tolerance%) * total, softly
        model.add(100 * count * loads[rep.id] <= (100 + percent) * total + over)
        model.add(100 * count * loads[rep.id] >= (100 - percent) * total - under)
        deviation += [over, under]
    move_weight = 50  # a move costs as much as 500 m of extra distance to an anchor
    model.minimize(10**6 * sum(deviation) + sum(w * v for w, v in compact_terms) + move_weight * sum(move_terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = seed
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        assignment = {c.id: c.current_rep for c in customers}
    else:
        assignment = {c.id: next(r.id for r in allowed[c.id] if solver.Value(x[(c.id, r.id)])) for c in customers}

    def hours(mapping: dict[str, str]) -> dict[str, float]:
        out = {rep.id: 0.0 for rep in reps}
        for customer in customers:
            out[mapping[customer.id]] += workload(customer, by_id[mapping[customer.id]]) / 60
        return {rep_id: round(value, 2) for rep_id, value in out.items()}

    before = hours({c.id: c.current_rep for c in customers})
    after = hours(assignment)
    mean = sum(after.values()) / count
    within = all(math.isclose(mean, 0) or abs(value / mean - 1) <= tolerance + 1e-6 for value in after.values())
    return BalanceResult(
        assignment=assignment,
        workload_before_h=before,
        workload_after_h=after,
        mean_after_h=round(mean, 2),
        within_tolerance=within,
        moved=sorted(c.id for c in customers if assignment[c.id] != c.current_rep),
        status=solver.StatusName(status),
    )
