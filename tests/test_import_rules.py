"""The architecture's arrows: shared/ is stdlib-only, routing/ never imports server/,
mobile/core never imports kivy or server."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_roots(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_shared_imports_only_the_standard_library():
    allowed = set(sys.stdlib_module_names) | {"shared", "__future__"}
    offenders = {name: files for name, files in imported_roots(ROOT / "shared").items() if name not in allowed}
    assert not offenders


def test_routing_never_imports_server_mobile_or_web_frameworks():
    forbidden = {"server", "mobile", "sqlalchemy", "fastapi", "geoalchemy2", "kivy"}
    assert not forbidden & set(imported_roots(ROOT / "routing"))


def test_mobile_core_never_imports_kivy_or_server():
    assert not {"kivy", "server"} & set(imported_roots(ROOT / "mobile" / "core"))


def test_server_never_imports_mobile():
    assert "mobile" not in imported_roots(ROOT / "server")
