"""The `fieldforce` command as a user runs it, against the test database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.net import free_port

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def cli_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "cli-test-secret-" + "x" * 32,
        "FIELDFORCE_ENV": "test",
        "COLUMNS": "200",
    }


def fieldforce(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    if check and result.returncode != 0:
        raise AssertionError(f"fieldforce {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def demo(cli_env: dict[str, str]) -> dict[str, object]:
    result = fieldforce(cli_env, "seed", "--slug", "cli-demo", "--reps", "3", "--customers", "60", "--seed", "5")
    logins = re.findall(r"(admin|manager|rep)\s*│\s*(\S+@\S+)\s*│\s*(\S+)", result.stdout)
    org_id = re.search(r"org_id (\S+)", result.stdout).group(1)  # type: ignore[union-attr]
    return {"org_id": org_id, "logins": logins, "stdout": result.stdout}


def test_seed_prints_demo_logins_and_is_idempotent(cli_env, demo):
    roles = [role for role, _, _ in demo["logins"]]
    assert roles[0] == "admin" and "rep" in roles and "manager" in roles
    again = fieldforce(cli_env, "seed", "--slug", "cli-demo")
    assert "already exists" in again.stderr
    assert demo["logins"][0][1] in again.stdout


def test_serve_answers_health_and_the_printed_logins(cli_env, demo):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not answer /health"
            assert server.poll() is None, server.stdout.read().decode()
            time.sleep(0.2)
        for role, email, password in demo["logins"]:
            response = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/auth/token", data={"username": email, "password": password}
            )
            assert response.status_code == 200, (role, response.text)
        docs = httpx.get(f"http://127.0.0.1:{port}/openapi.json")
        assert "/api/v1/customers/nearest" in docs.json()["paths"]
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_org_create_then_import_customers(cli_env):
    created = fieldforce(
        cli_env,
        "org",
        "create",
        "Acme CLI",
        "--admin-email",
        "boss@acme-cli.test",
        "--admin-password",
        "long-enough-password",
        "--slug",
        "acme-cli",
        "--country",
        "FR",
    )
    org_id = created.stdout.strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", org_id)
    duplicate = fieldforce(
        cli_env,
        "org",
        "create",
        "Acme CLI",
        "--admin-email",
        "b@x.test",
        "--admin-password",
        "long-enough-password",
        "--slug",
        "acme-cli",
        check=False,
    )
    assert duplicate.returncode == 1 and "SLUG_TAKEN" in duplicate.stderr

    bad = fieldforce(cli_env, "import", "customers", str(DATA / "bad_rows.csv"), "--org", org_id, check=False)
    assert bad.returncode == 1
    assert "nothing was imported" in bad.stderr
    assert re.search(r"│\s+4 │ latitude", bad.stderr)

    good = fieldforce(cli_env, "import", "customers", str(DATA / "salesforce_accounts.csv"), "--org", org_id)
    assert "3 rows: 3 created, 0 updated, 0 skipped" in good.stdout

    skipped = fieldforce(cli_env, "import", "customers", str(DATA / "bad_rows.csv"), "--org", org_id, "--skip-bad-rows")
    assert "7 rows: 2 created, 0 updated, 5 skipped" in skipped.stdout


def test_job_goes_through_the_queue_to_a_worker(cli_env, demo, engine):
    queued = fieldforce(cli_env, "tiers", "recompute", "--org", str(demo["org_id"]), "--defer")
    job_id = int(re.search(r"job (\d+) queued", queued.stdout).group(1))
    fieldforce(cli_env, "worker", "--until-empty")
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}).scalar()
    assert status == "succeeded"


def test_db_commands_without_a_local_cluster_explain_themselves(tmp_path):
    env = {**os.environ, "FIELDFORCE_STATE_DIR": str(tmp_path / "none")}
    env.pop("DATABASE_URL", None)
    result = fieldforce(env, "db", "url", check=False)
    assert result.returncode == 1
    assert "fieldforce db start" in result.stderr
    assert "not initialised" in fieldforce(env, "db", "status").stdout


def test_worker_started_by_serve_dies_with_it(cli_env):
    """`serve --with-worker` never leaves an orphaned worker, even when killed."""
    import signal

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--with-worker"],
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        workers: list[str] = []
        while time.monotonic() < deadline and not workers:
            found = subprocess.run(
                ["pgrep", "-P", str(server.pid), "-f", "server.cli worker"], capture_output=True, text=True
            )
            workers = found.stdout.split()
            time.sleep(0.2)
        assert workers, "no worker was started"
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and Path(f"/proc/{workers[0]}").exists():
            time.sleep(0.2)
        assert (
            not Path(f"/proc/{workers[0]}").exists() or "Z" in Path(f"/proc/{workers[0]}/stat").read_text().split()[2]
        )
    finally:
        if server.poll() is None:
            server.kill()


def test_plan_solves_with_a_progress_bar_and_publishes(cli_env, demo, engine):
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    args = ["plan", "--org", str(demo["org_id"]), "--start", monday.isoformat(), "--days", "2", "--time-limit", "2"]
    result = fieldforce(cli_env, *args, "--publish")
    assert "100/100" in result.stderr  # the progress bar, finished
    assert re.search(r"│\s+\d+ │\s+\d+ │\s+\d+ │", result.stdout)  # the summary table
    run_id = re.search(r"run (\S+) published", result.stdout).group(1)
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM planning_runs WHERE id = :id"), {"id": run_id}).scalar()
        plans = conn.execute(text("SELECT count(*) FROM plans WHERE org_id = :org"), {"org": demo["org_id"]}).scalar()
    assert status == "published" and plans > 0

    bad = fieldforce(cli_env, "plan", "--org", str(demo["org_id"]), "--start", "someday", check=False)
    assert bad.returncode == 1 and "invalid option" in bad.stderr
    far = fieldforce(cli_env, "plan", "--org", str(demo["org_id"]), "--start", "2099-01-01", check=False)
    assert far.returncode == 1 and "START_DATE_OUT_OF_RANGE" in far.stderr


def test_backup_and_restore_round_trip(cli_env, database_url, tmp_path):
    """A backup of a migrated database with an organisation in it, restored into an empty
    database: the same schema version, the same rows; restoring over data needs --yes."""
    import psycopg
    from sqlalchemy import create_engine, make_url

    from server.db import libpq_url

    base = make_url(database_url)
    names = [f"ff_backup_{kind}_{os.getpid()}" for kind in ("src", "dst")]
    admin = libpq_url(base.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    urls = [base.set(database=name).render_as_string(hide_password=False) for name in names]
    source = {**cli_env, "DATABASE_URL": urls[0]}
    target = {**cli_env, "DATABASE_URL": urls[1]}
    try:
        fieldforce(source, "migrate")
        fieldforce(
            source,
            "org",
            "create",
            "Backup Co",
            "--admin-email",
            "boss@backup.test",
            "--admin-password",
            "pw-123456789",
        )
        dump = tmp_path / "backups" / "fieldforce.dump"
        made = fieldforce(source, "db", "backup", str(dump))
        assert "backed up" in made.stdout + made.stderr and dump.stat().st_size > 10_000
        fieldforce(target, "db", "restore", str(dump))

        def snapshot(url: str) -> tuple[str, list[str]]:
            engine = create_engine(url)
            try:
                with engine.connect() as conn:
                    version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
                    orgs = list(conn.execute(text("SELECT name FROM organizations ORDER BY name")).scalars())
            finally:
                engine.dispose()
            return version, orgs

        assert snapshot(urls[1]) == snapshot(urls[0]) and "Backup Co" in snapshot(urls[1])[1]
        refused = fieldforce(target, "db", "restore", str(dump), check=False)
        assert refused.returncode != 0 and "--yes" in refused.stderr + refused.stdout
        fieldforce(target, "db", "restore", str(dump), "--yes")
        assert snapshot(urls[1]) == snapshot(urls[0])
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
