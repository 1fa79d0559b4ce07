"""Attachments, content-addressed: a file is named by the SHA-256 of its bytes.

Bytes live in PostgreSQL (chunks as uploaded), so an upload is transactional,
resumable and shared by every server process without a separate store.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, ForeignKeyConstraint, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, utcnow_column


class StoredFile(Base):
    __tablename__ = "files"

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    received_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0", default=0)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    complete: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false", default=False)
    uploaded_by: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    created_at: Mapped[datetime] = utcnow_column()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FileChunk(Base):
    __tablename__ = "file_chunks"
    __table_args__ = (ForeignKeyConstraint(["org_id", "sha256"], ["files.org_id", "files.sha256"], ondelete="CASCADE"),)

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
