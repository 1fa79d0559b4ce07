"""Taking a photo: the Android camera through plyer, a chosen file on the desktop, a given
file in tests. `take(done)` calls `done(path or None)` (None: cancelled), from any thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

__all__ = ["Camera", "FixedCamera", "PlyerCamera"]

PhotoCallback = Callable[[Path | None], None]


class Camera(Protocol):
    def take(self, done: PhotoCallback) -> None: ...


class FixedCamera:
    """Hands back the same file each time (tests, and the desktop demo with --photo)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def take(self, done: PhotoCallback) -> None:
        threading.Thread(target=done, args=(self.path,), daemon=True).start()


class PlyerCamera:  # pragma: no cover - needs an Android device
    """The phone's camera app (an intent); the picture lands in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def take(self, done: PhotoCallback) -> None:
        from datetime import UTC, datetime

        from plyer import camera

        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"photo-{datetime.now(UTC):%Y%m%d-%H%M%S}.jpg"

        def complete(filename: str) -> bool:
            done(Path(filename) if filename and Path(filename).exists() else None)
            return False  # keep the file: the app copies it and deletes its own copy after upload

        camera.take_picture(filename=str(target), on_complete=complete)
