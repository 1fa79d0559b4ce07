"""`fieldforce`: the command line (database, migrations, seed, serve, worker, import)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import server.workflows  # noqa: F401 - imports and jobs run from here fire the workflow rules too
from server import localdb
from server.config import get_settings
from server.observability import configure_logging, log_config

if TYPE_CHECKING:  # the commands import the server lazily, so `fieldforce --help` starts fast
    from sqlalchemy.orm import Session, sessionmaker

    from server.customers.importer import RowError

app = typer.Typer(help="FieldForce: field force automation server.", no_args_is_help=True)
db_app = typer.Typer(help="The project-local PostgreSQL + PostGIS cluster (used when DATABASE_URL is unset).")
org_app = typer.Typer(help="Organisations.")
import_app = typer.Typer(help="Import data from other systems.")
tiers_app = typer.Typer(help="Customer value tiers (A/B/C).")
sync_app = typer.Typer(help="Offline sync maintenance.")
tracking_app = typer.Typer(help="GPS tracking maintenance.")
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(import_app, name="import")
app.add_typer(tiers_app, name="tiers")
app.add_typer(sync_app, name="sync")
app.add_typer(tracking_app, name="tracking")
console = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def database_url() -> str:
    """DATABASE_URL, or the local cluster's after making sure it runs."""
    from server.db import database_url as resolve

    try:
        return resolve()
    except localdb.LocalClusterError as exc:
        raise _fail(str(exc)) from exc


def _session_factory() -> sessionmaker[Session]:
    from server.db import make_engine, make_session_factory

    return make_session_factory(make_engine(url=database_url()))


# ---- db -------------------------------------------------------------------------


@db_app.command("start")
def db_start() -> None:
    """Create (first time) and start the local cluster."""
    try:
        info = localdb.start()
    except localdb.LocalClusterError as exc:
        raise _fail(str(exc)) from exc
    console.print(f"PostgreSQL running on port {info.port}, socket {info.socket_dir}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the local cluster."""
    console.print("stopped" if localdb.stop() else "was not running")


@db_app.command("status")
def db_status() -> None:
    """Where the local cluster lives and whether it runs."""
    typer.echo(localdb.status())


@db_app.command("url")
def db_url(tcp: Annotated[bool, typer.Option(help="TCP URL with password instead of the socket")] = False) -> None:
    """Print the SQLAlchemy URL of the local cluster."""
    try:
        typer.echo(localdb.url(tcp=tcp))
    except localdb.LocalClusterError as exc:
        raise _fail(str(exc)) from exc


def _pg_tool(name: str) -> str:
    """pg_dump / pg_restore of the newest PostgreSQL installed here (a dump needs a pg_dump at
    least as new as the server)."""
    try:
        return str(localdb.find_bin_dir() / name)
    except localdb.LocalClusterError as exc:
        raise _fail(f"{name} is not installed: {exc}") from exc


def _table_count(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (pg_dump custom format)")],
) -> None:
    """Back up the whole database (schema, data, the job queue) with pg_dump."""
    from server.db import libpq_url

    url = database_url()
    file.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={file}", libpq_url(url)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise _fail(f"pg_dump failed: {result.stderr.strip()}")
    console.print(f"backed up to {file} ({file.stat().st_size:,} bytes)")


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A backup made by `fieldforce db backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="Replace a database that already holds data")] = False,
) -> None:
    """Restore a backup into the configured database, in one transaction (a failure changes
    nothing). A database that already has tables is replaced only with --yes."""
    from server.db import libpq_url

    url = database_url()
    existing = _table_count(url)
    if existing and not yes:
        raise _fail(f"the database already has {existing} tables: restoring replaces them all; add --yes to do so")
    argv = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    if existing:
        argv += ["--clean", "--if-exists"]
    result = subprocess.run([*argv, f"--dbname={libpq_url(url)}", str(file)], capture_output=True, text=True)
    if result.returncode != 0:
        raise _fail(f"pg_restore failed (nothing was changed): {result.stderr.strip()[-2000:]}")
    console.print(f"restored {file}")


# ---- migrate / org / seed -----------------------------------------------------------


@app.command()
def migrate() -> None:
    """Apply all Alembic migrations (upgrade to head)."""
    from server.migrate import upgrade_to_head

    upgrade_to_head(database_url())
    console.print("database schema is at head")


@org_app.command("create")
def org_create(
    name: str,
    admin_email: Annotated[str, typer.Option(help="The first admin's login")],
    admin_password: Annotated[str, typer.Option(help="At least 8 characters", prompt=True, hide_input=True)],
    slug: Annotated[str | None, typer.Option(help="URL-safe short name; derived from NAME by default")] = None,
    country: Annotated[str, typer.Option(help="Default country for phone numbers (ISO alpha-2)")] = "US",
) -> None:
    """Create an organisation with its first admin; prints the organisation id."""
    from server.db import transaction
    from server.errors import AppError
    from server.organizations.service import create_organization

    try:
        with transaction(_session_factory()) as session:
            org, _ = create_organization(
                session,
                name,
                admin_email=admin_email,
                admin_password=admin_password,
                slug=slug,
                default_country=country.upper(),
            )
            org_id = org.id
    except AppError as exc:
        raise _fail(f"{exc.detail} ({exc.code})") from exc
    typer.echo(str(org_id))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _print_logins(logins: list[tuple[str, str, str]]) -> None:
    table = Table(title="Demo logins (POST /api/v1/auth/token)")
    for column in ("role", "username", "password"):
        table.add_column(column)
    for row in logins:
        table.add_row(*row)
    Console().print(table)


@app.command()
def seed(
    reps: Annotated[int, typer.Option(min=1, max=10_000)] = 20,
    customers: Annotated[int, typer.Option(min=1, max=5_000_000)] = 2_000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed and day, same data")] = 1,
    today: Annotated[str | None, typer.Option(help="Anchor date YYYY-MM-DD (default: today)")] = None,
    slug: Annotated[str, typer.Option(help="Slug of the demo organisation")] = "demo",
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Only when no organisation exists yet")] = False,
) -> None:
    """Create a deterministic demo organisation (territories, reps, customers, history)."""
    from sqlalchemy import func, select

    from server.db import transaction
    from server.models import Organization
    from server.seed.demo import SeedOptions, demo_logins_still_valid, seed_demo, seed_size

    if customers < reps:
        raise _fail("--customers must be at least --reps")
    factory = _session_factory()
    with factory() as session:
        if session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
            logins = demo_logins_still_valid(session, slug)
            console.print(f"organisation {slug!r} already exists; not seeding again")
            if logins:
                _print_logins(logins)
            return
        if if_empty and session.scalar(select(func.count()).select_from(Organization)):
            console.print("the database already has organisations; not seeding")
            return
    anchor = date.fromisoformat(today) if today else None
    options = SeedOptions(reps=reps, customers=customers, seed=seed, slug=slug)
    if anchor is not None:
        options = dataclasses.replace(options, today=anchor)
    with _progress() as progress:
        bar = progress.add_task("seeding", total=seed_size(options))
        with transaction(factory) as session:
            report = seed_demo(session, options, lambda table, n: progress.advance(bar, n))
        progress.update(bar, completed=seed_size(options))
    console.print(", ".join(f"{n} {table}" for table, n in report.counts.items()))
    typer.echo(f"org_id {report.org_id}")
    _print_logins(report.logins)


# ---- import -------------------------------------------------------------------------


@import_app.command("customers")
def import_customers_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    org: Annotated[uuid.UUID, typer.Option(help="Organisation id")],
    skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="Import the good rows anyway")] = False,
) -> None:
    """Import customers from a CSV export (Salesforce, HubSpot or plain headers)."""
    from server.customers.geocoding import geocoder_from_settings
    from server.customers.importer import CustomerImportFailed, import_customers
    from server.db import transaction
    from server.errors import AppError

    with file.open("rb") as handle:
        total = max(0, sum(1 for _ in handle) - 1)
    geocoder = geocoder_from_settings(get_settings())
    try:
        with _progress() as progress:
            bar = progress.add_task(f"importing {file.name}", total=total)
            located = progress.add_task("geocoding addresses", total=None, visible=geocoder is not None)

            def geocoded(done: int, wanted: int) -> None:
                progress.update(located, completed=done, total=wanted)

            with transaction(_session_factory()) as session:
                report = import_customers(
                    session,
                    org,
                    file,
                    skip_bad_rows=skip_bad_rows,
                    progress=lambda n: progress.advance(bar, n),
                    geocoder=geocoder,
                    geocode_progress=geocoded,
                )
    except CustomerImportFailed as exc:
        _print_row_errors(exc.report.errors)
        raise _fail(exc.detail) from exc
    except AppError as exc:
        raise _fail(f"{exc.detail} ({exc.code})") from exc
    if report.errors:
        _print_row_errors(report.errors)
    if report.unmapped_columns:
        console.print(f"columns ignored: {', '.join(report.unmapped_columns)}")
    if report.not_geocoded:
        console.print(f"{len(report.not_geocoded)} rows imported without a location (address not found):")
        _print_row_errors(report.not_geocoded)
    typer.echo(
        f"{report.rows} rows: {report.created} created, {report.updated} updated, {report.skipped} skipped"
        + (f", {report.geocoded} geocoded" if geocoder is not None else "")
    )


def _print_row_errors(errors: list[RowError]) -> None:
    table = Table(title=f"{len(errors)} bad rows")
    table.add_column("line", justify="right")
    table.add_column("reason")
    for error in errors[:200]:
        table.add_row(str(error.line), error.reason)
    console.print(table)
    if len(errors) > 200:
        console.print(f"... and {len(errors) - 200} more")


# ---- tiers ----------------------------------------------------------------------------


@sync_app.command("compact")
def sync_compact(
    keep_days: Annotated[int, typer.Option(min=1, help="Keep duplicate-push answers this many days")] = 90,
) -> None:
    """Drop superseded change-log rows (deletes stay) and old duplicate answers. A worker also runs this nightly."""
    from datetime import timedelta

    from server.db import transaction
    from server.sync.maintenance import compact

    with transaction(_session_factory()) as session:
        counts = compact(session, keep_results=timedelta(days=keep_days))
    typer.echo(f"{counts['changes_deleted']} change rows and {counts['results_deleted']} stored answers removed")


@tracking_app.command("purge")
def tracking_purge(
    days: Annotated[
        int | None, typer.Option(min=1, help="Keep this many days (default POSITION_RETENTION_DAYS)")
    ] = None,
) -> None:
    """Delete old positions in small batches. A worker also runs this nightly."""
    from server.tracking.retention import purge_positions

    keep = days or get_settings().position_retention_days
    typer.echo(f"{purge_positions(_session_factory(), keep)} positions older than {keep} days deleted")


@sync_app.command("status")
def sync_status() -> None:
    """How far the pull horizon lags (a long transaction holds every pull back) and the log's size."""
    from server.db import transaction
    from server.sync.maintenance import horizon_status

    with transaction(_session_factory()) as session:
        status = horizon_status(session)
    for key, value in status.items():
        typer.echo(f"{key}: {value}")


@tiers_app.command("recompute")
def tiers_recompute(
    org: Annotated[uuid.UUID, typer.Option(help="Organisation id")],
    defer: Annotated[bool, typer.Option("--defer", help="Queue it for a worker instead of running now")] = False,
) -> None:
    """Re-rank customers A/B/C by their share of the last 12 months of revenue."""
    if defer:
        from server.jobs.queue import make_job_app

        async def queue() -> int:
            job_app = make_job_app(url=database_url())
            async with job_app.open_async():
                return await job_app.configure_task("fieldforce:recompute_tiers").defer_async(org_id=str(org))

        typer.echo(f"job {asyncio.run(queue())} queued")
        return
    from server.customers.tiers import recompute_tiers
    from server.db import transaction

    with transaction(_session_factory()) as session:
        counts = recompute_tiers(session, org)
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


@app.command("plan")
def plan_command(
    org: Annotated[uuid.UUID, typer.Option(help="Organisation id")],
    start: Annotated[
        str | None, typer.Option(help="First day, YYYY-MM-DD (default: tomorrow in the organisation's time zone)")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=28)] = 5,
    rep: Annotated[list[uuid.UUID] | None, typer.Option("--rep", help="A rep to plan (repeat; default: all)")] = None,
    time_limit: Annotated[int, typer.Option(min=1, max=600, help="Solver seconds per team")] = 30,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    publish: Annotated[bool, typer.Option("--publish", help="Publish the plan when it succeeds")] = False,
    defer: Annotated[bool, typer.Option("--defer", help="Queue it for workers instead of solving here")] = False,
) -> None:
    """Plan reps' days (as the organisation's admin), with a progress bar; optionally publish."""
    import threading

    from sqlalchemy import select

    from server.access.actor import load_actor
    from server.db import transaction
    from server.errors import AppError
    from server.models import PlanningRun, User
    from server.planning.job import execute_part
    from server.planning.publish import publish_run
    from server.planning.runs import parts_of, run_progress, start_run
    from server.planning.schemas import PlanningRunCreate
    from shared.enums import PlanningRunStatus, Role

    sessions = _session_factory()
    try:
        body = PlanningRunCreate(
            rep_ids=rep or None,
            start_date=date.fromisoformat(start) if start else None,
            days=days,
            time_limit_s=time_limit,
            seed=seed,
            publish=publish and defer,
        )
    except ValueError as exc:  # a bad date or option (pydantic's ValidationError is a ValueError)
        raise _fail(f"invalid option: {exc}") from exc
    try:
        with transaction(sessions) as session:
            admin = session.scalars(
                select(User)
                .where(User.org_id == org, User.role == Role.admin, User.active.is_(True), User.deleted_at.is_(None))
                .order_by(User.created_at)
            ).first()
            if admin is None:
                raise _fail(f"organisation {org} not found (or it has no active admin)")
            actor = load_actor(session, admin)
            run = start_run(session, actor, body, queue_jobs=defer)
            run_id, admin_id = run.id, admin.id
            part_ids = [part.id for part in parts_of(session, [run.id])[run.id]]
    except AppError as exc:
        raise _fail(f"{exc.code}: {exc.detail}") from exc
    if defer:
        typer.echo(f"run {run_id} queued in {len(part_ids)} part(s); follow it at /api/v1/planning/runs/{run_id}")
        return

    settings = get_settings()
    solver = threading.Thread(
        target=lambda: [execute_part(sessions, part, osrm_url=settings.routing_osrm_url) for part in part_ids],
        daemon=True,
    )
    solver.start()
    with _progress() as bar:
        task = bar.add_task("queued", total=100)
        while solver.is_alive():
            solver.join(timeout=0.5)
            with transaction(sessions) as session:
                stored = session.get(PlanningRun, run_id)
                if stored is not None:
                    progress = run_progress(stored, parts_of(session, [run_id])[run_id])
                    bar.update(task, description=progress["phase"], completed=progress["percent"])
        bar.update(task, completed=100)
    with transaction(sessions) as session:
        stored = session.get(PlanningRun, run_id)
        if stored is None or stored.status is not PlanningRunStatus.succeeded:
            error = (stored.error or {}) if stored else {}
            raise _fail(f"run {run_id} failed: {error.get('code')}: {error.get('detail')}")
        summary = dict(stored.summary or {})
    table = Table(title=f"Run {run_id}")
    for column in ("due", "planned", "unassigned", "km", "drive h", "on site h"):
        table.add_column(column, justify="right")
    table.add_row(
        str(summary["due"]),
        str(summary["planned"]),
        str(summary["unassigned"]),
        f"{summary['distance_m'] / 1000:.1f}",
        f"{summary['drive_s'] / 3600:.1f}",
        f"{summary['service_s'] / 3600:.1f}",
    )
    Console().print(table)
    if publish:
        try:
            with transaction(sessions) as session:
                admin_user = session.get(User, admin_id)
                assert admin_user is not None
                publish_run(session, load_actor(session, admin_user), run_id)
        except AppError as exc:
            raise _fail(f"not published: {exc.code}: {exc.detail}") from exc
        typer.echo(f"run {run_id} published")
    else:
        typer.echo(f"run {run_id} succeeded; publish with --publish or POST /api/v1/planning/runs/{run_id}/publish")


# ---- serve / worker ---------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child: the kernel sends SIGTERM when the parent dies, however it dies."""
    import ctypes

    pr_set_pdeathsig = 1
    # Not Linux: the finally block in `serve` still stops it on a clean exit.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="HTTP worker processes")] = 1,
    with_worker: Annotated[bool, typer.Option("--with-worker", help="Also run a job worker")] = False,
) -> None:
    """Serve the API (and its OpenAPI docs at /docs)."""
    import uvicorn

    os.environ["DATABASE_URL"] = database_url()  # worker processes resolve the same database
    get_settings.cache_clear()
    job_worker: subprocess.Popen[bytes] | None = None
    if with_worker:
        job_worker = subprocess.Popen([sys.executable, "-m", "server.cli", "worker"], preexec_fn=_die_with_parent)
    settings = get_settings()
    console.print(f"FieldForce API on http://{host}:{port} (docs at /docs)")
    try:
        uvicorn.run(
            "server.asgi:app",
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level,
            log_config=log_config(settings.log_level, settings.resolved_log_format),
            proxy_headers=True,
        )
    finally:
        if job_worker is not None:
            job_worker.send_signal(signal.SIGTERM)
            try:
                job_worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                job_worker.kill()


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64)] = 2,
    queues: Annotated[list[str] | None, typer.Option("--queue", help="Queues to serve (default: all)")] = None,
    until_empty: Annotated[bool, typer.Option("--until-empty", help="Exit once the queue is empty")] = False,
) -> None:
    """Run background jobs from the PostgreSQL-backed queue until stopped."""
    from server.jobs.queue import make_job_app

    settings = get_settings()
    configure_logging(settings.log_level, settings.resolved_log_format)
    job_app = make_job_app(url=database_url())

    async def run() -> None:
        async with job_app.open_async():
            # The heartbeat tells the others this worker lives; a killed worker's job is
            # retried once its heartbeat is STALLED_JOB_SECONDS old (server/jobs/queue.py).
            heartbeat = float(os.environ.get("FIELDFORCE_WORKER_HEARTBEAT_S", "10"))
            if queues:
                await job_app.run_worker_async(
                    concurrency=concurrency,
                    queues=queues,
                    wait=not until_empty,
                    install_signal_handlers=True,
                    update_heartbeat_interval=heartbeat,
                )
            else:  # every queue
                await job_app.run_worker_async(
                    concurrency=concurrency,
                    wait=not until_empty,
                    install_signal_handlers=True,
                    update_heartbeat_interval=heartbeat,
                )

    console.print("worker started" + ("; stops when the queue is empty" if until_empty else "; waiting for jobs"))
    asyncio.run(run())


if __name__ == "__main__":
    app()
