"""docker-compose.yml stays valid without a Docker engine to run it here."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_dependencies():
    services = compose()["services"]
    assert set(services) == {"db", "server", "worker"}
    assert services["server"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["server"]["condition"] == "service_healthy"
    for name in ("db", "server"):
        assert services[name]["healthcheck"]["test"]


def test_database_image_is_pinned():
    image = compose()["services"]["db"]["image"]
    assert re.fullmatch(r"postgis/postgis:\d+-\d+\.\d+(@sha256:[0-9a-f]{64})?", image)


def test_no_default_secrets():
    """Every secret is `${VAR:?...}`: compose refuses to start without it."""
    text = (ROOT / "docker-compose.yml").read_text()
    for variable in ("SECRET_KEY", "POSTGRES_PASSWORD"):
        uses = re.findall(r"\$\{" + variable + r"([^}]*)\}", text)
        assert uses and all(use.startswith(":?") for use in uses), variable


def test_server_migrates_before_serving():
    command = " ".join(compose()["services"]["server"]["command"])
    assert command.index("fieldforce migrate") < command.index("fieldforce serve")


def test_dockerfile_installs_the_console_script_and_drops_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'pip install ".[server,routing]"' in dockerfile
    assert "USER fieldforce" in dockerfile
