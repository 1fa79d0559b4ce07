"""Leads to pipeline (assignment, convert, stage history, forecast) and customer analytics
(RFM and churn on a hand-computed purchase history, Pareto, next best actions, the planner)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.analytics.rfm import recompute_customer_analytics
from server.models import Customer, CustomerAnalytics, Opportunity, Order, Organization, Task
from server.planning.repository import load_planning_input
from tests.server.world import WORLD as W

INSIDE_T1 = {"lat": 45.755, "lon": 4.805}
OUTSIDE_ALL = {"lat": 45.9, "lon": 5.3}


def create_lead(client: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/customers", json={"name": "Lead", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


# ---- lead assignment ------------------------------------------------------------------------------


def test_leads_go_to_the_territory_rep_else_round_robin_else_the_unassigned_queue(client, as_user):
    by_territory = create_lead(client, as_user("m1"), location=INSIDE_T1)
    assert (by_territory["owner_id"], by_territory["assigned_by"]) == (str(W.r1), "territory")
    # m1 manages r1 and r2: outside every territory, their leads alternate between them.
    owners = [create_lead(client, as_user("m1"), location=OUTSIDE_ALL)["owner_id"] for _ in range(3)]
    assert sorted(owners[:2]) == sorted([str(W.r1), str(W.r2)]) and owners[2] == owners[0]
    assert {create_lead(client, as_user("m1"))["assigned_by"] for _ in range(2)} == {"round_robin"}
    admins = create_lead(client, as_user("admin_a"), location=OUTSIDE_ALL)
    assert (admins["owner_id"], admins["assigned_by"]) == (None, "unassigned")
    queue = client.get("/api/v1/customers?assigned_by=unassigned", headers=as_user("admin_a")).json()["items"]
    assert [c["id"] for c in queue] == [admins["id"]]
    named = create_lead(client, as_user("admin_a"), owner_id=str(W.r3))
    assert (named["owner_id"], named["assigned_by"]) == (str(W.r3), "manual")
    # A rep keeps what they capture on their own ground or outside every territory;
    # a lead on a colleague's territory goes to that colleague.
    assert create_lead(client, as_user("r1"), location=INSIDE_T1)["owner_id"] == str(W.r1)
    assert create_lead(client, as_user("r1"), location=OUTSIDE_ALL)["assigned_by"] == "manual"
    other = create_lead(client, as_user("r1"), location={"lat": 45.755, "lon": 4.825})
    assert (other["owner_id"], other["assigned_by"]) == (str(W.r3), "territory")


def test_imported_leads_are_assigned_and_fire_rules(client, as_user, db, tmp_path):
    from server.customers.importer import import_customers

    rule = {
        "name": "Imported lead",
        "trigger": "lead_created",
        "actions": [{"type": "create_task", "title": "Call new lead {name}", "assignee": "owner", "kind": "call"}],
    }
    assert client.post("/api/v1/workflow-rules", json=rule, headers=as_user("admin_a")).status_code == 201
    csv = tmp_path / "leads.csv"
    csv.write_text("name,status,lat,lon\nImported One,lead,45.755,4.805\nNowhere,lead,45.9,5.3\n", encoding="utf-8")
    report = import_customers(db, W.org_a, csv)
    assert report.created == 2
    one = db.scalar(select(Customer).where(Customer.org_id == W.org_a, Customer.name == "Imported One"))
    nowhere = db.scalar(select(Customer).where(Customer.org_id == W.org_a, Customer.name == "Nowhere"))
    assert (one.owner_id, one.assigned_by) == (W.r1, "territory")
    assert (nowhere.owner_id, nowhere.assigned_by) == (None, "unassigned")
    [task] = db.scalars(select(Task).where(Task.title == "Call new lead Imported One"))
    assert task.assignee_id == W.r1
    # Nobody to assign the unassigned one's task to: logged as failed, the import stands.
    assert not list(db.scalars(select(Task).where(Task.title == "Call new lead Nowhere")))


# ---- convert, history, forecast ---------------------------------------------------------------------


def test_converting_a_lead_once_in_one_transaction(client, as_user, db):
    lead = create_lead(client, as_user("r1"), location=INSIDE_T1)
    body = {
        "status": "prospect",
        "opportunity": {
            "title": "First order",
            "stage": "proposal",
            "amount": "1200.00",
            "expected_close_date": "2026-12-20",
        },
        "follow_up": {"due_in_days": 2},
    }
    response = client.post(f"/api/v1/customers/{lead['id']}/convert", json=body, headers=as_user("r1"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["customer"]["status"] == "prospect"
    assert result["opportunity"]["stage"] == "proposal" and result["opportunity"]["probability"] == 50
    assert result["task"]["assignee_id"] == str(W.r1) and result["task"]["kind"] == "follow_up"
    again = client.post(f"/api/v1/customers/{lead['id']}/convert", json=body, headers=as_user("r1"))
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_CONVERTED"
    history = client.get(f"/api/v1/opportunities/{result['opportunity']['id']}/history", headers=as_user("r1")).json()
    assert [(h["from_stage"], h["to_stage"]) for h in history["items"]] == [(None, "proposal")]


def test_a_failed_conversion_leaves_the_lead_as_it_was(client, as_user, db):
    lead = create_lead(client, as_user("m1"), location=INSIDE_T1)
    body = {"opportunity": {"title": "x"}, "follow_up": {"assignee_id": str(W.r3)}}  # r3 is not m1's
    response = client.post(f"/api/v1/customers/{lead['id']}/convert", json=body, headers=as_user("m1"))
    assert response.status_code == 422 and response.json()["code"] == "INVALID_REFERENCE"
    assert client.get(f"/api/v1/customers/{lead['id']}", headers=as_user("m1")).json()["status"] == "lead"
    assert not list(db.scalars(select(Opportunity).where(Opportunity.customer_id == uuid.UUID(lead["id"]))))
    other = client.post(
        f"/api/v1/customers/{lead['id']}/convert", json={"opportunity": {"title": "x"}}, headers=as_user("r2")
    )
    assert other.status_code == 404


def test_stage_probabilities_come_from_the_settings_and_the_forecast_weights_them(client, as_user, db):
    db.execute(update(Organization).where(Organization.id == W.org_a).values(stage_probabilities={"proposal": 40}))
    db.flush()
    admin = as_user("admin_a")

    def deal(customer: uuid.UUID, stage: str, amount: str, close: str) -> None:
        body = {
            "customer_id": str(customer),
            "title": f"{stage} deal",
            "stage": stage,
            "amount": amount,
            "expected_close_date": close,
        }
        assert client.post("/api/v1/opportunities", json=body, headers=admin).status_code == 201

    deal(W.c1, "proposal", "1000.00", "2027-01-10")  # r1: 40 %
    deal(W.c1, "negotiation", "2000.00", "2027-01-20")  # r1: 75 %
    deal(W.c2, "won", "500.00", "2027-02-05")  # r2: 100 %
    deal(W.c2, "lost", "9999.00", "2027-02-06")  # never counted
    deal(W.c3, "qualified", "400.00", "2027-01-02")  # r3 (m2's team)
    forecast = client.get("/api/v1/reports/forecast?start_month=2027-01-01&months=2", headers=as_user("m1")).json()
    assert forecast["months"] == ["2027-01", "2027-02"]
    cells = {
        (r["key"], r["month"]): (Decimal(r["amount"]), Decimal(r["weighted"]), r["opportunities"])
        for r in forecast["rows"]
    }
    assert cells == {
        (str(W.r1), "2027-01"): (Decimal("3000.00"), Decimal("1900.00"), 2),
        (str(W.r2), "2027-02"): (Decimal("500.00"), Decimal("500.00"), 1),
    }
    by_team = client.get("/api/v1/reports/forecast?start_month=2027-01-01&months=2&group_by=team", headers=admin).json()
    teams = {(r["key"], r["month"]): Decimal(r["weighted"]) for r in by_team["rows"]}
    assert teams[(str(W.m1), "2027-01")] == Decimal("1900.00") and teams[(str(W.m2), "2027-01")] == Decimal("100.00")
    assert Decimal(by_team["totals"]["2027-01"]["weighted"]) == Decimal("2000.00")
    # A stage change without a probability takes the new stage's default.
    opp = db.scalar(select(Opportunity).where(Opportunity.title == "proposal deal"))
    moved = client.patch(f"/api/v1/opportunities/{opp.id}", json={"stage": "negotiation"}, headers=admin).json()
    assert moved["probability"] == 75


# ---- RFM and churn on a hand-computed purchase history --------------------------------------------------

TODAY = date(2026, 12, 1)


def _history(db: Session) -> dict[str, uuid.UUID]:
    """Five buyers whose R, F and M quintiles are each 1..5 (docs/crm.md walks through them)."""
    db.execute(update(Order).where(Order.org_id == W.org_a).values(deleted_at=datetime.now(UTC)))
    plans = {
        "k1": [(date(2026, 9, 1) + timedelta(days=10 * n), "1000") for n in range(9)],
        "k2": [(date(2026, month, 1), "500") for month in range(6, 12)],
        "k3": [(date(2026, month, 10), "2000") for month in range(1, 6)],
        "k4": [(date(2026, 11, 25), "300")],
        "k5": [(date(2025, 6, 1), "50")],
    }
    ids = {}
    for name, orders in plans.items():
        customer = Customer(
            id=uuid.uuid4(), org_id=W.org_a, name=name, status="customer", territory_id=W.t1, owner_id=W.r1
        )
        db.add(customer)
        db.flush()
        ids[name] = customer.id
        for day, amount in orders:
            db.add(Order(org_id=W.org_a, customer_id=customer.id, order_date=day, amount=Decimal(amount)))
    db.flush()
    return ids


def test_rfm_segments_and_churn_risk_by_hand(client, as_user, db):
    ids = _history(db)
    result = recompute_customer_analytics(db, W.org_a, today=TODAY)
    assert result["changed"] == 8  # five buyers and c1..c3 with no purchases
    got = {name: db.get(CustomerAnalytics, customer_id) for name, customer_id in ids.items()}
    scores = {name: (a.r_score, a.f_score, a.m_score, a.segment) for name, a in got.items()}
    assert scores == {
        "k1": (4, 5, 4, "champions"),
        "k2": (3, 4, 3, "loyal"),
        "k3": (2, 3, 5, "at_risk"),
        "k4": (5, 2, 2, "new"),
        "k5": (1, 1, 1, "lost"),
    }
    assert got["k1"].usual_interval_days == 10 and got["k1"].recency_days == 11
    assert abs(got["k2"].usual_interval_days - 30.6) < 1e-9
    assert got["k3"].usual_interval_days == 30 and got["k3"].recency_days == 205
    assert {name for name, a in got.items() if a.churn_risk} == {"k3"}
    assert db.get(CustomerAnalytics, W.c1).segment == "no_purchases"
    # Stored on the customer, filterable; a second run changes nothing.
    assert recompute_customer_analytics(db, W.org_a, today=TODAY) == {"changed": 0}
    at_risk = client.get("/api/v1/customers?churn_risk=true", headers=as_user("r1")).json()["items"]
    assert [c["name"] for c in at_risk] == ["k3"]
    champions = client.get("/api/v1/customers?rfm_segment=champions", headers=as_user("r1")).json()["items"]
    assert [c["name"] for c in champions] == ["k1"]
    segments = {
        s["segment"]: s for s in client.get("/api/v1/analytics/segments", headers=as_user("m1")).json()["segments"]
    }
    assert segments["no_purchases"]["customers"] == 2  # m1 sees c1 and c2, not c3
    assert segments["at_risk"]["churn_risk"] == 1 and Decimal(segments["at_risk"]["revenue_12m"]) == Decimal("10000.00")
    churn = client.get("/api/v1/analytics/churn-risk", headers=as_user("m1")).json()["reps"]
    assert [(r["rep_id"], [c["name"] for c in r["customers"]], Decimal(r["revenue_at_stake"])) for r in churn] == [
        (str(W.r1), ["k3"], Decimal("10000.00"))
    ]
    assert client.get("/api/v1/analytics/churn-risk", headers=as_user("r3")).json()["reps"] == []


def test_pareto_and_the_abc_cut(client, as_user, db):
    _history(db)
    pareto = client.get("/api/v1/analytics/pareto?months=12", headers=as_user("admin_a")).json()
    # Revenue within 360 days of today: k3 10,000 (if still within), k1 9,000, k2 3,000, k4 300.
    amounts = sorted((Decimal(t["revenue"]) for t in pareto["tiers"]), reverse=True)
    assert sum(amounts) == Decimal(pareto["total_revenue"])
    assert pareto["customers"] == 8
    curve = {p["top_percent"]: p for p in pareto["curve"]}
    total = Decimal(pareto["total_revenue"])
    assert curve[100]["revenue_share"] == 1.0
    assert curve[20]["customers"] == 2 and abs(curve[20]["revenue_share"] - float(Decimal("19000") / total)) < 1e-4
    assert sum(t["customers"] for t in pareto["tiers"]) == 8
    territory = client.get(f"/api/v1/analytics/pareto?territory_id={W.t2}", headers=as_user("admin_a")).json()
    assert territory["customers"] == 1 and Decimal(territory["total_revenue"]) == 0
    hidden = client.get(f"/api/v1/analytics/pareto?territory_id={W.t3}", headers=as_user("m1"))
    assert hidden.status_code == 404 and hidden.json()["code"] == "TERRITORY_NOT_FOUND"


def test_next_best_actions_and_the_planner_bring_an_at_risk_customer_forward(client, as_user, db):
    ids = _history(db)
    recompute_customer_analytics(db, W.org_a, today=TODAY)
    now = datetime.now(UTC)
    db.execute(update(Task).where(Task.id == W.child("task", W.c1)).values(due_at=now - timedelta(days=3)))
    db.execute(update(Customer).where(Customer.id == W.c1).values(tier="A", last_visit_at=None))
    db.execute(
        update(Opportunity).where(Opportunity.id == W.child("opportunity", W.c1)).values(expected_close_date=now.date())
    )
    db.flush()
    actions = client.get(f"/api/v1/users/{W.r1}/next-actions", headers=as_user("r1")).json()["items"]
    kinds = [(a["kind"], a["entity_id"]) for a in actions]
    assert kinds == [
        ("overdue_task", str(W.child("task", W.c1))),
        ("overdue_a_customer", str(W.c1)),
        ("churn_risk", str(ids["k3"])),
        ("closing_this_month", str(W.child("opportunity", W.c1))),
    ]
    assert Decimal(actions[2]["revenue_at_stake"]) == Decimal("10000.00")

    # k3 is at risk: with the default factor 0.5 its tier's 30 days become 15 for the planner.
    db.execute(
        update(Customer).where(Customer.id == ids["k3"]).values(tier="B", location="SRID=4326;POINT(4.806 45.756)")
    )
    db.execute(
        update(Customer).where(Customer.id == ids["k2"]).values(tier="B", location="SRID=4326;POINT(4.807 45.756)")
    )
    db.flush()
    planning = load_planning_input(db, W.org_a, [W.r1], TODAY, 5)
    rows = {row.id: row for row in planning.customers}
    tier_b = planning.settings.visit_frequency_days["B"]
    assert rows[ids["k3"]].visit_frequency_days == max(1, round(tier_b * 0.5))
    assert rows[ids["k2"]].visit_frequency_days is None
    db.execute(update(Organization).where(Organization.id == W.org_a).values(at_risk_visit_factor=1.0))
    db.flush()
    rows = {row.id: row for row in load_planning_input(db, W.org_a, [W.r1], TODAY, 5).customers}
    assert rows[ids["k3"]].visit_frequency_days is None


def test_crm_settings_are_read_and_changed_with_the_organisations(client, as_user):
    settings = client.get("/api/v1/organizations/me/settings", headers=as_user("r1")).json()
    assert settings["stage_probabilities"]["proposal"] == 50 and settings["churn_margin"] == 1.5
    assert settings["at_risk_visit_factor"] == 0.5
    changed = client.patch(
        "/api/v1/organizations/me/settings",
        json={"stage_probabilities": {"proposal": 35}, "churn_margin": 2, "at_risk_visit_factor": 0.75},
        headers=as_user("admin_a"),
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["stage_probabilities"]["proposal"] == 35 and body["stage_probabilities"]["qualified"] == 25
    assert (body["churn_margin"], body["at_risk_visit_factor"]) == (2, 0.75)
    won = client.patch(
        "/api/v1/organizations/me/settings", json={"stage_probabilities": {"won": 90}}, headers=as_user("admin_a")
    )
    assert won.status_code == 422 and won.json()["code"] == "INVALID_PROBABILITY"
    too_low = client.patch("/api/v1/organizations/me/settings", json={"churn_margin": 0.5}, headers=as_user("admin_a"))
    assert too_low.status_code == 422
