"""Reports over HTTP against a small organisation whose every figure is computed by hand.

The week of 2026-10-05 in Europe/Paris (UTC+2), in organisation A of the test world:
rep r1 (team m1) has a full day on Monday the 5th and a visit just after midnight on
Tuesday the 6th (23:30 UTC on the 5th: the organisation's time zone decides the day);
rep r2 (team m1) one visit; rep r3 (team m2) nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from server.models import (
    Customer,
    Opportunity,
)
from shared.enums import OpportunityStage
from tests.server.world import WORLD as W

PERIOD = {"start": "2026-10-05", "end": "2026-10-07"}


def get(client, as_user, who: str, name: str, **params: str):
    return client.get(f"/api/v1/reports/{name}", params={**PERIOD, **params}, headers=as_user(who))


def by_rep(body: dict) -> dict[str, dict]:
    return {row["rep"]: row["figures"] for row in body["rows"]}


def test_each_figure_by_rep_matches_the_hand_count(client, as_user, week) -> None:
    response = get(client, as_user, "m1", "kpis")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "Europe/Paris" and body["group_by"] == "rep"
    reps = by_rep(body)
    assert set(reps) == {"r1", "r2"}  # m1's team; r3 is m2's
    assert reps["r1"] == {
        "planned": 5,  # Monday's four kept and Tuesday's one (the cancelled visit counts nowhere)
        "planned_done": 3,
        "adherence_pct": 60.0,
        "visits_completed": 4,
        "unplanned_completed": 1,
        "active_reps": 1,
        "active_rep_days": 2,
        "visits_per_rep_day": 2.0,
        "unique_customers": 3,
        "productive": 2,
        "productive_pct": 50.0,
        "time_on_site_h": 1.58,  # 30 + 30 + 20 + 15 minutes
        "time_in_field_h": 10.5,
        "on_site_share_pct": 15.1,  # 95 of 630 minutes
        "drive_km": 3.0,
        "drive_h": 0.08,  # 5 minutes
        "checked_in": 4,
        "verified": 2,
        "verified_pct": 50.0,
        "missed": 1,
        "late": 1,
        "skipped": 1,
        "tasks_done": 1,
        "tasks_overdue": 1,
        "leads_created": 1,
    }
    assert (reps["r2"]["planned"], reps["r2"]["adherence_pct"], reps["r2"]["productive"]) == (1, 100.0, 0)
    assert (reps["r2"]["time_on_site_h"], reps["r2"]["active_rep_days"]) == (0.75, 1)
    # Totals are computed from the sums, not averaged from the rows' shares.
    total = body["total"]
    assert (total["planned"], total["planned_done"], total["adherence_pct"]) == (6, 4, 66.7)
    assert (total["unique_customers"], total["active_reps"], total["visits_per_rep_day"]) == (3, 2, 1.67)


def test_by_team_and_by_day_in_the_organisations_time_zone(client, as_user, week) -> None:
    teams = get(client, as_user, "admin_a", "plan-adherence", group_by="team").json()
    assert {row["team"]: row["figures"]["planned"] for row in teams["rows"]} == {"m1": 6, "m2": 0}
    assert all(row["rep_id"] is None for row in teams["rows"])
    days = get(client, as_user, "m1", "visits", group_by="day", rep_id=str(W.r1)).json()
    rows = {row["day"]: row["figures"] for row in days["rows"]}
    assert set(rows) == {"2026-10-05", "2026-10-06"}  # the 23:30 UTC visit is Tuesday's in Paris
    assert (rows["2026-10-05"]["visits_completed"], rows["2026-10-05"]["unique_customers"]) == (3, 2)
    assert (rows["2026-10-06"]["visits_completed"], rows["2026-10-06"]["unique_customers"]) == (1, 1)
    late = get(client, as_user, "m1", "missed-late", rep_id=str(W.r1)).json()["rows"][0]["figures"]
    assert late == {"planned": 5, "missed": 1, "missed_pct": 20.0, "late": 1, "late_pct": 20.0, "skipped": 1}
    verification = get(client, as_user, "m1", "verification", rep_id=str(W.r1)).json()["rows"][0]["figures"]
    assert verification == {
        "checked_in": 4,
        "verified": 2,
        "unverified": 1,
        "out_of_range": 1,
        "pending": 0,
        "verified_pct": 50.0,
    }
    sync = get(client, as_user, "m1", "sync-health", rep_id=str(W.r1)).json()["rows"][0]["figures"]
    assert (sync["mutations"], sync["conflicts"], sync["rejections"]) == (2, 1, 0)
    assert sync["last_sync_at"].startswith("2026-10-06T07:00")


def test_coverage_and_pipeline_stand_at_the_periods_end(client, as_user, db: Session, week) -> None:
    # c4: r2's A customer, never visited: overdue. c1 (r1, tier C) was seen on Monday.
    db.add(Customer(org_id=W.org_a, name="Never seen", owner_id=W.r2, status="customer", tier="A"))
    db.add(Opportunity(org_id=W.org_a, customer_id=W.c1, title="Big", stage=OpportunityStage.proposal, amount=1000))
    db.add(Opportunity(org_id=W.org_a, customer_id=W.c1, title="Won", stage=OpportunityStage.won, amount=500))
    db.flush()
    coverage = by_rep(get(client, as_user, "m1", "coverage").json())
    assert (coverage["r1"]["customers"], coverage["r1"]["seen"], coverage["r1"]["coverage_pct"]) == (1, 1, 100.0)
    assert (coverage["r2"]["A_customers"], coverage["r2"]["A_overdue"], coverage["r2"]["C_seen"]) == (1, 1, 1)
    assert (coverage["r2"]["coverage_pct"], coverage["r2"]["overdue"]) == (50.0, 1)
    pipeline = by_rep(get(client, as_user, "m1", "pipeline").json())
    # r1's customer c1: the world's "Deal" (a lead, no amount), a proposal and a won deal.
    assert (pipeline["r1"]["open_count"], pipeline["r1"]["open_amount"]) == (2, 1000.0)
    assert (pipeline["r1"]["won_count"], pipeline["r1"]["won_amount"]) == (1, 500.0)
    refused = get(client, as_user, "m1", "coverage", group_by="day")
    assert refused.status_code == 422 and refused.json()["code"] == "GROUP_BY_NOT_SUPPORTED"


def test_csv_holds_the_same_figures_as_json(client, as_user, week) -> None:
    as_json = get(client, as_user, "m1", "plan-adherence").json()
    response = get(client, as_user, "m1", "plan-adherence", format="csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert 'filename="plan-adherence-2026-10-05-2026-10-07-by-rep.csv"' in response.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(response.text)))
    assert [line["rep"] for line in lines] == [row["rep"] for row in as_json["rows"]] + [""]
    for line, row in zip(lines, as_json["rows"], strict=False):
        for name, value in row["figures"].items():
            assert line[name] == ("" if value is None else str(value))
    assert lines[-1]["team"] == "Total" and lines[-1]["adherence_pct"] == str(as_json["total"]["adherence_pct"])
    by_accept = client.get(
        "/api/v1/reports/plan-adherence", params=PERIOD, headers={**as_user("m1"), "Accept": "text/csv"}
    )
    assert by_accept.text == response.text


def test_everyone_sees_their_own_scope_and_nothing_else(client, as_user, week) -> None:
    assert set(by_rep(get(client, as_user, "r1", "kpis").json())) == {"r1"}
    assert set(by_rep(get(client, as_user, "m2", "kpis").json())) == {"r3"}
    assert set(by_rep(get(client, as_user, "admin_a", "kpis").json())) == {"r1", "r2", "r3"}
    assert by_rep(get(client, as_user, "admin_b", "kpis").json()) == {}
    for who, params in (
        ("m1", {"team_id": str(W.m2)}),
        ("m1", {"rep_id": str(W.r3)}),
        ("r1", {"rep_id": str(W.r2)}),
        ("admin_b", {"rep_id": str(W.r1)}),
    ):
        response = get(client, as_user, who, "kpis", **params)
        assert response.status_code == 404, (who, params)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/reports/kpis", params=PERIOD).status_code == 401


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"start": "2026-10-07", "end": "2026-10-05"}, "INVALID_PERIOD"),
        ({"start": "2025-01-01", "end": "2026-10-05"}, "PERIOD_TOO_LONG"),
        ({"start": "2026-13-01", "end": "2026-10-05"}, "VALIDATION_FAILED"),
        ({"group_by": "week"}, "VALIDATION_FAILED"),
        ({"format": "xml"}, "VALIDATION_FAILED"),
    ],
)
def test_bad_parameters_are_a_clear_422(client, as_user, params: dict[str, str], code: str) -> None:
    response = client.get("/api/v1/reports/kpis", params={**PERIOD, **params}, headers=as_user("m1"))
    assert response.status_code == 422 and response.json()["code"] == code


def test_the_catalogue_and_an_unknown_report(client, as_user) -> None:
    catalogue = client.get("/api/v1/reports", headers=as_user("r1")).json()["reports"]
    names = [report["name"] for report in catalogue]
    assert {"kpis", "plan-adherence", "coverage", "pipeline", "sync-health", "drive"} <= set(names)
    missing = client.get("/api/v1/reports/nonsense", params=PERIOD, headers=as_user("m1"))
    assert missing.status_code == 404 and missing.json()["code"] == "REPORT_NOT_FOUND"


def test_no_activity_gives_zeros_and_no_shares(client, as_user) -> None:
    body = client.get(
        "/api/v1/reports/kpis", params={"start": "2020-01-06", "end": "2020-01-06"}, headers=as_user("m1")
    ).json()
    assert all(row["figures"]["planned"] == 0 and row["figures"]["adherence_pct"] is None for row in body["rows"])
    assert body["total"]["visits_per_rep_day"] is None
    assert datetime.fromisoformat(body["generated_at"]).tzinfo is not None


def test_every_figure_of_every_report_has_a_definition() -> None:
    from server.reports.schemas import FIGURES, REPORTS
    from server.reports.service import ACTIVITY_FIGURES, FIGURE_SOURCES

    for spec in REPORTS.values():
        assert set(spec.figures) <= set(FIGURES), spec.name
        if not spec.snapshot:
            assert set(spec.figures) <= set(ACTIVITY_FIGURES), spec.name
            sourced = set().union(*FIGURE_SOURCES.values()) | {"unique_customers", "last_sync_at"}
            assert set(spec.figures) <= sourced, spec.name
