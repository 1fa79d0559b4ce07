"""Creating an organisation together with its first admin."""

from __future__ import annotations

import re
import unicodedata
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.credentials import hash_password
from server.errors import Conflict, InvalidInput
from server.models import Organization, User
from shared.enums import Role


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:63]
    return slug if len(slug) >= 2 else f"org-{uuid.uuid4().hex[:8]}"


def create_organization(
    session: Session,
    name: str,
    *,
    admin_email: str,
    admin_password: str,
    slug: str | None = None,
    default_country: str = "US",
    admin_name: str = "Administrator",
) -> tuple[Organization, User]:
    if not name.strip():
        raise InvalidInput("The organisation needs a name")
    if len(admin_password) < 8:
        raise InvalidInput("The admin password needs at least 8 characters", code="WEAK_PASSWORD")
    if "@" not in admin_email:
        raise InvalidInput(f"{admin_email!r} is not an email address", code="INVALID_EMAIL")
    if not re.fullmatch(r"[A-Z]{2}", default_country):
        raise InvalidInput("default_country is an ISO 3166 alpha-2 code such as FR or US")
    slug = slug or slugify(name)
    if session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
        raise Conflict(f"An organisation with slug {slug!r} already exists", code="SLUG_TAKEN")
    org = Organization(name=name.strip(), slug=slug, default_country=default_country)
    session.add(org)
    session.flush()
    admin = User(
        org_id=org.id,
        email=admin_email.strip().lower(),
        full_name=admin_name,
        password_hash=hash_password(admin_password),
        role=Role.admin,
        working_hours={},
    )
    session.add(admin)
    session.flush()
    return org, admin
