"""The routing problem: reps (vehicles), visits, travel. Validated on construction.

Units: times are seconds from the start of the day, distances metres,
locations are indices into the problem's travel matrix. Every constructor
checks its own fields and raises `ValueError` with a sentence naming the
offending object; `Problem` checks the cross-references.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from routing.travel import TravelMatrix

__all__ = ["Break", "Problem", "Rep", "Visit"]

Window = tuple[float, float]


def _finite(value: float, what: str) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")


def _window(window: Sequence[float], what: str) -> Window:
    if len(window) != 2:
        raise ValueError(f"{what} must be a pair [start, end], got {window!r}")
    start, end = float(window[0]), float(window[1])
    _finite(start, f"{what} start")
    _finite(end, f"{what} end")
    if start > end:
        raise ValueError(f"{what} ends ({end}) before it starts ({start})")
    return (start, end)


@dataclass(frozen=True)
class Break:
    """A break of `duration` seconds that must start inside `window`."""

    window: Window
    duration: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "window", _window(self.window, "break window"))
        _finite(self.duration, "break duration")
        if self.duration <= 0:
            raise ValueError(f"break duration must be positive, got {self.duration}")


@dataclass(frozen=True)
class Rep:
    """A rep (vehicle): where the day starts and ends, when, and what they can do.

    `end=None` is an open route: the day ends at the last visit.
    Costs: when any rep has `cost_per_hour` or `cost_per_km`, the objective is
    money (travel distance and route duration at those rates); otherwise it is
    total distance in metres.
    """

    id: str
    start: int
    end: int | None
    shift: Window
    breaks: tuple[Break, ...] = ()
    skills: frozenset[str] = frozenset()
    max_stops: int | None = None
    max_route_duration: float | None = None
    cost_per_hour: float = 0.0
    cost_per_km: float = 0.0
    capacity: float | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a rep needs a non-empty id")
        object.__setattr__(self, "shift", _window(self.shift, f"rep {self.id} shift"))
        object.__setattr__(self, "breaks", tuple(self.breaks))
        object.__setattr__(self, "skills", frozenset(self.skills))
        if self.max_stops is not None and self.max_stops < 0:
            raise ValueError(f"rep {self.id}: max_stops cannot be negative")
        if self.max_route_duration is not None and self.max_route_duration <= 0:
            raise ValueError(f"rep {self.id}: max_route_duration must be positive")
        for name in ("cost_per_hour", "cost_per_km"):
            value = getattr(self, name)
            _finite(value, f"rep {self.id} {name}")
            if value < 0:
                raise ValueError(f"rep {self.id}: {name} cannot be negative")
        if self.capacity is not None and (not math.isfinite(self.capacity) or self.capacity < 0):
            raise ValueError(f"rep {self.id}: capacity must be a non-negative number")
        for brk in self.breaks:
            if brk.window[0] < self.shift[0] or brk.window[1] > self.shift[1]:
                raise ValueError(f"rep {self.id}: a break window {brk.window} lies outside the shift {self.shift}")


@dataclass(frozen=True)
class Visit:
    """A customer visit: where, how long, when it may start, and who may do it.

    A visit may start any time inside one of its `time_windows` (none = any
    time); waiting is allowed. Optional visits (`required=False`) are left out
    when serving them costs more than their `penalty`. `reps` lists the reps
    allowed to take it (None = anyone). `locked_rep` (with an optional
    `locked_position`, 0 = first stop) pins it to a rep's route.
    """

    id: str
    location: int
    service: float = 0.0
    time_windows: tuple[Window, ...] = ()
    required: bool = True
    penalty: float = 0.0
    skills: frozenset[str] = frozenset()
    demand: float = 0.0
    reps: frozenset[str] | None = None
    locked_rep: str | None = None
    locked_position: int | None = None
    value: float = 0.0  # business value (e.g. annual revenue), used to rank what to keep

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a visit needs a non-empty id")
        _finite(self.service, f"visit {self.id} service")
        if self.service < 0:
            raise ValueError(f"visit {self.id}: service duration cannot be negative")
        windows = tuple(sorted(_window(w, f"visit {self.id} time window") for w in self.time_windows))
        for previous, current in itertools.pairwise(windows):
            if current[0] <= previous[1]:
                raise ValueError(f"visit {self.id}: time windows {previous} and {current} overlap")
        object.__setattr__(self, "time_windows", windows)
        object.__setattr__(self, "skills", frozenset(self.skills))
        if self.reps is not None:
            object.__setattr__(self, "reps", frozenset(self.reps))
        if not self.required:
            _finite(self.penalty, f"visit {self.id} penalty")
            if self.penalty < 0:
                raise ValueError(f"visit {self.id}: penalty cannot be negative")
        _finite(self.demand, f"visit {self.id} demand")
        if self.demand < 0:
            raise ValueError(f"visit {self.id}: demand cannot be negative")
        if self.locked_position is not None:
            if self.locked_rep is None:
                raise ValueError(f"visit {self.id}: locked_position needs locked_rep")
            if self.locked_position < 0:
                raise ValueError(f"visit {self.id}: locked_position cannot be negative")
        if self.locked_rep is not None and self.reps is not None and self.locked_rep not in self.reps:
            raise ValueError(f"visit {self.id}: locked to rep {self.locked_rep}, who is not among its allowed reps")

    def latest_start(self) -> float:
        return self.time_windows[-1][1] if self.time_windows else math.inf

    def earliest_start(self) -> float:
        return self.time_windows[0][0] if self.time_windows else -math.inf


@dataclass(frozen=True)
class Problem:
    """Reps, visits and the travel between their locations."""

    reps: tuple[Rep, ...]
    visits: tuple[Visit, ...]
    travel: TravelMatrix
    name: str = "problem"
    rep_index: dict[str, int] = field(init=False, repr=False, compare=False)
    visit_index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reps", tuple(self.reps))
        object.__setattr__(self, "visits", tuple(self.visits))
        if not self.reps:
            raise ValueError("a problem needs at least one rep")
        object.__setattr__(self, "rep_index", _unique_ids((r.id for r in self.reps), "rep"))
        object.__setattr__(self, "visit_index", _unique_ids((v.id for v in self.visits), "visit"))
        size = self.travel.size
        for rep in self.reps:
            for where, name in ((rep.start, "start"), (rep.end, "end")):
                if where is not None and not 0 <= where < size:
                    raise ValueError(f"rep {rep.id}: {name} location {where} is not in the travel matrix (size {size})")
        positions: dict[tuple[str, int], str] = {}
        for visit in self.visits:
            if not 0 <= visit.location < size:
                raise ValueError(
                    f"visit {visit.id}: location {visit.location} is not in the travel matrix (size {size})"
                )
            if visit.reps is not None:
                unknown = sorted(visit.reps - self.rep_index.keys())
                if unknown:
                    raise ValueError(f"visit {visit.id}: allowed reps {unknown} do not exist")
            if visit.locked_rep is not None:
                if visit.locked_rep not in self.rep_index:
                    raise ValueError(f"visit {visit.id}: locked to unknown rep {visit.locked_rep}")
                if visit.locked_position is not None:
                    key = (visit.locked_rep, visit.locked_position)
                    if key in positions:
                        raise ValueError(
                            f"visits {positions[key]} and {visit.id} are both locked to position "
                            f"{visit.locked_position} of rep {visit.locked_rep}"
                        )
                    positions[key] = visit.id

    @property
    def uses_costs(self) -> bool:
        return any(r.cost_per_hour or r.cost_per_km for r in self.reps)

    def allowed_reps(self, visit: Visit) -> list[int]:
        """Indices of the reps that may take the visit (allowed list, skills, lock)."""
        allowed = []
        for index, rep in enumerate(self.reps):
            if visit.reps is not None and rep.id not in visit.reps:
                continue
            if visit.locked_rep is not None and rep.id != visit.locked_rep:
                continue
            if not visit.skills <= rep.skills:
                continue
            allowed.append(index)
        return allowed


def _unique_ids(ids: Iterable[str], kind: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, item in enumerate(ids):
        if item in index:
            raise ValueError(f"two {kind}s share the id {item!r}")
        index[item] = position
    return index
