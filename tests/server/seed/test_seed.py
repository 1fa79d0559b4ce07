"""`fieldforce seed` is deterministic: the same seed and day give the same rows."""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from server.migrate import upgrade_to_head
from server.models import Customer, Territory, User
from server.seed.demo import SeedOptions, seed_demo
from tests.conftest import create_fresh_database

TABLES = [
    "organizations",
    "users",
    "territories",
    "territory_reps",
    "customers",
    "contacts",
    "orders",
    "visits",
    "notes",
    "tasks",
]
VOLATILE = {"created_at", "updated_at", "password_hash"}  # server clock, random argon2 salt


def fingerprint(url: str) -> dict[str, str]:
    engine = create_engine(url)
    digests: dict[str, str] = {}
    with engine.connect() as conn:
        for table in TABLES:
            columns = [
                row[0]
                for row in conn.execute(
                    text("SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY 1"),
                    {"t": table},
                )
                if row[0] not in VOLATILE
            ]
            order = "id" if "id" in columns else "territory_id, user_id"
            rows = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")).all()
            digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    engine.dispose()
    return digests


def seeded_database(name: str, options: SeedOptions) -> str:
    url = create_fresh_database(name)
    upgrade_to_head(url)
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        seed_demo(session, options)
    engine.dispose()
    return url


def test_same_seed_same_data(worker_suffix):
    options = SeedOptions(reps=5, customers=300, seed=42, today=date(2026, 11, 2))
    first = fingerprint(seeded_database(f"fieldforce_seed_a_{worker_suffix}", options))
    second = fingerprint(seeded_database(f"fieldforce_seed_b_{worker_suffix}", options))
    assert first == second
    other = fingerprint(
        seeded_database(
            f"fieldforce_seed_c_{worker_suffix}", SeedOptions(reps=5, customers=300, seed=43, today=date(2026, 11, 2))
        )
    )
    assert other["customers"] != first["customers"]


def test_seed_shape(db):
    """Territories tile the customers: each customer lies in its territory, tiers follow 80/20."""
    report = seed_demo(db, SeedOptions(reps=8, customers=800, seed=3, today=date(2026, 11, 2), slug="shape"))
    db.flush()
    org = report.org_id
    assert report.counts["customers"] == 800
    outside = db.scalar(
        select(func.count())
        .select_from(Customer)
        .join(Territory, Territory.id == Customer.territory_id)
        .where(Customer.org_id == org, ~func.ST_Covers(Territory.geometry, func.geometry(Customer.location)))
    )
    assert outside == 0
    per_territory = (
        db.execute(
            select(func.count()).select_from(Customer).where(Customer.org_id == org).group_by(Customer.territory_id)
        )
        .scalars()
        .all()
    )
    assert len(per_territory) == 8 and max(per_territory) - min(per_territory) <= 2
    revenue = db.execute(
        select(Customer.tier, func.sum(Customer.annual_revenue)).where(Customer.org_id == org).group_by(Customer.tier)
    ).all()
    shares = {tier.value: float(total or 0) for tier, total in revenue}
    total = sum(shares.values())
    assert 0.78 <= shares["A"] / total <= 0.9
    a_count = db.scalar(select(func.count()).select_from(Customer).where(Customer.org_id == org, Customer.tier == "A"))
    assert a_count < 0.35 * 800  # a minority makes most of the revenue
    assert db.scalar(select(func.count()).select_from(User).where(User.org_id == org)) == 1 + 1 + 8
