from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import DateTime, Float, Index, Integer, Numeric, String, Text, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, FieldClocksMixin, TenantMixin, tenant_fk, utcnow_column
from server.models.enums import db_enum
from shared.enums import CustomerStatus, GeocodeAccuracy, Tier


class Customer(FieldClocksMixin, TenantMixin, Base):
    """An account: a lead, prospect or customer the reps visit."""

    __tablename__ = "customers"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (
            tenant_fk("territory_id", "territories"),
            tenant_fk("owner_id", "users"),
            Index("ix_customers_location", "location", postgresql_using="gist"),
            # bbox filters and containment work in geometry(4326).
            Index("ix_customers_location_geometry", text("(location::geometry)"), postgresql_using="gist"),
            # Covering (…, id): a rep's visible ids come from the index alone.
            Index("ix_customers_org_id_territory_id_id", "org_id", "territory_id", "id"),
            Index("ix_customers_org_id_owner_id_id", "org_id", "owner_id", "id"),
            Index(
                "ix_customers_name_trgm",
                "name",
                postgresql_using="gin",
                postgresql_ops={"name": "gin_trgm_ops"},
            ),
            Index(
                "uq_customers_org_id_external_ref",
                "org_id",
                "external_ref",
                unique=True,
                postgresql_where=text("external_ref IS NOT NULL"),
            ),
        )

    name: Mapped[str] = mapped_column(String(300), nullable=False)
    status: Mapped[CustomerStatus] = mapped_column(
        db_enum(CustomerStatus, "customer_status"), nullable=False, server_default="lead"
    )
    street: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(120))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))
    location: Mapped[Any | None] = mapped_column(Geography("POINT", srid=4326, spatial_index=False))
    geocode_accuracy: Mapped[GeocodeAccuracy] = mapped_column(
        db_enum(GeocodeAccuracy, "geocode_accuracy"), nullable=False, server_default="unknown"
    )
    territory_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    tier: Mapped[Tier] = mapped_column(db_enum(Tier, "customer_tier"), nullable=False, server_default="C")
    annual_revenue: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    # Overrides the tier's default visit frequency when set.
    visit_frequency_days: Mapped[int | None] = mapped_column(Integer)
    # Overrides the tier's default time on site (minutes) when set.
    service_minutes: Mapped[int | None] = mapped_column(Integer)
    # {"mon": [["09:00", "12:00"]], ...}: when the customer accepts visits.
    visit_windows: Mapped[dict[str, list[list[str]]]] = mapped_column(JSONB, nullable=False, server_default="{}")
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False, server_default="{}")
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    last_visit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Identifier in the CRM the customer was imported from; re-imports update.
    external_ref: Mapped[str | None] = mapped_column(String(100))
    # How a lead found its rep: territory | round_robin | manual | unassigned (server/crm/leads.py).
    assigned_by: Mapped[str | None] = mapped_column(String(32))


class Contact(FieldClocksMixin, TenantMixin, Base):
    __tablename__ = "contacts"

    @classmethod
    def __extra_table_args__(cls) -> tuple[object, ...]:
        return (tenant_fk("customer_id", "customers"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))


class GeocodeCache(Base):
    """A geocoder's answer to one address (not found too), so it is asked once
    (server/customers/geocoding.py). Shared by organisations: an address is public."""

    __tablename__ = "geocode_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of provider, country, address
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    query: Mapped[str] = mapped_column(String(500), nullable=False)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = utcnow_column()
