"""A deterministic demo organisation in and around Lyon.

Customers sit along generated streets (denser towards the centre), territories
tile the area by recursive median splits so each rep gets a similar number of
customers, and purchase history follows a Pareto law so the 80/20 tiers are
real. Everything comes from one `random.Random(seed)` and the `today` anchor:
the same seed and day give the same rows, ids included.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from server.access.credentials import hash_password
from server.models import (
    Contact,
    Customer,
    Note,
    Order,
    Organization,
    Task,
    Territory,
    TerritoryRep,
    User,
    Visit,
)
from shared.enums import (
    CustomerStatus,
    GeocodeAccuracy,
    NoteKind,
    Role,
    TaskKind,
    TaskPriority,
    TaskStatus,
    Tier,
    VerificationStatus,
    VisitStatus,
)
from shared.geo import haversine_m
from shared.value import abc_tiers

CITY_CENTRE = (45.7640, 4.8357)  # lat, lon: Lyon
CITY_RADIUS_M = 9_000.0
DEMO_PASSWORDS = {Role.admin: "demo-admin-pass", Role.manager: "demo-manager-pass", Role.rep: "demo-rep-pass"}
REPS_PER_MANAGER = 8
WORKWEEK = ("mon", "tue", "wed", "thu", "fri")
BATCH = 5_000

SURNAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "Andre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "Francois",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guerin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
]
FIRST_NAMES = [
    "Camille",
    "Louis",
    "Chloe",
    "Hugo",
    "Lea",
    "Lucas",
    "Manon",
    "Jules",
    "Emma",
    "Gabriel",
    "Ines",
    "Arthur",
    "Sarah",
    "Nathan",
    "Julie",
    "Paul",
    "Claire",
    "Antoine",
    "Marie",
    "Theo",
    "Alice",
    "Victor",
]
BUSINESSES = [
    "Boulangerie",
    "Pharmacie",
    "Garage",
    "Brasserie",
    "Fromagerie",
    "Quincaillerie",
    "Librairie",
    "Epicerie",
    "Cave",
    "Opticien",
    "Fleuriste",
    "Boucherie",
    "Cafe",
    "Hotel",
    "Clinique",
    "Tabac",
    "Pressing",
    "Salon",
    "Atelier",
    "Restaurant",
]
STREET_KINDS = ["Rue", "Avenue", "Boulevard", "Cours", "Quai", "Chemin", "Place"]
STREET_NAMES = [
    "de la Republique",
    "Victor Hugo",
    "Jean Jaures",
    "Garibaldi",
    "Paul Bert",
    "de Marseille",
    "Vendome",
    "des Charpennes",
    "Lafayette",
    "Franklin Roosevelt",
    "Gambetta",
    "de Crequi",
    "Duguesclin",
    "Tete d'Or",
    "Saint-Jean",
    "Merciere",
    "du Plat",
    "Sala",
    "de Brest",
    "Sainte-Helene",
    "Pasteur",
    "Berthelot",
    "Jean Mace",
    "Marechal Foch",
    "de Saxe",
    "Bellecour",
    "Servient",
    "Molière",
]
OUTCOMES = ["order taken", "follow-up needed", "no decision", "demo given", "complaint handled", "restocked"]
TAGS = ["retail", "wholesale", "key-account", "new", "seasonal", "franchise", "independent"]


@dataclass(frozen=True)
class SeedOptions:
    reps: int = 20
    customers: int = 2_000
    seed: int = 1
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    name: str = "FieldForce Demo"
    slug: str = "demo"
    history_months: int = 12


@dataclass
class SeedReport:
    org_id: uuid.UUID
    logins: list[tuple[str, str, str]]  # (role, email, password)
    counts: dict[str, int]


@dataclass
class _Street:
    name: str
    points: list[tuple[float, float]]  # (lat, lon)


@dataclass
class _Cell:
    """A territory rectangle: lon/lat bounds and the customers inside."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    members: list[int]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    dlat = north_m / 111_320.0
    dlon = east_m / (111_320.0 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def _streets(rng: random.Random, count: int) -> list[_Street]:
    streets: list[_Street] = []
    for index in range(count):
        # Denser towards the centre: radius ~ r^1.6 of a uniform draw.
        radius = CITY_RADIUS_M * rng.random() ** 1.6
        bearing = rng.uniform(0, 2 * math.pi)
        lat, lon = _offset(*CITY_CENTRE, radius * math.cos(bearing), radius * math.sin(bearing))
        heading = rng.uniform(0, 2 * math.pi)
        points = [(lat, lon)]
        for _ in range(rng.randint(6, 20)):
            heading += rng.gauss(0, 0.15)
            lat, lon = _offset(lat, lon, 120 * math.cos(heading), 120 * math.sin(heading))
            points.append((lat, lon))
        name = f"{rng.choice(STREET_KINDS)} {rng.choice(STREET_NAMES)}"
        if index >= len(STREET_NAMES):
            name += f" {index // len(STREET_NAMES) + 1}"
        streets.append(_Street(name, points))
    return streets


def _split(cell: _Cell, parts: int, points: Sequence[tuple[float, float]], vertical: bool) -> list[_Cell]:
    """Recursive median split: `parts` rectangles holding similar customer counts."""
    if parts == 1:
        return [cell]
    left_parts = parts // 2
    key = 1 if vertical else 0  # split on lon (vertical line) or lat
    members = sorted(cell.members, key=lambda i: points[i][key])
    cut_index = max(1, min(len(members) - 1, round(len(members) * left_parts / parts)))
    if len(members) >= 2:
        cut = (points[members[cut_index - 1]][key] + points[members[cut_index]][key]) / 2
    else:
        cut = ((cell.min_lon + cell.max_lon) if vertical else (cell.min_lat + cell.max_lat)) / 2
    first, second = members[:cut_index], members[cut_index:]
    if vertical:
        a = _Cell(cell.min_lon, cell.min_lat, cut, cell.max_lat, first)
        b = _Cell(cut, cell.min_lat, cell.max_lon, cell.max_lat, second)
    else:
        a = _Cell(cell.min_lon, cell.min_lat, cell.max_lon, cut, first)
        b = _Cell(cell.min_lon, cut, cell.max_lon, cell.max_lat, second)
    return _split(a, left_parts, points, not vertical) + _split(b, parts - left_parts, points, not vertical)


def _wkt_point(lat: float, lon: float) -> str:
    return f"SRID=4326;POINT({lon:.7f} {lat:.7f})"


def _wkt_rectangle(cell: _Cell) -> str:
    x0, y0, x1, y1 = cell.min_lon, cell.min_lat, cell.max_lon, cell.max_lat
    ring = f"{x0:.7f} {y0:.7f}, {x1:.7f} {y0:.7f}, {x1:.7f} {y1:.7f}, {x0:.7f} {y1:.7f}, {x0:.7f} {y0:.7f}"
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


def _phone(rng: random.Random) -> str:
    return f"+334{rng.randint(72, 78)}{rng.randint(0, 999999):06d}"


def _batched(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _insert(
    session: Session, model: type[Any], rows: list[dict[str, Any]], progress: Callable[[str, int], None]
) -> None:
    for chunk in _batched(rows):
        session.execute(insert(model), chunk)
        progress(model.__tablename__, len(chunk))


@dataclass
class _SeedRun:
    """What every section of a seed shares. The sections draw from one random stream
    in a fixed order, so the same seed and day give the same rows, ids included."""

    session: Session
    options: SeedOptions
    rng: random.Random
    org_id: uuid.UUID
    progress: Callable[[str, int], None]

    @property
    def now(self) -> datetime:
        return datetime.combine(self.options.today, time(18, 0), tzinfo=UTC)

    @property
    def number_width(self) -> int:
        """Digits in rep and sector numbers (rep01 ... rep20)."""
        return max(2, len(str(self.options.reps)))

    def insert(self, model: type[Any], rows: list[dict[str, Any]]) -> None:
        _insert(self.session, model, rows, self.progress)


@dataclass
class _Places:
    positions: list[tuple[float, float]]  # (lat, lon) per customer
    addresses: list[tuple[str, str]]  # (street, postal code) per customer
    cells: list[_Cell]  # one territory rectangle per rep


@dataclass
class _Team:
    users: list[dict[str, Any]]
    rep_ids: list[uuid.UUID]
    territory_ids: list[uuid.UUID]


@dataclass
class _History:
    contacts: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)


def seed_demo(session: Session, options: SeedOptions, progress: Callable[[str, int], None] | None = None) -> SeedReport:
    """Insert the demo organisation. The caller commits."""
    if options.reps < 1 or options.customers < options.reps:
        raise ValueError("need at least one rep and at least as many customers as reps")
    rng = random.Random(options.seed)
    run = _SeedRun(session, options, rng, _uuid(rng), progress or (lambda table, n: None))
    session.execute(
        insert(Organization),
        [{"id": run.org_id, "name": options.name, "slug": options.slug, "default_country": "FR"}],
    )
    places = _place_customers(run)
    team = _seed_team(run, places.cells)
    customers, revenues, tiers = _customer_rows(run, places, team)
    history = _history(run, customers, places.positions, revenues, tiers)
    run.insert(Customer, customers)
    run.insert(Contact, history.contacts)
    run.insert(Order, history.orders)
    run.insert(Visit, history.visits)
    run.insert(Note, history.notes)
    run.insert(Task, history.tasks)

    users = team.users
    logins = [("admin", users[0]["email"], DEMO_PASSWORDS[Role.admin])]
    logins += [("manager", u["email"], DEMO_PASSWORDS[Role.manager]) for u in users if u["role"] is Role.manager][:2]
    logins += [("rep", u["email"], DEMO_PASSWORDS[Role.rep]) for u in users if u["role"] is Role.rep][:2]
    return SeedReport(
        org_id=run.org_id,
        logins=logins,
        counts={
            "users": len(users),
            "territories": len(places.cells),
            "customers": len(customers),
            "contacts": len(history.contacts),
            "orders": len(history.orders),
            "visits": len(history.visits),
            "notes": len(history.notes),
            "tasks": len(history.tasks),
        },
    )


def _place_customers(run: _SeedRun) -> _Places:
    """Customers' positions along streets, then one territory rectangle per rep around them."""
    rng, count = run.rng, run.options.customers
    streets = _streets(rng, max(10, count // 40))
    positions: list[tuple[float, float]] = []
    addresses: list[tuple[str, str]] = []
    for _ in range(count):
        street = rng.choice(streets)
        segment = rng.randrange(len(street.points) - 1)
        t = rng.random()
        (lat1, lon1), (lat2, lon2) = street.points[segment], street.points[segment + 1]
        lat, lon = _offset(lat1 + t * (lat2 - lat1), lon1 + t * (lon2 - lon1), rng.gauss(0, 12), rng.gauss(0, 12))
        positions.append((lat, lon))
        number = 1 + segment * 12 + int(t * 12)
        postal = f"6900{1 + int(haversine_m(lat, lon, *CITY_CENTRE) // 1500) % 9}"
        addresses.append((f"{number} {street.name}", postal))
    lats = [p[0] for p in positions]
    lons = [p[1] for p in positions]
    pad = 0.002
    area = _Cell(min(lons) - pad, min(lats) - pad, max(lons) + pad, max(lats) + pad, list(range(count)))
    return _Places(positions, addresses, _split(area, run.options.reps, positions, vertical=True))


def _seed_team(run: _SeedRun, cells: list[_Cell]) -> _Team:
    """The admin, the managers, one rep per cell (living in it), and the territories they work."""
    rng, options, org_id = run.rng, run.options, run.org_id
    hashes = {role: hash_password(password) for role, password in DEMO_PASSWORDS.items()}
    admin_id = _uuid(rng)
    users: list[dict[str, Any]] = [
        {
            "id": admin_id,
            "org_id": org_id,
            "email": f"admin@{options.slug}.example.com",
            "full_name": "Alex Admin",
            "password_hash": hashes[Role.admin],
            "role": Role.admin,
            "working_hours": {},
            "manager_id": None,
            "home_location": None,
        }
    ]
    manager_count = max(1, math.ceil(options.reps / REPS_PER_MANAGER))
    manager_ids = [_uuid(rng) for _ in range(manager_count)]
    for index, manager_id in enumerate(manager_ids, start=1):
        users.append(
            {
                "id": manager_id,
                "org_id": org_id,
                "email": f"manager{index}@{options.slug}.example.com",
                "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
                "password_hash": hashes[Role.manager],
                "role": Role.manager,
                "manager_id": None,
                "working_hours": {d: [["08:00", "17:00"]] for d in WORKWEEK},
                "home_location": _wkt_point(*_offset(*CITY_CENTRE, rng.gauss(0, 2000), rng.gauss(0, 2000))),
            }
        )
    rep_ids = [_uuid(rng) for _ in range(options.reps)]
    width = run.number_width
    for index, (rep_id, cell) in enumerate(zip(rep_ids, cells, strict=True)):
        day_start = "07:30" if rng.random() < 0.3 else "08:00"
        day_end = "16:30" if day_start == "07:30" else "17:00"
        home_lat = rng.uniform(cell.min_lat, cell.max_lat)
        home_lon = rng.uniform(cell.min_lon, cell.max_lon)
        users.append(
            {
                "id": rep_id,
                "org_id": org_id,
                "email": f"rep{index + 1:0{width}d}@{options.slug}.example.com",
                "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
                "password_hash": hashes[Role.rep],
                "role": Role.rep,
                "manager_id": manager_ids[index // REPS_PER_MANAGER],
                "working_hours": {d: [[day_start, "12:00"], ["13:00", day_end]] for d in WORKWEEK},
                "home_location": _wkt_point(home_lat, home_lon),
            }
        )
    # Managers first: reps reference them.
    run.insert(User, [u for u in users if u["role"] is not Role.rep])
    run.insert(User, [u for u in users if u["role"] is Role.rep])

    territory_ids = [_uuid(rng) for _ in cells]
    palette = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#469990"]
    run.insert(
        Territory,
        [
            {
                "id": tid,
                "org_id": org_id,
                "name": f"Sector {i + 1:0{width}d}",
                "color": palette[i % len(palette)],
                "geometry": _wkt_rectangle(cell),
            }
            for i, (tid, cell) in enumerate(zip(territory_ids, cells, strict=True))
        ],
    )
    run.insert(
        TerritoryRep,
        [
            {"org_id": org_id, "territory_id": tid, "user_id": rid}
            for tid, rid in zip(territory_ids, rep_ids, strict=True)
        ],
    )
    return _Team(users, rep_ids, territory_ids)


def _customer_rows(run: _SeedRun, places: _Places, team: _Team) -> tuple[list[dict[str, Any]], list[float], list[Tier]]:
    """The customers (not inserted yet: their last visit comes from the history), their
    yearly revenue (Pareto, the 80/20 law) and the A/B/C tiers it gives."""
    rng, count = run.rng, run.options.customers
    territory_of = [0] * count
    for cell_index, cell in enumerate(places.cells):
        for member in cell.members:
            territory_of[member] = cell_index
    statuses = [
        CustomerStatus.customer if r < 0.8 else CustomerStatus.prospect if r < 0.9 else CustomerStatus.lead
        for r in (rng.random() for _ in range(count))
    ]
    revenues = [
        # Pareto with alpha ~1.16 is the 80/20 law.
        round(min(2_000_000.0, 3_000.0 * rng.paretovariate(1.16)), 2) if s is CustomerStatus.customer else 0.0
        for s in statuses
    ]
    tiers = abc_tiers(revenues)
    customer_ids = [_uuid(rng) for _ in range(count)]
    customers: list[dict[str, Any]] = []
    for i in range(count):
        lat, lon = places.positions[i]
        surname = rng.choice(SURNAMES)
        name = f"{rng.choice(BUSINESSES)} {surname}"
        morning_only = rng.random() < 0.2
        windows = {
            d: ([["09:00", "12:00"]] if morning_only else [["09:00", "12:00"], ["14:00", "18:00"]]) for d in WORKWEEK
        }
        if rng.random() < 0.3:
            windows["sat"] = [["09:00", "12:00"]]
        customers.append(
            {
                "id": customer_ids[i],
                "org_id": run.org_id,
                "name": name,
                "status": statuses[i],
                "street": places.addresses[i][0],
                "city": "Lyon",
                "postal_code": places.addresses[i][1],
                "country": "FR",
                "location": _wkt_point(lat, lon),
                "geocode_accuracy": GeocodeAccuracy.rooftop if rng.random() < 0.85 else GeocodeAccuracy.street,
                "territory_id": team.territory_ids[territory_of[i]],
                "owner_id": team.rep_ids[territory_of[i]],
                "tier": tiers[i],
                "annual_revenue": Decimal(f"{revenues[i]:.2f}") if revenues[i] else None,
                "visit_frequency_days": 7 if rng.random() < 0.03 else None,
                "visit_windows": windows,
                "tags": sorted(rng.sample(TAGS, rng.randint(0, 2))),
                "phone": _phone(rng),
                "email": f"contact@{surname.lower()}-{i}.example.fr",
                "website": f"https://{surname.lower()}-{i}.example.fr" if rng.random() < 0.5 else None,
                "notes": None,
                "external_ref": f"DEMO-{i + 1:06d}",
            }
        )
    return customers, revenues, tiers


def _history(
    run: _SeedRun,
    customers: list[dict[str, Any]],
    positions: list[tuple[float, float]],
    revenues: list[float],
    tiers: list[Tier],
) -> _History:
    """Per customer, in this order: contacts, orders, past visits (with notes), an open task."""
    history = _History()
    for i, customer in enumerate(customers):
        history.contacts += _contacts(run, customer)
        if revenues[i] > 0:
            history.orders += _orders(run, customer, revenues[i], tiers[i])
        if customer["status"] is not CustomerStatus.lead:
            customer["last_visit_at"] = _past_visits(run, customer, positions[i], tiers[i], history)
        else:
            customer["last_visit_at"] = None
        if run.rng.random() < 0.1:
            history.tasks.append(_open_task(run, customer))
    return history


def _contacts(run: _SeedRun, customer: dict[str, Any]) -> list[dict[str, Any]]:
    rng = run.rng
    return [
        {
            "id": _uuid(rng),
            "org_id": run.org_id,
            "customer_id": customer["id"],
            "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
            "role": rng.choice(["Owner", "Manager", "Buyer", "Accountant"]),
            "phone": _phone(rng),
            "email": None,
        }
        for _ in range(rng.randint(1, 2))
    ]


ORDERS_PER_YEAR = {Tier.A: 12, Tier.B: 6, Tier.C: 2}
VISIT_EVERY_DAYS = {Tier.A: 14, Tier.B: 28, Tier.C: 56}
VISIT_HISTORY_DAYS = 56


def _orders(run: _SeedRun, customer: dict[str, Any], revenue: float, tier: Tier) -> list[dict[str, Any]]:
    """The purchase history that adds up (about) to the customer's revenue over the history."""
    rng, months = run.rng, run.options.history_months
    count = max(1, ORDERS_PER_YEAR[tier] * months // 12)
    orders = []
    for _ in range(count):
        amount = revenue * months / 12 / count * rng.uniform(0.7, 1.3)
        orders.append(
            {
                "id": _uuid(rng),
                "org_id": run.org_id,
                "customer_id": customer["id"],
                "order_date": run.options.today - timedelta(days=rng.randrange(30 * months)),
                "amount": Decimal(f"{amount:.2f}"),
                "margin": Decimal(f"{amount * rng.uniform(0.15, 0.4):.2f}"),
                "currency": "EUR",
            }
        )
    return orders


def _past_visits(
    run: _SeedRun, customer: dict[str, Any], position: tuple[float, float], tier: Tier, history: _History
) -> datetime | None:
    """Completed, verified visits at the tier's rhythm over the last weeks; returns the latest end."""
    rng, rep_id = run.rng, customer["owner_id"]
    lat, lon = position
    every = VISIT_EVERY_DAYS[tier]
    day = rng.randrange(1, every + 1)
    last_visit: datetime | None = None
    while day <= VISIT_HISTORY_DAYS:
        started = datetime.combine(run.options.today - timedelta(days=day), time(9, 0), tzinfo=UTC) + timedelta(
            minutes=rng.randrange(0, 8 * 60, 15)
        )
        ended = started + timedelta(minutes=rng.choice([20, 30, 45]))
        in_lat, in_lon = _offset(lat, lon, rng.gauss(0, 20), rng.gauss(0, 20))
        visit = {
            "id": _uuid(rng),
            "org_id": run.org_id,
            "customer_id": customer["id"],
            "rep_id": rep_id,
            "planned_start": started,
            "planned_end": ended,
            "status": VisitStatus.completed,
            "check_in_at": started,
            "check_in_location": _wkt_point(in_lat, in_lon),
            "check_out_at": ended,
            "check_out_location": _wkt_point(in_lat, in_lon),
            "verification_status": VerificationStatus.verified,
            "verification_distance_m": round(haversine_m(lat, lon, in_lat, in_lon), 1),
            "outcome": rng.choice(OUTCOMES),
            "notes": None,
        }
        history.visits.append(visit)
        if rng.random() < 0.3:
            history.notes.append(
                {
                    "id": _uuid(rng),
                    "org_id": run.org_id,
                    "customer_id": customer["id"],
                    "author_id": rep_id,
                    "kind": NoteKind.visit,
                    "body": f"Visit: {visit['outcome']}.",
                    "occurred_at": ended,
                }
            )
        last_visit = ended if last_visit is None or ended > last_visit else last_visit
        day += every + rng.randint(-2, 2)
    return last_visit


OPEN_TASK_TITLES = [
    "Bring the new catalogue",
    "Check the display stand",
    "Collect unpaid invoice",
    "Follow up on quote",
    "Install replacement part",
    "Call about the promotion",
]


def _open_task(run: _SeedRun, customer: dict[str, Any]) -> dict[str, Any]:
    rng = run.rng
    return {
        "id": _uuid(rng),
        "org_id": run.org_id,
        "customer_id": customer["id"],
        "assignee_id": customer["owner_id"],
        "kind": rng.choice(list(TaskKind)),
        "title": rng.choice(OPEN_TASK_TITLES),
        "description": None,
        "due_at": run.now + timedelta(days=rng.randint(-3, 14)),
        "priority": rng.choice(list(TaskPriority)),
        "status": TaskStatus.open,
    }


def seed_size(options: SeedOptions) -> int:
    """Rough number of rows, for a progress bar."""
    return options.customers * 9 + options.reps * 3


def demo_logins_still_valid(session: Session, slug: str) -> list[tuple[str, str, str]]:
    """The demo logins of an existing demo organisation whose passwords were not changed."""
    from sqlalchemy import select

    from server.access.credentials import verify_password

    org_id = session.scalar(select(Organization.id).where(Organization.slug == slug))
    if org_id is None:
        return []
    logins: list[tuple[str, str, str]] = []
    for role in (Role.admin, Role.manager, Role.rep):
        users = session.scalars(
            select(User)
            .where(User.org_id == org_id, User.role == role, User.active.is_(True), User.deleted_at.is_(None))
            .order_by(User.email)
            .limit(2 if role is not Role.admin else 1)
        )
        for user in users:
            if verify_password(user.password_hash, DEMO_PASSWORDS[role]):
                logins.append((role.value, user.email, DEMO_PASSWORDS[role]))
    return logins
