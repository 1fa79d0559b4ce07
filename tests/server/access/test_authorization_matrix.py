"""Every endpoint, for every kind of caller, answers the status the rules say.

Callers: `admin` (admin of org A), `manager` (m1, who manages r1 and r2),
`rep` (r1, who works territory t1 and customer c1), `other` (admin of org B:
org A's rows must look like they do not exist — 404 on ids, 422 on references
in a body), `anonymous` (401 everywhere). Targets are r1's rows unless a row
says otherwise, so admin, manager and rep can all reach them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.server.world import WORLD as W

CALLERS = {"admin": "admin_a", "manager": "m1", "rep": "r1", "other": "admin_b"}


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    expected: dict[str, int]  # caller -> status; anonymous is always 401
    body: Callable[[], dict[str, Any]] | None = None
    content: bytes | None = None  # a raw body (file uploads)
    anonymous: int = 401  # a secret URL (a calendar feed) answers without a login


def statuses(admin: int, manager: int, rep: int, other: int) -> dict[str, int]:
    return {"admin": admin, "manager": manager, "rep": rep, "other": other}


READ_ALL = statuses(200, 200, 200, 200)
HELLO_SHA256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
READ_ONE = statuses(200, 200, 200, 404)
C1 = W.c1
UNKNOWN = "00000000-0000-0000-0000-00000000beef"


def child(kind: str) -> str:
    return str(W.child(kind, C1))


CASES: list[Case] = [
    # users
    Case("list users", "GET", "/api/v1/users", READ_ALL),
    Case("me", "GET", "/api/v1/users/me", READ_ALL),
    Case("get own rep", "GET", f"/api/v1/users/{W.r1}", READ_ONE),
    Case("get rep of another team", "GET", f"/api/v1/users/{W.r3}", statuses(200, 404, 404, 404)),
    Case(
        "create rep",
        "POST",
        "/api/v1/users",
        statuses(201, 201, 403, 201),
        lambda: {"email": "new.rep@world.test", "password": "a-long-password", "role": "rep"},
    ),
    Case(
        "create manager",
        "POST",
        "/api/v1/users",
        statuses(201, 403, 403, 201),
        lambda: {"email": "new.manager@world.test", "password": "a-long-password", "role": "manager"},
    ),
    Case("rename rep", "PATCH", f"/api/v1/users/{W.r1}", statuses(200, 200, 200, 404), lambda: {"full_name": "R"}),
    Case(
        "change rep role", "PATCH", f"/api/v1/users/{W.r1}", statuses(200, 403, 403, 404), lambda: {"role": "manager"}
    ),
    Case("delete rep", "DELETE", f"/api/v1/users/{W.r2}", statuses(204, 204, 404, 404)),
    # territories
    Case("list territories", "GET", "/api/v1/territories", READ_ALL),
    Case("get territory", "GET", f"/api/v1/territories/{W.t1}", READ_ONE),
    Case("get territory of another team", "GET", f"/api/v1/territories/{W.t3}", statuses(200, 404, 404, 404)),
    Case(
        "create territory",
        "POST",
        "/api/v1/territories",
        statuses(201, 201, 403, 422),
        lambda: {
            "name": "North",
            "rep_ids": [str(W.r1)],
            "geometry": {"type": "Polygon", "coordinates": [[[4.9, 45.8], [4.91, 45.8], [4.91, 45.81], [4.9, 45.8]]]},
        },
    ),
    Case(
        "rename territory",
        "PATCH",
        f"/api/v1/territories/{W.t1}",
        statuses(200, 200, 403, 404),
        lambda: {"name": "Renamed"},
    ),
    Case("delete territory", "DELETE", f"/api/v1/territories/{W.t1}", statuses(204, 204, 403, 404)),
    # customers
    Case("list customers", "GET", "/api/v1/customers", READ_ALL),
    Case("nearest customers", "GET", "/api/v1/customers/nearest?lat=45.75&lon=4.8", READ_ALL),
    Case("get customer", "GET", f"/api/v1/customers/{C1}", READ_ONE),
    Case("get customer of another territory", "GET", f"/api/v1/customers/{W.c3}", statuses(200, 404, 404, 404)),
    Case("create customer", "POST", "/api/v1/customers", statuses(201, 201, 201, 201), lambda: {"name": "Lead"}),
    Case(
        "fix customer phone",
        "PATCH",
        f"/api/v1/customers/{C1}",
        statuses(200, 200, 200, 404),
        lambda: {"phone": "+33 4 72 00 00 01"},
    ),
    Case(
        "change customer tier", "PATCH", f"/api/v1/customers/{C1}", statuses(200, 200, 403, 404), lambda: {"tier": "A"}
    ),
    Case("delete customer", "DELETE", f"/api/v1/customers/{C1}", statuses(204, 204, 403, 404)),
    # contacts
    Case("list contacts", "GET", "/api/v1/contacts", READ_ALL),
    Case("get contact", "GET", f"/api/v1/contacts/{child('contact')}", READ_ONE),
    Case(
        "create contact",
        "POST",
        "/api/v1/contacts",
        statuses(201, 201, 201, 422),
        lambda: {"customer_id": str(C1), "name": "Jo"},
    ),
    Case(
        "update contact",
        "PATCH",
        f"/api/v1/contacts/{child('contact')}",
        statuses(200, 200, 200, 404),
        lambda: {"role": "Buyer"},
    ),
    Case("delete contact", "DELETE", f"/api/v1/contacts/{child('contact')}", statuses(204, 204, 204, 404)),
    # visits
    Case("list visits", "GET", "/api/v1/visits", READ_ALL),
    Case("get visit", "GET", f"/api/v1/visits/{child('visit')}", READ_ONE),
    Case("get visit of another team", "GET", f"/api/v1/visits/{W.child('visit', W.c3)}", statuses(200, 404, 404, 404)),
    Case(
        "create visit",
        "POST",
        "/api/v1/visits",
        statuses(201, 201, 201, 422),
        lambda: {"customer_id": str(C1), "rep_id": str(W.r1)},
    ),
    Case(
        "update visit",
        "PATCH",
        f"/api/v1/visits/{child('visit')}",
        statuses(200, 200, 200, 404),
        lambda: {"notes": "Went well"},
    ),
    Case("delete visit", "DELETE", f"/api/v1/visits/{child('visit')}", statuses(204, 204, 403, 404)),
    # tasks
    Case("list tasks", "GET", "/api/v1/tasks", READ_ALL),
    Case("get task", "GET", f"/api/v1/tasks/{child('task')}", READ_ONE),
    Case(
        "create task",
        "POST",
        "/api/v1/tasks",
        statuses(201, 201, 201, 422),
        lambda: {"customer_id": str(C1), "assignee_id": str(W.r1), "title": "Call back"},
    ),
    Case(
        "start task",
        "PATCH",
        f"/api/v1/tasks/{child('task')}",
        statuses(200, 200, 200, 404),
        lambda: {"status": "in_progress"},
    ),
    Case(
        "retitle task",
        "PATCH",
        f"/api/v1/tasks/{child('task')}",
        statuses(200, 200, 403, 404),
        lambda: {"title": "Other"},
    ),
    Case("delete task", "DELETE", f"/api/v1/tasks/{child('task')}", statuses(204, 204, 403, 404)),
    # opportunities
    Case("list opportunities", "GET", "/api/v1/opportunities", READ_ALL),
    Case("get opportunity", "GET", f"/api/v1/opportunities/{child('opportunity')}", READ_ONE),
    Case(
        "create opportunity",
        "POST",
        "/api/v1/opportunities",
        statuses(201, 201, 201, 422),
        lambda: {"customer_id": str(C1), "title": "Renewal", "amount": "1200.00"},
    ),
    Case(
        "update opportunity",
        "PATCH",
        f"/api/v1/opportunities/{child('opportunity')}",
        statuses(200, 200, 200, 404),
        lambda: {"stage": "qualified"},
    ),
    Case("delete opportunity", "DELETE", f"/api/v1/opportunities/{child('opportunity')}", statuses(204, 204, 403, 404)),
    # orders
    Case("list orders", "GET", "/api/v1/orders", READ_ALL),
    Case("get order", "GET", f"/api/v1/orders/{child('order')}", READ_ONE),
    Case(
        "create order",
        "POST",
        "/api/v1/orders",
        statuses(201, 201, 403, 422),
        lambda: {"customer_id": str(C1), "order_date": "2026-11-01", "amount": "99.90"},
    ),
    Case(
        "update order",
        "PATCH",
        f"/api/v1/orders/{child('order')}",
        statuses(200, 200, 403, 404),
        lambda: {"amount": "120.00"},
    ),
    Case("delete order", "DELETE", f"/api/v1/orders/{child('order')}", statuses(204, 204, 403, 404)),
    # notes
    Case("list notes", "GET", "/api/v1/notes", READ_ALL),
    Case("get note", "GET", f"/api/v1/notes/{child('note')}", READ_ONE),
    Case(
        "create note",
        "POST",
        "/api/v1/notes",
        statuses(201, 201, 201, 422),
        lambda: {"customer_id": str(C1), "body": "Met the owner"},
    ),
    Case(
        "update note",
        "PATCH",
        f"/api/v1/notes/{child('note')}",
        statuses(200, 200, 200, 404),
        lambda: {"body": "Edited"},
    ),
    Case("delete note", "DELETE", f"/api/v1/notes/{child('note')}", statuses(204, 204, 204, 404)),
    # auth
    Case(
        "change password",
        "POST",
        "/api/v1/auth/password",
        statuses(401, 401, 401, 401),
        lambda: {"current_password": "wrong-password", "new_password": "another-long-one"},
    ),
    # sync
    Case("sync scopes", "GET", "/api/v1/sync/scopes", READ_ALL),
    Case(
        "sync push (empty batch)",
        "POST",
        "/api/v1/sync/push",
        READ_ALL,
        lambda: {
            "protocol": 1,
            "schema_version": 1,
            "app_version": "matrix",
            "client_id": "00000000-0000-4000-8000-00000000c11e",
            "mutations": [],
        },
    ),
    Case(
        "sync pull own territory",
        "GET",
        f"/api/v1/sync/pull?scope=territory:{W.t1}&protocol=1",
        statuses(200, 200, 200, 403),
    ),
    Case(
        "sync pull another team's territory",
        "GET",
        f"/api/v1/sync/pull?scope=territory:{W.t3}&protocol=1",
        statuses(200, 403, 403, 403),
    ),
    Case("sync conflicts", "GET", "/api/v1/sync/conflicts", READ_ALL),
    Case("sync rejections", "GET", "/api/v1/sync/rejections", READ_ALL),
    Case(
        "resolve conflict",
        "POST",
        f"/api/v1/sync/conflicts/{W.c2}/resolve",
        statuses(404, 404, 403, 404),
        lambda: {"resolution": "checked"},
    ),
    Case(
        "resolve rejection",
        "POST",
        f"/api/v1/sync/rejections/{W.c2}/resolve",
        statuses(404, 404, 403, 404),
        lambda: {"resolution": "checked"},
    ),
    Case("sync status", "GET", "/api/v1/sync/status", statuses(200, 403, 403, 200)),
    # territories: GeoJSON, unassigned, coverage
    Case(
        "import territories (no reps named)",
        "POST",
        "/api/v1/territories/import",
        statuses(201, 422, 403, 201),
        lambda: {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "Imported"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[4.9, 45.8], [4.91, 45.8], [4.91, 45.81], [4.9, 45.81], [4.9, 45.8]]],
                    },
                }
            ],
        },
    ),
    Case("export territories", "GET", "/api/v1/territories/export", READ_ALL),
    Case("unassigned customers", "GET", "/api/v1/territories/unassigned-customers", READ_ALL),
    Case("coverage of t1", "GET", f"/api/v1/territories/{W.t1}/coverage", READ_ONE),
    Case(
        "coverage of another team's territory",
        "GET",
        f"/api/v1/territories/{W.t3}/coverage",
        statuses(200, 404, 404, 404),
    ),
    Case(
        "propose a balance for m1's team",
        "POST",
        "/api/v1/territories/balance",
        statuses(200, 200, 403, 404),
        lambda: {"manager_id": str(W.m1), "time_limit_s": 1},
    ),
    Case(
        "apply an empty balance",
        "POST",
        "/api/v1/territories/balance/apply",
        statuses(200, 200, 403, 200),
        lambda: {"moves": []},
    ),
    # devices and tracking
    Case("list devices", "GET", "/api/v1/devices", READ_ALL),
    Case("get r1's device", "GET", f"/api/v1/devices/{W.r1_phone}", READ_ONE),
    Case(
        "register a device",
        "POST",
        "/api/v1/devices",
        statuses(201, 201, 201, 201),
        lambda: {"identifier": "new-phone-123", "name": "Pixel"},
    ),
    Case(
        "rename r1's device",
        "PATCH",
        f"/api/v1/devices/{W.r1_phone}",
        statuses(200, 200, 200, 404),
        lambda: {"name": "Old phone"},
    ),
    Case("delete r1's device", "DELETE", f"/api/v1/devices/{W.r1_phone}", statuses(204, 204, 204, 404)),
    Case(
        "report positions from r1's phone",
        "POST",
        "/api/v1/tracking/positions",
        statuses(404, 404, 200, 404),
        lambda: {"device": "r1-phone", "positions": [{"time": "2026-11-02T09:00:00Z", "lat": 45.75, "lon": 4.85}]},
    ),
    Case(
        "r1's track",
        "GET",
        f"/api/v1/tracking/users/{W.r1}/track?start=2026-11-02T00:00:00Z&end=2026-11-03T00:00:00Z",
        READ_ONE,
    ),
    Case(
        "another team's track",
        "GET",
        f"/api/v1/tracking/users/{W.r3}/track?start=2026-11-02T00:00:00Z&end=2026-11-03T00:00:00Z",
        statuses(200, 404, 404, 404),
    ),
    Case("last positions", "GET", "/api/v1/tracking/last", READ_ALL),
    Case("start the workday", "POST", "/api/v1/tracking/workday/start", READ_ALL),
    Case("end a workday never started", "POST", "/api/v1/tracking/workday/end", statuses(404, 404, 404, 404)),
    Case("presence at r1's visit", "GET", f"/api/v1/visits/{W.child('visit', W.c1)}/presence", READ_ONE),
    # absences (r1's day off; org A's holiday)
    Case("list absences", "GET", "/api/v1/absences", READ_ALL),
    Case("get r1's day off", "GET", f"/api/v1/absences/{W.r1_day_off}", READ_ONE),
    Case(
        "record one's own day off",
        "POST",
        "/api/v1/absences",
        statuses(201, 201, 201, 201),
        lambda: {"starts_on": "2026-12-28", "ends_on": "2026-12-29"},
    ),
    Case(
        "change r1's day off",
        "PATCH",
        f"/api/v1/absences/{W.r1_day_off}",
        statuses(200, 200, 200, 404),
        lambda: {"note": "family"},
    ),
    Case(
        "change the organisation's holiday",
        "PATCH",
        f"/api/v1/absences/{W.holiday_a}",
        statuses(200, 403, 403, 404),
        lambda: {"note": "Christmas"},
    ),
    Case("delete r1's day off", "DELETE", f"/api/v1/absences/{W.r1_day_off}", statuses(204, 204, 204, 404)),
    # the caller's organisation ("other" reads and changes its own)
    Case("read the organisation's settings", "GET", "/api/v1/organizations/me/settings", READ_ALL),
    Case(
        "change the organisation's settings",
        "PATCH",
        "/api/v1/organizations/me/settings",
        statuses(200, 403, 403, 200),
        lambda: {"service_minutes": {"A": 50}},
    ),
    # planning (m1's run for r1, finished and since gone stale; r1's published 2026-11-02)
    Case("list planning runs", "GET", "/api/v1/planning/runs", statuses(200, 200, 403, 200)),
    Case(
        "plan r1's next days",
        "POST",
        "/api/v1/planning/runs",
        statuses(202, 202, 403, 422),
        lambda: {"rep_ids": [str(W.r1)], "days": 2, "time_limit_s": 1},
    ),
    Case("get m1's run", "GET", f"/api/v1/planning/runs/{W.m1_run}", statuses(200, 200, 403, 404)),
    Case("publish m1's stale run", "POST", f"/api/v1/planning/runs/{W.m1_run}/publish", statuses(409, 409, 403, 404)),
    Case("cancel m1's finished run", "POST", f"/api/v1/planning/runs/{W.m1_run}/cancel", statuses(409, 409, 403, 404)),
    Case("list published days", "GET", "/api/v1/plans", READ_ALL),
    Case("get r1's day", "GET", f"/api/v1/plans/{W.r1_plan}", READ_ONE),
    Case(
        "re-plan r1's day, long over",
        "POST",
        f"/api/v1/plans/{W.r1_plan}/reoptimize",
        statuses(409, 409, 409, 404),
        lambda: {},
    ),
    Case("adherence of r1's day", "GET", f"/api/v1/plans/{W.r1_plan}/adherence", READ_ONE),
    # reports: everyone gets their own scope (a rep themselves, org B none of org A's reps);
    # naming a rep outside it is not found
    Case("the reports", "GET", "/api/v1/reports", READ_ALL),
    Case("KPIs of the week", "GET", "/api/v1/reports/kpis?start=2026-11-02&end=2026-11-08", READ_ALL),
    Case(
        "r1's KPIs",
        "GET",
        f"/api/v1/reports/kpis?start=2026-11-02&end=2026-11-08&rep_id={W.r1}",
        statuses(200, 200, 200, 404),
    ),
    Case(
        "r3's KPIs (m2's team)",
        "GET",
        f"/api/v1/reports/kpis?start=2026-11-02&end=2026-11-08&rep_id={W.r3}",
        statuses(200, 404, 404, 404),
    ),
    # CRM: converting leads (the world's customers are converted already), stage history, forecast
    Case(
        "convert c1",
        "POST",
        f"/api/v1/customers/{C1}/convert",
        statuses(409, 409, 409, 404),
        lambda: {"opportunity": {"title": "Deal"}},
    ),
    Case(
        "convert c3 (m2's team)",
        "POST",
        f"/api/v1/customers/{W.c3}/convert",
        statuses(409, 404, 404, 404),
        lambda: {"opportunity": {"title": "Deal"}},
    ),
    Case("stage history", "GET", f"/api/v1/opportunities/{child('opportunity')}/history", READ_ONE),
    Case("forecast", "GET", "/api/v1/reports/forecast", READ_ALL),
    Case("r3's forecast", "GET", f"/api/v1/reports/forecast?rep_id={W.r3}", statuses(200, 404, 404, 404)),
    # workflow rules: admins edit, managers read, reps do not see them
    Case("list rules", "GET", "/api/v1/workflow-rules", statuses(200, 200, 403, 200)),
    Case(
        "switch on a template",
        "POST",
        "/api/v1/workflow-rules",
        statuses(201, 403, 403, 201),
        lambda: {"template": "follow_up_needed"},
    ),
    Case("rule templates", "GET", "/api/v1/workflow-rules/templates", statuses(200, 200, 403, 200)),
    Case("get a rule", "GET", f"/api/v1/workflow-rules/{UNKNOWN}", statuses(404, 404, 403, 404)),
    Case(
        "change a rule",
        "PATCH",
        f"/api/v1/workflow-rules/{UNKNOWN}",
        statuses(404, 403, 403, 404),
        lambda: {"enabled": False},
    ),
    Case("delete a rule", "DELETE", f"/api/v1/workflow-rules/{UNKNOWN}", statuses(404, 403, 403, 404)),
    Case("a rule's runs", "GET", f"/api/v1/workflow-rules/{UNKNOWN}/runs", statuses(404, 404, 403, 404)),
    # notifications: everyone their own
    Case("my notifications", "GET", "/api/v1/notifications", READ_ALL),
    Case("read a notification", "POST", f"/api/v1/notifications/{UNKNOWN}/read", statuses(404, 404, 404, 404)),
    # webhooks: admins only
    Case("list webhooks", "GET", "/api/v1/webhooks", statuses(200, 403, 403, 200)),
    Case(
        "register a webhook",
        "POST",
        "/api/v1/webhooks",
        statuses(201, 403, 403, 201),
        lambda: {"url": "https://hooks.example.com/fieldforce", "events": ["order_recorded"]},
    ),
    Case("get a webhook", "GET", f"/api/v1/webhooks/{UNKNOWN}", statuses(404, 403, 403, 404)),
    Case(
        "change a webhook",
        "PATCH",
        f"/api/v1/webhooks/{UNKNOWN}",
        statuses(404, 403, 403, 404),
        lambda: {"active": False},
    ),
    Case("delete a webhook", "DELETE", f"/api/v1/webhooks/{UNKNOWN}", statuses(404, 403, 403, 404)),
    Case("a webhook's deliveries", "GET", f"/api/v1/webhooks/{UNKNOWN}/deliveries", statuses(404, 403, 403, 404)),
    # calendar feeds: the user, their manager or an admin; reading takes the secret only
    Case("make r1's calendar feed", "POST", f"/api/v1/users/{W.r1}/calendar-feed", statuses(201, 201, 201, 404)),
    Case(
        "read a feed with a wrong secret",
        "GET",
        f"/api/v1/users/{W.r1}/calendar-feed?token={'x' * 40}",
        statuses(404, 404, 404, 404),
        anonymous=404,
    ),
    Case("revoke r1's calendar feed", "DELETE", f"/api/v1/users/{W.r1}/calendar-feed", statuses(204, 204, 204, 404)),
    Case("revoke r3's calendar feed", "DELETE", f"/api/v1/users/{W.r3}/calendar-feed", statuses(204, 404, 404, 404)),
    # customer analytics: over the customers each caller sees
    Case("pareto", "GET", "/api/v1/analytics/pareto", READ_ALL),
    Case("segments", "GET", "/api/v1/analytics/segments", READ_ALL),
    Case("churn risk", "GET", "/api/v1/analytics/churn-risk", READ_ALL),
    Case("recompute analytics", "POST", "/api/v1/analytics/recompute", statuses(202, 403, 403, 202)),
    Case("r1's next actions", "GET", f"/api/v1/users/{W.r1}/next-actions", READ_ONE),
    Case("r3's next actions", "GET", f"/api/v1/users/{W.r3}/next-actions", statuses(200, 404, 404, 404)),
    # files (content-addressed)
    Case("head unknown file", "HEAD", f"/api/v1/files/{'0' * 64}", statuses(404, 404, 404, 404)),
    Case("get unknown file", "GET", f"/api/v1/files/{'0' * 64}", statuses(404, 404, 404, 404)),
    Case("upload a file", "PUT", f"/api/v1/files/{HELLO_SHA256}", statuses(201, 201, 201, 201), content=b"hello"),
]


def _call(client, case: Case, headers: dict[str, str]):
    kwargs: dict[str, Any] = {"headers": headers}
    if case.body is not None:
        kwargs["json"] = case.body()
    if case.content is not None:
        kwargs["content"] = case.content
        kwargs["headers"] = {**headers, "Content-Type": "image/jpeg"}
    return client.request(case.method, case.path, **kwargs)


@pytest.mark.parametrize("caller", [*CALLERS, "anonymous"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_status_for_each_caller(client, as_user, case: Case, caller: str) -> None:
    """The matrix: each (endpoint, caller) pair answers exactly the expected status."""
    headers = {} if caller == "anonymous" else as_user(CALLERS[caller])
    expected = case.anonymous if caller == "anonymous" else case.expected[caller]
    response = _call(client, case, headers)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        if case.method != "HEAD":  # a HEAD answer has no body
            assert response.json()["code"]


LISTS = ["users", "territories", "customers", "contacts", "visits", "tasks", "opportunities", "orders", "notes"]


@pytest.mark.parametrize("resource", LISTS)
def test_other_organisation_lists_show_none_of_org_a(client, as_user, world, resource: str) -> None:
    """Listing as org B's admin never returns a row of org A."""
    org_a_rows = client.get(f"/api/v1/{resource}", headers=as_user("admin_a")).json()["items"]
    org_b_rows = client.get(f"/api/v1/{resource}", headers=as_user("admin_b")).json()["items"]
    assert org_a_rows and org_b_rows
    assert not {r["id"] for r in org_a_rows} & {r["id"] for r in org_b_rows}


# Login and refresh take credentials in the body; tracker apps authenticate by device
# (tests/server/test_tracking.py); the live stream never ends (tests/e2e/tracking).
UNMATRIXED = ("/api/v1/auth/token", "/api/v1/auth/refresh", "/api/v1/tracking/osmand", "/api/v1/tracking/live")


def test_every_api_route_is_in_the_matrix(live_server) -> None:
    """A new endpoint without a matrix row fails here."""
    import httpx

    spec = httpx.get(f"{live_server}/openapi.json").json()
    covered = {(c.method, _template(c.path)) for c in CASES}
    missing = [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if path.startswith("/api/v1/") and path not in UNMATRIXED
        for method in operations
        if (method.upper(), path) not in covered
    ]
    assert not missing, f"endpoints without authorization cases: {missing}"


def _template(path: str) -> str:
    import re

    path = path.split("?")[0]
    path = re.sub(r"^/api/v1/reports/(?!forecast$)[a-z-]+$", "/api/v1/reports/{name}", path)
    uuid_ = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    for pattern, name in (
        (rf"/customers/{uuid_}/convert$", "/customers/{customer_id}/convert"),
        (rf"/opportunities/{uuid_}/history$", "/opportunities/{opportunity_id}/history"),
        (rf"/workflow-rules/{uuid_}", "/workflow-rules/{rule_id}"),
        (rf"/notifications/{uuid_}/read$", "/notifications/{notification_id}/read"),
        (rf"/webhooks/{uuid_}", "/webhooks/{webhook_id}"),
        (rf"/users/{uuid_}/(calendar-feed|next-actions)$", r"/users/{user_id}/\1"),
    ):
        path = re.sub(pattern, name, path)
    path = re.sub(r"/users/[0-9a-f-]{36}/track$", "/users/{user_id}/track", path)
    path = re.sub(r"/visits/[0-9a-f-]{36}/presence$", "/visits/{visit_id}/presence", path)
    path = re.sub(r"/territories/[0-9a-f-]{36}/coverage$", "/territories/{item_id}/coverage", path)
    path = re.sub(r"/planning/runs/[0-9a-f-]{36}", "/planning/runs/{run_id}", path)
    path = re.sub(r"/plans/[0-9a-f-]{36}", "/plans/{plan_id}", path)
    path = re.sub(r"/[0-9a-f]{64}$", "/{sha256}", path)
    return re.sub(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "/{item_id}", path)
