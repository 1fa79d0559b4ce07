"""Organisation settings: everyone reads them with the defaults filled in, admins change them,
per-tier maps merge, and every bad value is a 422 with its code that writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

SETTINGS = "/api/v1/organizations/me/settings"


def test_everyone_reads_the_settings_with_the_defaults_of_planning(client: Any, as_user: Any) -> None:
    """PLANNING.md's defaults: A 14 / B 28 / C 56 days, 45 / 30 / 20 minutes, lunch 12:00-14:00 for 45 min."""
    for who in ("admin_a", "m1", "r1"):
        settings = client.get(SETTINGS, headers=as_user(who)).json()
        assert settings["visit_frequency_days"] == {"A": 14, "B": 28, "C": 56}
        assert settings["service_minutes"] == {"A": 45, "B": 30, "C": 20}
        assert settings["lunch"] == {"window": ["12:00", "14:00"], "minutes": 45}
        assert settings["verification_radius_m"] == {"A": 150.0, "B": 150.0, "C": 150.0}
        assert settings["map_tile_url"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        assert settings["map_attribution"] == "© OpenStreetMap contributors"


def test_an_admin_changes_a_tier_at_a_time(client: Any, as_user: Any) -> None:
    admin = as_user("admin_a")
    first = client.patch(SETTINGS, json={"visit_frequency_days": {"A": 7}, "timezone": "Europe/Paris"}, headers=admin)
    assert first.status_code == 200, first.text
    second = client.patch(
        SETTINGS,
        json={"visit_frequency_days": {"B": 21}, "lunch": {"window": ["11:30", "13:30"], "minutes": 30}},
        headers=admin,
    )
    settings = second.json()
    assert settings["visit_frequency_days"] == {"A": 7, "B": 21, "C": 56}
    assert settings["timezone"] == "Europe/Paris"
    assert settings["lunch"] == {"window": ["11:30", "13:30"], "minutes": 30}
    assert client.get(SETTINGS, headers=as_user("r1")).json() == settings


def test_no_tile_server_means_vector_maps_only(client: Any, as_user: Any) -> None:
    response = client.patch(SETTINGS, json={"map_tile_url": "", "map_attribution": ""}, headers=as_user("admin_a"))
    assert response.status_code == 200, response.text
    assert (response.json()["map_tile_url"], response.json()["map_attribution"]) == ("", "")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "INVALID_TIMEZONE", "timezone"),
        ({"timezone": None}, "INVALID_INPUT", "timezone"),
        ({"map_tile_url": "ftp://tiles.example/{z}/{x}/{y}.png"}, "INVALID_TILE_URL", "map_tile_url"),
        ({"map_tile_url": "https://tiles.example/{z}/{x}.png"}, "INVALID_TILE_URL", "map_tile_url"),
        ({"map_attribution": "  "}, "ATTRIBUTION_REQUIRED", "map_attribution"),
        ({"visit_frequency_days": {"D": 7}}, "VALIDATION_FAILED", None),
        ({"visit_frequency_days": {"A": 0}}, "VALIDATION_FAILED", None),
        ({"service_minutes": {"A": 600}}, "VALIDATION_FAILED", None),
        ({"lunch": {"window": ["14:00", "12:00"], "minutes": 45}}, "VALIDATION_FAILED", None),
        ({"lunch": {"window": ["12h", "14:00"], "minutes": 45}}, "VALIDATION_FAILED", None),
        ({"verification_radius_m": {"A": 1}}, "VALIDATION_FAILED", None),
        ({"colour": "blue"}, "VALIDATION_FAILED", None),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(
    client: Any, as_user: Any, body: dict[str, Any], code: str, field: str | None
) -> None:
    admin = as_user("admin_a")
    before = client.get(SETTINGS, headers=admin).json()
    # A good change sent along with the bad one must not be written either.
    response = client.patch(SETTINGS, json={"service_minutes": {"C": 25}, **body}, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    if field is not None:
        assert response.json()["field"] == field
    assert client.get(SETTINGS, headers=admin).json() == before


def test_only_admins_change_settings(client: Any, as_user: Any) -> None:
    for who in ("m1", "r1"):
        response = client.patch(SETTINGS, json={"service_minutes": {"A": 60}}, headers=as_user(who))
        assert (response.status_code, response.json()["code"]) == (403, "ROLE_FORBIDDEN")
    assert client.get(SETTINGS, headers=as_user("admin_a")).json()["service_minutes"]["A"] == 45


def test_each_organisation_has_its_own_settings(client: Any, as_user: Any) -> None:
    changed = client.patch(SETTINGS, json={"service_minutes": {"A": 90}}, headers=as_user("admin_b"))
    assert changed.json()["service_minutes"]["A"] == 90
    assert client.get(SETTINGS, headers=as_user("admin_a")).json()["service_minutes"]["A"] == 45
