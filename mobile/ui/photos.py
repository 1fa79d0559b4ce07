"""Photos the rep adds (to a visit or a new lead): checked, then copied into the app's own
folder, because the camera's or the chooser's file may be gone before it is sent."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

__all__ = ["MAX_PHOTO_BYTES", "PhotoRefused", "keep_photo"]

MAX_PHOTO_BYTES = 50 * 1024 * 1024  # what the server takes (server/sync/files.py)


class PhotoRefused(Exception):
    """Why a photo was not kept, in words for the rep; nothing was recorded."""


def keep_photo(data_dir: Path, source: Path) -> Path:
    try:
        size = source.stat().st_size
    except OSError as problem:
        raise PhotoRefused(f"The photo cannot be read ({problem.strerror}).") from problem
    if size > MAX_PHOTO_BYTES:
        raise PhotoRefused(f"This photo is {size / 1e6:.0f} MB; photos up to {MAX_PHOTO_BYTES / 1e6:.0f} MB are sent.")
    kept = data_dir / "photos" / f"{uuid.uuid4().hex[:12]}-{source.name}"
    kept.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(source, kept)
    except OSError as problem:  # a full disk: nothing kept, nothing recorded
        kept.unlink(missing_ok=True)
        raise PhotoRefused(f"The photo could not be kept on this phone ({problem.strerror}).") from problem
    return kept
