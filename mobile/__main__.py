"""`python -m mobile` (also `make app`): the rep's app on the desktop.

    python -m mobile [--server http://127.0.0.1:8000] [--data ~/.fieldforce-app] [--size phone|tablet]
                     [--gpx track.gpx]

On the desktop the GPS is a replayed track (`--gpx`; none: no fix) and a photo is a
picture file chosen in a dialog. Android builds use plyer's GPS and the camera app
(see buildozer.spec).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

SIZES = {"phone": (360, 640), "tablet": (1280, 800)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mobile", description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("FIELDFORCE_SERVER", "http://127.0.0.1:8000"))
    parser.add_argument("--data", type=Path, help="where the app keeps its data (default: the platform's app folder)")
    parser.add_argument("--size", choices=sorted(SIZES), default="phone")
    parser.add_argument("--gpx", type=Path, help="a GPX track to replay as the GPS")
    args = parser.parse_args([] if _on_android() else None)

    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our options, not Kivy's
    from kivy.config import Config

    width, height = SIZES[args.size]
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))

    from kivy.utils import platform

    from mobile.device.camera import Camera, PlyerCamera
    from mobile.device.intents import Intents
    from mobile.device.location import FakeLocation, LocationProvider, PlyerLocation
    from mobile.ui.app import FieldForceApp

    location: LocationProvider
    if platform == "android":
        location = PlyerLocation()
    else:
        location = FakeLocation.from_gpx(args.gpx) if args.gpx else FakeLocation([])
    camera: Camera
    if platform == "android":
        camera = PlyerCamera(Path(os.environ.get("ANDROID_PRIVATE", ".")) / "camera")
    else:
        from mobile.ui.file_picker import FilePickerCamera

        camera = FilePickerCamera()
    FieldForceApp(args.server, args.data, location, Intents(android=platform == "android"), camera).run()


def _on_android() -> bool:
    return "ANDROID_ARGUMENT" in os.environ  # set by python-for-android


if __name__ == "__main__":
    main()
