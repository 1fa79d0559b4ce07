"""The dashboard's files: its own (server/web/static) and the browser packages npm
installed from the committed lock file (node_modules, `make` runs `npm ci`), served
by the app itself under /static and /vendor: no CDN at run time.

Only the distribution folders named here are served from node_modules, never the
packages' sources or anything else in the folder.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

__all__ = ["NODE_MODULES", "VENDOR", "missing_vendor_packages", "mount_assets"]

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
# The checkout's node_modules (`make` runs `npm ci` there); an installed package (the
# Docker image) names its folder in FIELDFORCE_NODE_MODULES.
NODE_MODULES = Path(os.environ.get("FIELDFORCE_NODE_MODULES") or Path(__file__).resolve().parents[2] / "node_modules")
# URL name -> the package's distribution folder inside node_modules.
VENDOR = {
    "leaflet": "leaflet/dist",
    "markercluster": "leaflet.markercluster/dist",
    "geoman": "@geoman-io/leaflet-geoman-free/dist",
    "htmx": "htmx.org/dist",
    "chartjs": "chart.js/dist",
}


def missing_vendor_packages(node_modules: Path = NODE_MODULES) -> list[str]:
    return [name for name, folder in VENDOR.items() if not (node_modules / folder).is_dir()]


def mount_assets(app: FastAPI, node_modules: Path = NODE_MODULES) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    missing = missing_vendor_packages(node_modules)
    if missing:
        # The API still works; the pages say what is missing (see server/web/router.py).
        logger.warning("dashboard packages missing (%s): run `make` (npm ci)", ", ".join(missing))
    for name, folder in VENDOR.items():
        if name not in missing:
            app.mount(f"/vendor/{name}", StaticFiles(directory=node_modules / folder), name=f"vendor-{name}")
