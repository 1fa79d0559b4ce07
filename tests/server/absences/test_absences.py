"""Absences: a rep records their own days off, a manager their team's, an admin the
organisation's holidays (which everyone sees); a range is checked before anything is written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.world import WORLD as W

ABSENCES = "/api/v1/absences"


def test_a_rep_records_their_days_off_and_lists_them_by_overlap(client: Any, as_user: Any) -> None:
    rep = as_user("r1")
    created = client.post(ABSENCES, json={"starts_on": "2027-01-04", "ends_on": "2027-01-08"}, headers=rep)
    assert created.status_code == 201, created.text
    assert (created.json()["user_id"], created.json()["kind"]) == (str(W.r1), "day_off")
    in_january = client.get(ABSENCES, params={"date_from": "2027-01-07", "date_to": "2027-01-31"}, headers=rep)
    assert [a["id"] for a in in_january.json()["items"]] == [created.json()["id"]]
    december = client.get(ABSENCES, params={"date_from": "2026-12-01", "date_to": "2026-12-31"}, headers=rep)
    assert {a["id"] for a in december.json()["items"]} == {str(W.r1_day_off), str(W.holiday_a)}


def test_who_records_whose_absence(client: Any, as_user: Any) -> None:
    body = {"starts_on": "2027-02-01", "ends_on": "2027-02-01"}
    for_r2 = client.post(ABSENCES, json={**body, "user_id": str(W.r2)}, headers=as_user("r1"))
    assert (for_r2.status_code, for_r2.json()["code"]) == (403, "FIELD_NOT_ALLOWED")
    by_manager = client.post(ABSENCES, json={**body, "user_id": str(W.r2)}, headers=as_user("m1"))
    assert (by_manager.status_code, by_manager.json()["user_id"]) == (201, str(W.r2))
    other_team = client.post(ABSENCES, json={**body, "user_id": str(W.r3)}, headers=as_user("m1"))
    assert (other_team.status_code, other_team.json()["code"]) == (422, "INVALID_REFERENCE")
    assert client.get(f"{ABSENCES}/{W.r1_day_off}", headers=as_user("m2")).status_code == 404


def test_the_organisations_holidays_are_the_admins_and_everyones(client: Any, as_user: Any) -> None:
    body = {"starts_on": "2027-05-01", "ends_on": "2027-05-01", "kind": "holiday", "organisation_wide": True}
    refused = client.post(ABSENCES, json=body, headers=as_user("m1"))
    assert (refused.status_code, refused.json()["code"]) == (403, "FIELD_NOT_ALLOWED")
    holiday = client.post(ABSENCES, json=body, headers=as_user("admin_a"))
    assert (holiday.status_code, holiday.json()["user_id"]) == (201, None)
    for who in ("m1", "r3"):
        seen = client.get(f"{ABSENCES}/{holiday.json()['id']}", headers=as_user(who))
        assert seen.status_code == 200
    not_mine = client.delete(f"{ABSENCES}/{holiday.json()['id']}", headers=as_user("m1"))
    assert (not_mine.status_code, not_mine.json()["code"]) == (403, "ROLE_FORBIDDEN")
    with_a_user = client.post(ABSENCES, json={**body, "user_id": str(W.r1)}, headers=as_user("admin_a"))
    assert with_a_user.status_code == 422
    assert client.get(f"{ABSENCES}/{W.holiday_a}", headers=as_user("admin_b")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"starts_on": "2027-03-10", "ends_on": "2027-03-09"},
        {"starts_on": "2027-01-01", "ends_on": "2028-02-01"},
    ],
)
def test_a_bad_range_writes_nothing(client: Any, as_user: Any, body: dict[str, str]) -> None:
    before = client.get(ABSENCES, headers=as_user("r1")).json()["items"]
    response = client.post(ABSENCES, json=body, headers=as_user("r1"))
    assert (response.status_code, response.json()["code"]) == (422, "INVALID_DATE_RANGE")
    assert client.get(ABSENCES, headers=as_user("r1")).json()["items"] == before


def test_moving_one_end_is_checked_against_the_other(client: Any, as_user: Any) -> None:
    moved = client.patch(f"{ABSENCES}/{W.r1_day_off}", json={"ends_on": "2026-12-23"}, headers=as_user("r1"))
    assert (moved.status_code, moved.json()["code"]) == (422, "INVALID_DATE_RANGE")
    longer = client.patch(f"{ABSENCES}/{W.r1_day_off}", json={"ends_on": "2026-12-31"}, headers=as_user("r1"))
    assert (longer.status_code, longer.json()["ends_on"]) == (200, "2026-12-31")
