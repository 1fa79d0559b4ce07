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


def imports_of(path: Path) -> set[str]:
    """Every module a file imports by absolute name (late imports inside functions included)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            # `from server.x import router` names the module too
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


SERVER = ROOT / "server"
DOMAINS = sorted(p.name for p in SERVER.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def foreign_imports(module_kind: str) -> list[str]:
    """`file -> server.<other>.<module_kind>` for every import of another domain's module of that kind."""
    offenders = []
    for path in SERVER.rglob("*.py"):
        relative = path.relative_to(SERVER)
        own = relative.parts[0] if len(relative.parts) > 1 else None
        if relative == Path("app.py"):
            continue  # the one place that mounts every router
        for name in imports_of(path):
            parts = name.split(".")
            if len(parts) >= 3 and parts[0] == "server" and parts[2] == module_kind and parts[1] not in (own, "access"):
                offenders.append(f"{relative} -> {name}")
    return sorted(offenders)


def test_no_module_imports_another_domains_router():
    """Routers translate HTTP and mount; what another domain needs lives in its resources or service."""
    assert foreign_imports("router") == []


def test_domains_share_rules_only_through_access():
    """A policy is its domain's own; a rule two domains share belongs in server/access."""
    assert foreign_imports("policy") == []


def test_access_imports_no_domain():
    """server/access is below every domain: it may use models, errors and the API's
    plumbing, never a domain (that would bring the loops back)."""
    below = {"access", "api", "models", "errors", "geo", "config", "db"}
    offenders = [
        f"{path.relative_to(ROOT)} -> {name}"
        for path in (SERVER / "access").rglob("*.py")
        for name in imports_of(path)
        if name.startswith("server.") and name.split(".")[1] not in below
    ]
    assert offenders == []


def test_every_domain_with_a_resource_keeps_it_in_resources_py():
    """Resource specs live in `<domain>/resources.py` (tracking's devices in `devices.py`), never in a router."""
    offenders = [
        str(path.relative_to(ROOT)) for path in SERVER.rglob("router.py") if "ResourceSpec(" in path.read_text()
    ]
    assert offenders == []


def package_graph() -> dict[str, set[str]]:
    """server/<package> -> the other server packages its modules import."""
    graph: dict[str, set[str]] = {name: set() for name in DOMAINS}
    for name in DOMAINS:
        for path in (SERVER / name).rglob("*.py"):
            for module in imports_of(path):
                parts = module.split(".")
                if len(parts) >= 2 and parts[0] == "server" and parts[1] in graph and parts[1] != name:
                    graph[name].add(parts[1])
    return graph


def test_server_packages_import_each_other_without_loops():
    """A loop between packages (api <-> auth, visits <-> tracking) makes both harder to change
    and import order fragile; the arrows must form a hierarchy."""
    graph = package_graph()
    loops = []
    for start in graph:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for following in graph[node]:
                if following == start:
                    loops.append(" -> ".join([*path, start]))
                elif following not in path:
                    stack.append((following, [*path, following]))
    assert sorted(set(loops)) == []
