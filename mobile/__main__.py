"""`python -m mobile` (also `make app`): the rep's app on the desktop.

    python -m mobile [--server http://127.0.0.1:8000] [--data ~/.fieldforce-app] [--size phone|tablet]
                     [--gpx track.gpx]

On the desktop the GPS is a replayed track (`--gpx`; none: no fix). Android
builds use plyer's GPS (see buildozer.spec).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

SIZES = {"phone": (360, 640), "tablet": (1280, 800)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mobile", description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("FIELDFORCE_SERVER", "http://127.0.0.1:8000"))
    parser.add_argument("--data", type=Path, default=Path.home() / ".fieldforce-app")
    parser.add_argument("--size", choices=sorted(SIZES), default="phone")
    parser.add_argument("--gpx", type=Path, help="a GPX track to replay as the GPS")
    args = parser.parse_args()

    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our options, not Kivy's
    from kivy.config import Config

    width, height = SIZES[args.size]
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))

    from mobile.device.location import FakeLocation
    from mobile.ui.app import FieldForceApp

    location = FakeLocation.from_gpx(args.gpx) if args.gpx else FakeLocation([])
    FieldForceApp(args.server, args.data, location).run()


if __name__ == "__main__":
    main()
