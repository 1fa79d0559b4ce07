"""What Alembic's comparison ignores: PostGIS's own tables and the job queue's."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import alembic_helpers

# Tables created by extensions (PostGIS, tiger geocoder) or by procrastinate's
# own schema, which its migration installs from the package's SQL.
FOREIGN_TABLE_PREFIXES = ("spatial_ref_sys", "procrastinate_", "layer", "topology")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and name and name.startswith(FOREIGN_TABLE_PREFIXES):
        return False
    if type_ == "index" and reflected and compare_to is None and name and name.startswith("procrastinate_"):
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))
