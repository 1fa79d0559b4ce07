"""Server side of sync on the fixed world: the change log on every write path, clocks, files,
protocol errors and review. (Pulls need committed transactions: tests/e2e/sync.)"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text

from server.customers.importer import import_customers
from server.customers.tiers import recompute_tiers
from server.models import Customer, SyncChange, SyncRejection
from server.sync.entities import SYNCED
from shared.sync.protocol import Mutation, payload_hash
from tests.server.world import WORLD as W

DATA = Path(__file__).resolve().parents[1] / "data"  # tests/server/data


def changes_for(db, entity_id: uuid.UUID) -> list[tuple[str, str, str, int]]:
    rows = db.execute(
        select(SyncChange.scope, SyncChange.entity, SyncChange.kind, SyncChange.row_version)
        .where(SyncChange.entity_id == entity_id)
        .order_by(SyncChange.pos)
    )
    return [tuple(row) for row in rows]


def test_every_synced_table_has_the_log_and_stamp_triggers(db):
    """A table without them could be written without a change row: that would be a bug."""
    for entity, spec in SYNCED.items():
        table = spec.model.__tablename__
        triggers = set(
            db.scalars(
                text("SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal"),
                {"t": table},
            )
        )
        assert {"ff_sync_log", "ff_sync_stamp"} <= triggers, f"{entity}: {triggers}"


def test_api_writes_are_logged_in_their_scopes(client, as_user, db):
    response = client.patch(f"/api/v1/customers/{W.c1}", json={"notes": "web edit"}, headers=as_user("m1"))
    assert response.status_code == 200
    version = response.json()["row_version"]
    assert (f"territory:{W.t1}", "customer", "upsert", version) in changes_for(db, W.c1)
    contact = W.child("contact", W.c1)
    assert client.delete(f"/api/v1/contacts/{contact}", headers=as_user("r1")).status_code == 204
    assert changes_for(db, contact)[-1][2] == "delete"
    visit = W.child("visit", W.c1)
    client.patch(f"/api/v1/visits/{visit}", json={"outcome": "order"}, headers=as_user("r1"))
    assert changes_for(db, visit)[-1][:3] == (f"user:{W.r1}", "visit", "upsert")


def test_raw_sql_writes_are_logged_and_still_move_row_version(db):
    """No code path can skip the log: even SQL that forgets row_version bumps it and logs."""
    before = db.scalar(select(Customer.row_version).where(Customer.id == W.c2))
    db.execute(text("UPDATE customers SET notes = 'raw sql' WHERE id = :id"), {"id": W.c2})
    after = db.scalar(select(Customer.row_version).where(Customer.id == W.c2).execution_options(populate_existing=True))
    assert after == before + 1
    assert changes_for(db, W.c2)[-1] == (f"territory:{W.t2}", "customer", "upsert", after)


def test_imports_and_jobs_are_logged(db, world):
    report = import_customers(db, world.org_a, DATA / "salesforce_accounts.csv")
    created = db.scalars(select(Customer.id).where(Customer.external_ref.is_not(None), Customer.org_id == W.org_a))
    created_ids = list(created)
    assert report.created and created_ids
    for customer_id in created_ids:
        assert changes_for(db, customer_id), "an imported customer has no change row"
    before = db.scalar(select(text("count(*)")).select_from(SyncChange))
    recompute_tiers(db, W.org_a)
    db.flush()
    changed = db.scalar(select(text("count(*)")).select_from(SyncChange))
    tiers_changed = db.scalar(
        text("SELECT count(*) FROM customers WHERE org_id = :o AND field_clocks ? 'tier'"), {"o": W.org_a}
    )
    assert changed - before >= tiers_changed


def test_territory_reassignment_moves_the_customer_and_its_records(client, as_user, db):
    """Revoke in the old territory, grant in the new one, for the customer and everything under it."""
    response = client.patch(f"/api/v1/customers/{W.c1}", json={"territory_id": str(W.t2)}, headers=as_user("admin_a"))
    assert response.status_code == 200
    for kind, entity in (("contact", "contact"), ("opportunity", "opportunity"), ("note", "note")):
        rows = changes_for(db, W.child(kind, W.c1))
        assert (f"territory:{W.t1}", entity, "revoke") in [r[:3] for r in rows]
        assert (f"territory:{W.t2}", entity, "grant") in [r[:3] for r in rows]
    rows = changes_for(db, W.c1)
    assert (f"territory:{W.t1}", "customer", "revoke") in [r[:3] for r in rows]
    assert (f"territory:{W.t2}", "customer", "grant") in [r[:3] for r in rows]


def test_web_edits_stamp_field_clocks(client, as_user, db):
    """An edit on the web takes part in the merge: its field gets the server's clock and version."""
    response = client.patch(
        f"/api/v1/customers/{W.c1}", json={"phone": "+33478000001", "city": "Lyon"}, headers=as_user("m1")
    )
    version = response.json()["row_version"]
    clocks = db.scalar(text("SELECT field_clocks FROM customers WHERE id = :id"), {"id": W.c1})
    assert clocks["phone"]["v"] == version and clocks["phone"]["c"] == ""
    assert clocks["address"]["v"] == version  # city is part of the atomic address group
    assert "city" not in clocks


def test_a_task_moved_back_on_the_web_opens_a_new_generation(client, as_user, db):
    task = W.child("task", W.c1)
    client.patch(f"/api/v1/tasks/{task}", json={"status": "done"}, headers=as_user("r1"))
    response = client.patch(f"/api/v1/tasks/{task}", json={"status": "open"}, headers=as_user("m1"))
    assert (response.json()["status"], response.json()["generation"]) == ("open", 1)


# ---- files -------------------------------------------------------------------------------------

PHOTO = b"\xff\xd8\xff" + b"jpeg bytes " * 100
PHOTO_SHA = hashlib.sha256(PHOTO).hexdigest()


def put(client, headers, body: bytes, first: int, total: int, sha: str = PHOTO_SHA):
    last = first + len(body) - 1
    return client.put(
        f"/api/v1/files/{sha}",
        content=body,
        headers={**headers, "Content-Type": "image/jpeg", "Content-Range": f"bytes {first}-{last}/{total}"},
    )


def test_resumable_upload_then_download(client, as_user):
    rep = as_user("r1")
    half = len(PHOTO) // 2
    first = put(client, rep, PHOTO[:half], 0, len(PHOTO))
    assert (first.status_code, first.headers["Upload-Offset"]) == (202, str(half))
    head = client.head(f"/api/v1/files/{PHOTO_SHA}", headers=rep)
    assert (head.status_code, head.headers["Upload-Offset"]) == (404, str(half))
    wrong = put(client, rep, PHOTO[:10], 0, len(PHOTO))
    assert (wrong.status_code, wrong.json()["code"], wrong.headers["Upload-Offset"]) == (
        409,
        "UPLOAD_OFFSET_MISMATCH",
        str(half),
    )
    done = put(client, rep, PHOTO[half:], half, len(PHOTO))
    assert done.status_code == 201
    assert client.head(f"/api/v1/files/{PHOTO_SHA}", headers=rep).status_code == 200
    download = client.get(f"/api/v1/files/{PHOTO_SHA}", headers=rep)
    assert (download.status_code, download.content) == (200, PHOTO)
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["x-content-type-options"] == "nosniff"
    # Another rep sees it only through a photo they can see; another organisation never.
    # HEAD answers the same as GET: it does not tell them the file is here.
    for who in ("r3", "admin_b"):
        assert client.get(f"/api/v1/files/{PHOTO_SHA}", headers=as_user(who)).status_code == 404
        head = client.head(f"/api/v1/files/{PHOTO_SHA}", headers=as_user(who))
        assert (head.status_code, head.headers["Upload-Offset"]) == (404, "0")


def test_a_file_not_an_image_is_served_as_a_download(client, as_user):
    page = b"<html><script>alert(document.cookie)</script></html>"
    sha = hashlib.sha256(page).hexdigest()
    uploaded = client.put(
        f"/api/v1/files/{sha}",
        content=page,
        headers={**as_user("r1"), "Content-Type": "text/html", "Content-Range": f"bytes 0-{len(page) - 1}/{len(page)}"},
    )
    assert uploaded.status_code == 201
    served = client.get(f"/api/v1/files/{sha}", headers=as_user("r1"))
    assert served.status_code == 200 and served.content == page
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.headers["x-content-type-options"] == "nosniff"


def test_bytes_that_do_not_match_their_name_are_discarded(client, as_user):
    rep = as_user("r1")
    bad = put(client, rep, b"something else entirely", 0, 23)
    assert (bad.status_code, bad.json()["code"]) == (422, "HASH_MISMATCH")
    head = client.head(f"/api/v1/files/{PHOTO_SHA}", headers=rep)
    assert (head.status_code, head.headers["Upload-Offset"]) == (404, "0")


@pytest.mark.parametrize(
    ("headers", "code", "status"),
    [
        ({"Content-Range": "bytes 0-4/999999999999"}, "FILE_TOO_LARGE", 413),
        ({"Content-Range": "bytes 0-9/20"}, "INVALID_CONTENT_RANGE", 400),
        ({"Content-Range": "items 0-4/5"}, "INVALID_CONTENT_RANGE", 400),
    ],
)
def test_bad_uploads_are_refused(client, as_user, headers, code, status):
    response = client.put(
        f"/api/v1/files/{PHOTO_SHA}",
        content=b"hello",
        headers={**as_user("r1"), "Content-Type": "image/jpeg", **headers},
    )
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_a_file_name_must_be_a_sha256(client, as_user):
    response = client.get("/api/v1/files/not-a-hash", headers=as_user("r1"))
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_FILE_NAME")


# ---- protocol errors ---------------------------------------------------------------------------


def push_body(mutations: list[dict], protocol: int = 1, client_id: str | None = None) -> dict:
    return {
        "protocol": protocol,
        "schema_version": 1,
        "app_version": "test",
        "client_id": client_id or str(uuid.uuid4()),
        "mutations": mutations,
    }


def note_mutation(mid: int, body: str = "hello") -> dict:
    data = {"customer_id": str(W.c1), "body": body}
    entity_id = str(uuid.uuid4())
    return {
        "mid": mid,
        "hlc": 1 << 40,
        "type": "insert",
        "entity": "note",
        "entity_id": entity_id,
        "data": data,
        "base_row_version": None,
        "payload_hash": payload_hash("insert", "note", entity_id, None, data),
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (push_body([], protocol=0), 426, "PROTOCOL_UNSUPPORTED"),
        (push_body([note_mutation(m) for m in range(1, 202)]), 413, "TOO_MANY_MUTATIONS"),
        (push_body([], client_id="not-a-uuid"), 422, "INVALID_CLIENT_ID"),
        ({"protocol": 1}, 422, "VALIDATION_FAILED"),
    ],
)
def test_push_refusals(client, as_user, db, body, status, code):
    response = client.post("/api/v1/sync/push", json=body, headers=as_user("r1"))
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert db.scalar(select(text("count(*)")).select_from(SyncRejection).where(SyncRejection.org_id == W.org_a)) == 0


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"scope": f"territory:{W.t1}", "protocol": 0}, 426, "PROTOCOL_UNSUPPORTED"),
        ({"scope": f"territory:{W.t1}", "protocol": 1, "cursor": "forged.cursor"}, 400, "INVALID_CURSOR"),
        ({"scope": "planet:earth", "protocol": 1}, 400, "INVALID_SCOPE"),
        ({"scope": "unassigned", "protocol": 1}, 403, "SCOPE_FORBIDDEN"),
    ],
)
def test_pull_refusals(client, as_user, params, status, code):
    response = client.get("/api/v1/sync/pull", params=params, headers=as_user("r1"))
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_a_cursor_only_works_in_its_own_scope(client, as_user):
    page = client.get("/api/v1/sync/pull", params={"scope": f"user:{W.r1}", "protocol": 1}, headers=as_user("r1"))
    cursor = page.json()["cursor"]
    other = client.get(
        "/api/v1/sync/pull",
        params={"scope": f"territory:{W.t1}", "protocol": 1, "cursor": cursor},
        headers=as_user("r1"),
    )
    assert (other.status_code, other.json()["code"]) == (400, "INVALID_CURSOR")


def test_rejections_are_reviewed_by_the_team_manager(client, as_user):
    bad = note_mutation(1)
    bad["data"] = {"customer_id": str(W.c1)}  # body missing
    bad["payload_hash"] = payload_hash("insert", "note", bad["entity_id"], None, bad["data"])
    pushed = client.post("/api/v1/sync/push", json=push_body([bad]), headers=as_user("r1"))
    assert pushed.json()["results"][0]["outcome"] == "rejected"
    mine = client.get("/api/v1/sync/rejections", headers=as_user("r1")).json()["items"]
    assert [item["mutation"]["data"] for item in mine] == [bad["data"]]
    assert client.get("/api/v1/sync/rejections", headers=as_user("m2")).json()["items"] == []
    item = client.get("/api/v1/sync/rejections", headers=as_user("m1")).json()["items"][0]
    assert (
        client.post(
            f"/api/v1/sync/rejections/{item['id']}/resolve", json={"resolution": "x"}, headers=as_user("r1")
        ).status_code
        == 403
    )
    resolved = client.post(
        f"/api/v1/sync/rejections/{item['id']}/resolve", json={"resolution": "asked the rep"}, headers=as_user("m1")
    )
    assert resolved.status_code == 200
    assert client.get("/api/v1/sync/rejections?resolved=false", headers=as_user("m1")).json()["items"] == []


def test_payload_hash_must_match_the_content(client, as_user):
    mutation = note_mutation(1)
    mutation["data"]["body"] = "changed after hashing"
    response = client.post("/api/v1/sync/push", json=push_body([mutation]), headers=as_user("r1"))
    assert response.json()["results"][0]["code"] == "PAYLOAD_HASH_MISMATCH"


def test_unknown_entity_rejects_one_mutation_not_the_batch(client, as_user):
    """A newer app's entity type must not block the queue: that mutation is rejected, the next applies."""
    unknown = Mutation(1, 1 << 40, "insert", "drone", str(uuid.uuid4()), {}, None, "")
    unknown.payload_hash = unknown.computed_hash()
    body = push_body([vars(unknown), note_mutation(2)])
    response = client.post("/api/v1/sync/push", json=body, headers=as_user("r1"))
    assert [(r["outcome"], r["code"]) for r in response.json()["results"]] == [
        ("rejected", "UNKNOWN_ENTITY"),
        ("applied", None),
    ]
