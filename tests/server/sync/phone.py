"""Pushing as a phone does: mutations with their hash, a push body, an HLC from the wall clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.sync.hlc import hlc_pack
from shared.sync.protocol import payload_hash


def mutation(
    mid: int,
    kind: str,
    entity: str,
    entity_id: uuid.UUID,
    data: dict[str, Any],
    *,
    hlc: int,
    base_row_version: int | None = None,
) -> dict[str, Any]:
    return {
        "mid": mid,
        "hlc": hlc,
        "type": kind,
        "entity": entity,
        "entity_id": str(entity_id),
        "data": data,
        "base_row_version": base_row_version,
        "payload_hash": payload_hash(kind, entity, str(entity_id), base_row_version, data),
    }


def push(client: Any, headers: dict[str, str], client_id: str, mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    body = {"protocol": 1, "schema_version": 1, "app_version": "test", "client_id": client_id, "mutations": mutations}
    response = client.post("/api/v1/sync/push", json=body, headers=headers)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def now_hlc(offset_ms: int = 0) -> int:
    return hlc_pack(int(datetime.now(UTC).timestamp() * 1000) + offset_ms)
