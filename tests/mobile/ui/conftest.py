"""The app's journeys run against the live test server (tests/server/conftest.py) on a
virtual screen (Xvfb) started here."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.conftest import live_server, session_factory, settings, world  # noqa: F401  # fixtures


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """A virtual screen for the Kivy window (Debian's xvfb, installed by `make`)."""
    for number in range(90, 110):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    screen = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if time.monotonic() > deadline or screen.poll() is not None:
            raise RuntimeError("Xvfb did not start")
        time.sleep(0.05)
    try:
        yield f":{number}"
    finally:
        screen.terminate()
        screen.wait(timeout=10)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where journeys save their screenshots (`make screenshots` copies them to docs/)."""
    folder = Path(os.environ.get("FIELDFORCE_SCREENSHOTS", Path(__file__).resolve().parents[3] / ".screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
