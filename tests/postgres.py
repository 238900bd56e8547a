"""A throwaway PostgreSQL cluster for tests: Debian's server binaries, a fresh data directory, a free port
on loopback, and nothing kept afterwards. `make postgres` installs the server where it can."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from infra.wiring.local_servers import free_port

# The OS user the server runs as when the tests run as root: PostgreSQL refuses to run as root, and
# Debian's package creates this user.
SERVER_USER = "postgres"
# The cluster's superuser (not an OS user: connections over TCP are trusted on this throwaway cluster).
SUPERUSER = "ocs"


def server_binaries() -> Path | None:
    """The newest installed server's bin directory (Debian keeps them out of PATH), else the one on PATH."""
    installed = [Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin")]
    for bin_dir in sorted(installed, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0, reverse=True):
        if all((bin_dir / name).is_file() for name in ("initdb", "pg_ctl")):
            return bin_dir
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    return Path(initdb).parent if initdb and pg_ctl else None


def unavailable_reason() -> str | None:
    """Why no cluster can be started here, or None when one can."""
    try:  # imported where used, so that without it these tests are skipped rather than all failing to load
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (it is in the test extra: `pip install -e .[test]`)"
    if server_binaries() is None:
        return "PostgreSQL is not installed (no initdb/pg_ctl; `make postgres` installs it with apt-get)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} OS user to run PostgreSQL as"
    return None


class PostgresCluster:
    def __init__(self):
        self.bin_dir = server_binaries()
        self.port = free_port()
        self.root: Path | None = None

    def run(self, *command: str) -> None:
        as_user = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> "PostgresCluster":
        # Not under pytest's tmp_path: its directories are private to root, and the server user must own this.
        self.root = Path(tempfile.mkdtemp(prefix="ocs-postgres-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, SERVER_USER)
        data, log = self.root / "data", self.root / "server.log"
        # Durability is not what these tests measure: without fsync the cluster is as fast as tmpfs.
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off"
        try:
            initdb = [str(self.bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "--no-sync"]
            self.run(*initdb, "--encoding=UTF8", "--locale=C")
            self.run(str(self.bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start")
        except subprocess.CalledProcessError as failed:
            server_log = log.read_text() if log.exists() else ""
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
            raise RuntimeError(f"PostgreSQL did not start: {failed.stderr.decode()}{server_log}") from failed
        return self

    def create_database(self) -> str:
        """A new empty database, as an event store URL."""
        import psycopg

        name = f"events_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.root is None:
            return
        try:
            self.run(str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
