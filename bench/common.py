"""What every benchmark does with its results: a JSON record with the command, machine and date."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def record_results(name: str, argv: list[str] | None, parameters: dict[str, Any], results: dict[str, Any]) -> Path:
    """Write bench/results/<name>-<timestamp>.json and return its path."""
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": f"python -m bench.{name} " + " ".join(argv if argv is not None else sys.argv[1:]),
        "parameters": parameters,
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(record, indent=2, default=str))
    return out
