"""The OpenAPI document is complete: every JSON answer of every endpoint has a schema,
so clients can be generated from it. The exceptions are answers that are not JSON
documents: file bytes, the tracker apps' own protocol and the live event stream."""

from __future__ import annotations

from typing import Any

from server.app import create_app
from server.config import Environment, Settings

# (method, path): answers that are bytes, a foreign protocol's bare 200, or text/event-stream
NOT_JSON_DOCUMENTS = {
    ("HEAD", "/api/v1/files/{sha256}"),
    ("PUT", "/api/v1/files/{sha256}"),
    ("GET", "/api/v1/files/{sha256}"),
    ("GET", "/api/v1/tracking/osmand"),
    ("POST", "/api/v1/tracking/osmand"),
    ("GET", "/api/v1/tracking/live"),
    ("GET", "/api/v1/users/{user_id}/calendar-feed"),  # text/calendar
    ("GET", "/metrics"),  # the Prometheus text format
}


def untyped_answers(spec: dict[str, Any]) -> list[str]:
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if (method.upper(), path) in NOT_JSON_DOCUMENTS:
                continue
            for status, answer in operation.get("responses", {}).items():
                if not status.startswith("2") or status == "204":
                    continue
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                loose = schema is None or set(schema) <= {"title"} or schema.get("additionalProperties") is True
                if loose:
                    found.append(f"{method.upper()} {path} {status}")
    return sorted(found)


def test_every_json_answer_has_a_schema() -> None:
    settings = Settings(
        FIELDFORCE_ENV=Environment.test,
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",  # never connected: only the document is built
        SECRET_KEY="x" * 40,
    )
    assert untyped_answers(create_app(settings).openapi()) == []


def test_answers_from_middleware_and_throttles_are_documented() -> None:
    settings = Settings(
        FIELDFORCE_ENV=Environment.test, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", SECRET_KEY="x" * 40
    )
    paths = create_app(settings).openapi()["paths"]
    assert {"415", "413"} <= set(paths["/api/v1/customers"]["post"]["responses"])
    assert "429" in paths["/api/v1/auth/token"]["post"]["responses"]
    assert "429" in paths["/api/v1/tracking/osmand"]["get"]["responses"]
    assert "426" in paths["/api/v1/sync/pull"]["get"]["responses"]
    assert "426" in paths["/api/v1/sync/push"]["post"]["responses"]
