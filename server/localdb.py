"""The project-local PostgreSQL + PostGIS cluster used when DATABASE_URL is unset.

`make run` and `make test` must work on a fresh machine with nothing but the
distribution's PostgreSQL binaries, as root (CI) and as a normal user. PostgreSQL
refuses to run as root, so as root the cluster belongs to the `postgres` system
user; when that user cannot reach the checkout (a clone under /root, say), the
data directory moves to /var/lib/fieldforce/<hash of the checkout>, and
`.fieldforce/cluster.json` remembers where it is.

Authentication: trust on the unix socket (whose directory only the owner and
root can reach) and scram-sha-256 with a generated password on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "fieldforce"
SUPERUSER = "fieldforce"


class LocalClusterError(RuntimeError):
    """The local cluster could not be created, started or reached."""


def state_dir() -> Path:
    return Path(os.environ.get("FIELDFORCE_STATE_DIR", REPO_ROOT / ".fieldforce")).resolve()


@dataclass
class ClusterInfo:
    data_dir: str
    socket_dir: str
    log_file: str
    port: int
    password: str
    bin_dir: str
    os_user: str

    def url(self, database: str = DATABASE_NAME, *, tcp: bool = False) -> str:
        """SQLAlchemy URL; the unix socket by default, TCP with the password when asked."""
        if tcp:
            return f"postgresql+psycopg://{SUPERUSER}:{quote(self.password, safe='')}@127.0.0.1:{self.port}/{database}"
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={quote(self.socket_dir, safe='')}&port={self.port}"


def find_bin_dir() -> Path:
    """Newest PostgreSQL (15+) whose installation also has PostGIS."""
    candidates: list[tuple[int, Path]] = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        try:
            version = int(bindir.parent.name)
        except ValueError:
            continue
        if version < 15 or not (bindir / "initdb").exists():
            continue
        if not Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
            continue
        candidates.append((version, bindir))
    if not candidates:
        raise LocalClusterError(
            "No PostgreSQL 15+ with PostGIS found under /usr/lib/postgresql. "
            "Run `make setup` (it installs postgresql and postgis with apt)."
        )
    return max(candidates)[1]


def _cluster_file() -> Path:
    return state_dir() / "cluster.json"


def load_cluster() -> ClusterInfo | None:
    path = _cluster_file()
    if not path.exists():
        return None
    return ClusterInfo(**json.loads(path.read_text()))


def _save_cluster(info: ClusterInfo) -> None:
    path = _cluster_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(info), indent=2))
    tmp.chmod(0o600)
    tmp.replace(path)


def _os_user() -> str:
    return "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def _as_cluster_owner(info_user: str, argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", info_user, "--", *argv]
    return argv


def _run(argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise LocalClusterError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr or result.stdout}")
    return result


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _owner_can_reach(user: str, path: Path) -> bool:
    if os.geteuid() != 0:
        return True
    probe = path if path.exists() else path.parent
    return _run(["runuser", "-u", user, "--", "test", "-x", str(probe)], check=False).returncode == 0


def _cluster_home(user: str) -> Path:
    home = state_dir()
    home.mkdir(parents=True, exist_ok=True)
    if _owner_can_reach(user, home):
        return home
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:12]
    fallback = Path("/var/lib/fieldforce") / digest
    fallback.mkdir(parents=True, exist_ok=True)
    fallback.parent.chmod(0o755)
    return fallback


def _initdb(info: ClusterInfo) -> None:
    data_dir = Path(info.data_dir)
    socket_dir = Path(info.socket_dir)
    for directory in (data_dir, socket_dir):
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)
        if os.geteuid() == 0:
            shutil.chown(directory, info.os_user, info.os_user)
    pwfile = data_dir.parent / ".pwfile"
    pwfile.write_text(info.password + "\n")
    pwfile.chmod(0o600)
    if os.geteuid() == 0:
        shutil.chown(pwfile, info.os_user, info.os_user)
    try:
        _run(
            _as_cluster_owner(
                info.os_user,
                [
                    str(Path(info.bin_dir) / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    SUPERUSER,
                    "--pwfile",
                    str(pwfile),
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
            )
        )
    finally:
        pwfile.unlink(missing_ok=True)
    settings = "\n".join(
        [
            "# FieldForce project-local cluster",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{socket_dir}'",
            "max_connections = 300",
            "shared_buffers = 256MB",
            "idle_in_transaction_session_timeout = '5min'",
            "log_min_messages = warning",
            "",
        ]
    )
    # Appending keeps the file's owner, so this is right as root too.
    with (data_dir / "postgresql.conf").open("a") as conf:
        conf.write("\n" + settings)


def _is_running(info: ClusterInfo) -> bool:
    result = _run(
        _as_cluster_owner(info.os_user, [str(Path(info.bin_dir) / "pg_ctl"), "status", "-D", info.data_dir]),
        check=False,
    )
    return result.returncode == 0


def _ensure_database(info: ClusterInfo) -> None:
    psql = str(Path(info.bin_dir) / "psql")
    base = [psql, "-h", info.socket_dir, "-p", str(info.port), "-U", SUPERUSER, "-d", "postgres", "-Atq"]
    exists = _run([*base, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"])
    if exists.stdout.strip() != "1":
        _run([*base, "-c", f'CREATE DATABASE "{DATABASE_NAME}"'])


def start() -> ClusterInfo:
    """Create the cluster on first use, start it if stopped, and return how to reach it."""
    info = load_cluster()
    if info is None or not (Path(info.data_dir) / "PG_VERSION").exists():
        user = _os_user()
        home = _cluster_home(user)
        info = ClusterInfo(
            data_dir=str(home / "pgdata"),
            socket_dir=str(home / "run"),
            log_file=str(home / "postgres.log"),
            port=_free_port(),
            password=secrets.token_urlsafe(24),
            bin_dir=str(find_bin_dir()),
            os_user=user,
        )
        _initdb(info)
        _save_cluster(info)
    if not _is_running(info):
        if not _port_is_free(info.port):
            info.port = _free_port()
            _save_cluster(info)
        Path(info.socket_dir).mkdir(parents=True, exist_ok=True)
        log = Path(info.log_file)
        log.touch(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(log, info.os_user, info.os_user)
            shutil.chown(info.socket_dir, info.os_user, info.os_user)
        _run(
            _as_cluster_owner(
                info.os_user,
                [
                    str(Path(info.bin_dir) / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    info.data_dir,
                    "-l",
                    info.log_file,
                    "-o",
                    f"-p {info.port} -k {info.socket_dir}",
                ],
            )
        )
    _wait_ready(info)
    _ensure_database(info)
    return info


def _wait_ready(info: ClusterInfo, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    isready = str(Path(info.bin_dir) / "pg_isready")
    while time.monotonic() < deadline:
        if _run([isready, "-h", info.socket_dir, "-p", str(info.port)], check=False).returncode == 0:
            return
        time.sleep(0.2)
    raise LocalClusterError(f"PostgreSQL did not become ready; see {info.log_file}")


def stop() -> bool:
    """Stop the cluster; False when there was none running."""
    info = load_cluster()
    if info is None or not _is_running(info):
        return False
    _run(
        _as_cluster_owner(
            info.os_user,
            [str(Path(info.bin_dir) / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", info.data_dir],
        )
    )
    return True


def status() -> str:
    info = load_cluster()
    if info is None:
        return "not initialised (run `fieldforce db start`)"
    state = "running" if _is_running(info) else "stopped"
    return f"{state}: data {info.data_dir}, socket {info.socket_dir}, port {info.port}"


def url(*, tcp: bool = False) -> str:
    info = load_cluster()
    if info is None:
        raise LocalClusterError("The local cluster does not exist yet: run `fieldforce db start`.")
    return info.url(tcp=tcp)
