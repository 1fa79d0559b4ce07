"""Content-addressed, resumable attachment uploads.

`HEAD /files/{sha256}`: 200 when the file is complete; 404 otherwise, with
`Upload-Offset` telling how many bytes of an interrupted upload arrived.
`PUT /files/{sha256}` with `Content-Range: bytes a-b/total` appends a chunk at
`a` (which must equal the current offset); the last chunk triggers the hash
check, and a file whose bytes do not hash to its name is discarded (422).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from server.access.actor import Actor
from server.errors import AppError, Conflict, InvalidInput, NotFound
from server.models import FileChunk, Photo, StoredFile
from server.sync.entities import photo_resource

MAX_FILE_BYTES = 50 * 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class HashMismatch(AppError):
    status, code, title = 422, "HASH_MISMATCH", "Hash mismatch"


class FileTooLarge(AppError):
    status, code, title = 413, "FILE_TOO_LARGE", "File too large"


@dataclass
class UploadState:
    complete: bool
    received: int
    size: int


def check_name(sha256: str) -> None:
    if not SHA256.match(sha256):
        raise InvalidInput("A file is named by its SHA-256 in lowercase hex", code="INVALID_FILE_NAME", status=400)


def parse_range(header: str | None, body_length: int) -> tuple[int, int]:
    """(offset, total) from Content-Range; a PUT without one carries the whole file."""
    if header is None:
        return 0, body_length
    match = _RANGE.match(header.strip())
    if not match:
        raise InvalidInput("Content-Range must be 'bytes first-last/total'", code="INVALID_CONTENT_RANGE", status=400)
    first, last, total = (int(g) for g in match.groups())
    if last < first or last >= total or last - first + 1 != body_length:
        raise InvalidInput(
            f"Content-Range {header!r} does not match a body of {body_length} bytes",
            code="INVALID_CONTENT_RANGE",
            status=400,
        )
    return first, total


# Served inline as themselves; any other type is a download (the uploader chose it).
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"})


def served_type(stored: str, sha256: str) -> tuple[str, str]:
    """(Content-Type, Content-Disposition) for a stored file."""
    media_type = stored.split(";")[0].strip().lower()
    if media_type in INLINE_TYPES:
        return media_type, f'inline; filename="{sha256[:16]}"'
    return "application/octet-stream", f'attachment; filename="{sha256[:16]}"'


def may_know_of(session: Session, actor: Actor, sha256: str, state: UploadState) -> bool:
    """HEAD tells whether a file is here only to whoever may read it (a finished file) or is
    uploading it (an unfinished one)."""
    if state.complete:
        try:
            readable_file(session, actor, sha256)
        except NotFound:
            return False
        return True
    row = session.get(StoredFile, (actor.org_id, sha256))
    return row is not None and (actor.is_admin or row.uploaded_by == actor.user_id)


def upload_state(session: Session, actor: Actor, sha256: str) -> UploadState | None:
    row = session.get(StoredFile, (actor.org_id, sha256))
    return None if row is None else UploadState(row.complete, row.received_bytes, row.size_bytes)


def put_chunk(
    session: Session, actor: Actor, sha256: str, *, offset: int, total: int, body: bytes, content_type: str
) -> UploadState:
    if total > MAX_FILE_BYTES:
        raise FileTooLarge(f"Files are at most {MAX_FILE_BYTES} bytes")
    if total == 0:
        raise InvalidInput("A file has at least one byte", code="EMPTY_FILE", status=400)
    session.execute(
        pg_insert(StoredFile)
        .values(
            org_id=actor.org_id,
            sha256=sha256,
            size_bytes=total,
            content_type=content_type[:100],
            uploaded_by=actor.user_id,
        )
        .on_conflict_do_nothing()
    )
    row = session.scalar(
        select(StoredFile)
        .where(StoredFile.org_id == actor.org_id, StoredFile.sha256 == sha256)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    if row.complete:
        return UploadState(True, row.size_bytes, row.size_bytes)  # content-addressed: we have it already
    if row.size_bytes != total:
        raise Conflict(
            f"An upload of this file with {row.size_bytes} bytes is under way",
            code="UPLOAD_SIZE_MISMATCH",
            headers={"Upload-Offset": str(row.received_bytes)},
        )
    if offset != row.received_bytes:
        raise Conflict(
            f"The upload continues at byte {row.received_bytes}, not {offset}",
            code="UPLOAD_OFFSET_MISMATCH",
            extra={"upload_offset": row.received_bytes},
            headers={"Upload-Offset": str(row.received_bytes)},
        )
    session.add(FileChunk(org_id=actor.org_id, sha256=sha256, offset=offset, data=body))
    row.received_bytes = offset + len(body)
    if row.received_bytes == total:
        digest = hashlib.sha256()
        for data in _chunks(session, actor.org_id, sha256):
            digest.update(data)
        if digest.hexdigest() != sha256:
            session.execute(delete(StoredFile).where(StoredFile.org_id == actor.org_id, StoredFile.sha256 == sha256))
            error = HashMismatch("The bytes received do not hash to the file's name; the upload was discarded")
            error.persist_changes = True  # forget the bad bytes so the next upload starts clean
            raise error
        row.complete = True
        row.completed_at = datetime.now(UTC)
    session.flush()
    return UploadState(row.complete, row.received_bytes, row.size_bytes)


def _chunks(session: Session, org_id: uuid.UUID, sha256: str) -> Iterator[bytes]:
    session.flush()
    rows = session.execute(
        select(FileChunk.data)
        .where(FileChunk.org_id == org_id, FileChunk.sha256 == sha256)
        .order_by(FileChunk.offset)
        .execution_options(yield_per=16)
    )
    for (data,) in rows:
        yield data


def readable_file(session: Session, actor: Actor, sha256: str) -> StoredFile:
    """The uploader, an admin, or whoever may see a photo made of it."""
    row = session.get(StoredFile, (actor.org_id, sha256))
    if row is None or not row.complete:
        raise NotFound(f"file {sha256} not found")
    if actor.is_admin or row.uploaded_by == actor.user_id:
        return row
    seen = session.scalar(
        select(
            exists().where(
                Photo.org_id == actor.org_id,
                Photo.sha256 == sha256,
                Photo.deleted_at.is_(None),
                photo_resource.policy.visible(actor),
            )
        )
    )
    if not seen:
        raise NotFound(f"file {sha256} not found")
    return row


def file_bytes(session: Session, actor: Actor, sha256: str) -> Iterator[bytes]:
    return _chunks(session, actor.org_id, sha256)
