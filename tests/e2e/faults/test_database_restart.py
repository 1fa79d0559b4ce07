"""Fault: PostgreSQL restarted while writes pour in. On its own cluster (the suite's is not
touched): the server answers 503 while the database is away, its pool recovers by itself
afterwards, and every write it acknowledged is in the database."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.net import free_port

PASSWORD = "restart-test-password"


def fieldforce(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"fieldforce {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_pool_recovers_and_no_acknowledged_write_is_lost(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    os.chmod(tmp_path, 0o755)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"FIELDFORCE_STATE_DIR": str(state), "FIELDFORCE_ENV": "test", "SECRET_KEY": "r" * 40}
    fieldforce(env, "db", "start")
    port = free_port()
    server: subprocess.Popen[bytes] | None = None
    try:
        fieldforce(env, "migrate")
        fieldforce(
            env, "org", "create", "Restart Co", "--admin-email", "boss@restart.test", "--admin-password", PASSWORD
        )
        url = fieldforce(env, "db", "url").strip()
        server = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "boss@restart.test", "password": PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        customer = httpx.post(f"{base}/api/v1/customers", json={"name": "Kept"}, headers=headers).json()["id"]

        acknowledged: list[str] = []
        answers: list[int] = []
        stop = threading.Event()
        lock = threading.Lock()

        def write() -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
                while not stop.is_set():
                    note_id = str(uuid.uuid4())
                    try:
                        answer = http.post(
                            "/api/v1/notes", json={"id": note_id, "customer_id": customer, "body": "under load"}
                        )
                        status = answer.status_code
                    except httpx.HTTPError:
                        status = 0  # no answer: not acknowledged
                    with lock:
                        answers.append(status)
                        if status == 201:
                            acknowledged.append(note_id)
                    time.sleep(0.01)

        writers = [threading.Thread(target=write) for _ in range(4)]
        for writer in writers:
            writer.start()
        time.sleep(2)
        before_restart = len(acknowledged)
        fieldforce(env, "db", "stop")
        time.sleep(1)
        fieldforce(env, "db", "start")
        restarted_at = len(answers)
        time.sleep(4)
        stop.set()
        for writer in writers:
            writer.join(timeout=30)

        after = answers[restarted_at:]
        assert before_restart > 0 and after.count(201) > 20, (before_restart, after[:20])
        assert after[-20:] == [201] * 20, "the pool did not recover"
        assert set(answers) <= {0, 201, 503}, set(answers)  # 503 while away, never a 500
        assert answers.count(503) + answers.count(0) > 0, "the restart was not noticed: the test measured nothing"
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                stored = set(conn.execute(text("SELECT id::text FROM notes")).scalars())
        finally:
            engine.dispose()
        missing = set(acknowledged) - stored
        assert not missing, f"{len(missing)} acknowledged writes were lost"
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        subprocess.run([sys.executable, "-m", "server.cli", "db", "stop"], env=env, capture_output=True, timeout=120)
