"""buildozer.spec's requirements are exactly what the app needs on a phone: the third-party
packages mobile/ (and the shared/ it imports) import, and what those need to run."""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"mobile", "shared"}
# Imported by mobile/ on Android only, so not installed here; the spec must still list them
# (module -> the requirement that provides it).
ANDROID_ONLY = {"plyer": "plyer", "jnius": "pyjnius"}
# Imported under another name than the distribution that provides it.
DISTRIBUTION = {"kivy_garden": "kivy_garden.mapview"}
# Imported by a dependency without being declared in its metadata (mapview's downloader
# module imports requests at import time).
UNDECLARED = {"kivy_garden.mapview": ["requests"]}


def third_party_imports(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in FIRST_PARTY and top not in sys.stdlib_module_names and top != "__future__":
                    found.add(top)
    return found


def runtime_closure(package: str) -> set[str]:
    """The package and what it needs on Python 3.11 (extras and other platforms left out)."""
    seen: set[str] = set()
    todo = [package]
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for requirement in importlib.metadata.requires(name) or []:
            if "extra ==" in requirement or "sys_platform" in requirement or 'python_version < "3.11"' in requirement:
                continue
            todo.append(re.split(r"[ <>=!~;\[]", requirement, maxsplit=1)[0])
    return seen


def spec_requirements() -> set[str]:
    spec = configparser.ConfigParser()
    spec.read(ROOT / "buildozer.spec")
    names = {
        re.split(r"[<>=]", item.strip())[0].lower().replace("_", "-") for item in spec["app"]["requirements"].split(",")
    }
    return names - {"python3"}


def test_the_android_requirements_are_what_the_app_imports() -> None:
    imported = third_party_imports(ROOT / "mobile") | third_party_imports(ROOT / "shared")
    assert imported == {"kivy", "kivy_garden", "httpx", "plyer", "jnius"}, (
        "mobile/ imports something new: add it to buildozer.spec"
    )
    needed = set(ANDROID_ONLY.values())
    for module in imported - set(ANDROID_ONLY):
        package = DISTRIBUTION.get(module, module)
        # Kivy's own build (p4a recipe) brings its dependencies; its PyPI metadata lists desktop tools.
        needed |= {package} if package == "kivy" else runtime_closure(package)
        for extra in UNDECLARED.get(package, []):
            needed |= runtime_closure(extra)
    assert spec_requirements() == needed
