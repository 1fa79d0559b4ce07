"""Fault: a job worker killed mid-job. The job (an email being handed to the SMTP server) goes
back to the queue once the dead worker's heartbeat is stale, another worker runs it, and the
message is sent exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from server.integrations.email import queue_email
from server.jobs.queue import make_job_app, retry_stalled_jobs
from server.models import EmailMessage
from tests.e2e.sync.harness import TEST_SECRET, build_org
from tests.net import free_port


class HoldingInbox:
    """An SMTP server that holds every message at DATA until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.delivered: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.entered.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        self.delivered.append(envelope)
        return "250 OK"


def worker(database_url: str, smtp_port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "FIELDFORCE_ENV": "test",
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "FIELDFORCE_WORKER_HEARTBEAT_S": "0.5",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", "worker", "--queue", "default", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_job_of_a_killed_worker_runs_again_once(engine: Engine, database_url: str) -> None:
    inbox = HoldingInbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    org = build_org(engine, reps=1, customers_per_territory=1)
    with Session(engine) as session, session.begin():
        message_id = queue_email(session, org.id, "buyer@example.test", "Hello", "Once only").id
    first = worker(database_url, port)
    try:
        assert inbox.entered.wait(timeout=60), "the first worker never reached the SMTP server"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        time.sleep(1.5)  # the dead worker's heartbeat (every 0.5 s) is now stale
        job_app = make_job_app(url=database_url)

        async def retry() -> list[int]:
            async with job_app.open_async():
                return await retry_stalled_jobs(job_app, stalled_after_s=1.0)

        retried = asyncio.run(retry())
        with Session(engine) as session:
            job = session.execute(
                text(
                    "SELECT id, status FROM procrastinate_jobs WHERE task_name = 'fieldforce:send_email' "
                    "AND args->>'message_id' = :m"
                ),
                {"m": str(message_id)},
            ).one()
        assert job.id in retried and job.status == "todo"
        inbox.release.set()
        second = worker(database_url, port, "--until-empty")
        assert second.wait(timeout=120) == 0
        with Session(engine) as session:
            message = session.get(EmailMessage, message_id)
            assert message is not None and message.status == "sent"
            status = session.execute(text("SELECT status FROM procrastinate_jobs WHERE id = :j"), {"j": job.id})
            assert status.scalar_one() == "succeeded"
        assert len(inbox.delivered) == 1 and inbox.delivered[0].rcpt_tos == ["buyer@example.test"]
    finally:
        inbox.release.set()
        if first.poll() is None:
            first.kill()
        smtp.stop()
