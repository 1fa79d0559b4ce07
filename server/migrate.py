"""Alembic configured in code, so `fieldforce migrate` works from any directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    # '%' is ConfigParser's interpolation character.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(url: str, connection: Connection | None = None) -> None:
    command.upgrade(alembic_config(url, connection), "head")


def downgrade_to_base(url: str, connection: Connection | None = None) -> None:
    command.downgrade(alembic_config(url, connection), "base")
