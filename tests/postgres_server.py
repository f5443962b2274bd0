"""A real, throw-away PostgreSQL server on loopback for the tests of ``--db postgresql+psycopg://``.

Debian's ``postgresql`` package (installed by .ci/setup-tests) ships initdb, pg_ctl and postgres
under /usr/lib/postgresql/<version>/bin without putting them on PATH. initdb and postgres refuse
to run as root, so as root they run as the ``postgres`` system user, in a folder it owns.

The test modules import the fixtures ``postgres`` (the server, one per module that uses it)
and ``pg_url`` (a fresh database per test).

Two roles: ``inviter`` (the superuser initdb makes, trusted on loopback, owner of every test
database) and ``staff``, who must log in with a password (SCRAM), for the tests that check a
password never reaches a message.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL

from .conftest import require_tool

SUPERUSER = "inviter"
STAFF = "staff"
# Characters a URL must quote, so the tests see a password both as typed and as quoted.
STAFF_PASSWORD = "Tr0ms@bibl:iotek/2022#"
SYSTEM_USER = "postgres"


def find_bin_dir() -> Path | None:
    """Return the folder holding initdb, pg_ctl and postgres (newest version), or None."""
    on_path = shutil.which("initdb")
    candidates = [str(Path(on_path).parent)] if on_path else []
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(versions, key=lambda p: int(Path(p).parent.name), reverse=True)
    for folder in candidates:
        if all((Path(folder) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """A running server; ``database()`` makes a fresh, empty database and returns its URL."""

    bin_dir: Path
    folder: Path
    port: int
    as_user: list[str]
    _numbers: count[int]

    @property
    def data(self) -> Path:
        """The cluster's data folder."""
        return self.folder / "data"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def url(self, database: str, *, user: str = SUPERUSER, password: str | None = None) -> str:
        """Return the SQLAlchemy URL of one database of this server."""
        return URL.create(
            "postgresql+psycopg",
            username=user,
            password=password,
            host="127.0.0.1",
            port=self.port,
            database=database,
        ).render_as_string(hide_password=False)

    def admin(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """Open an autocommit connection as the superuser."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database, autocommit=True
        )

    def database(self, *, owner: str = SUPERUSER) -> str:
        """Create an empty database and return its name.

        With ICU's Norwegian collation, as a county's server would sort: æ, ø, å after z.
        """
        name = f"inviter_test_{next(self._numbers)}"
        with self.admin() as conn:
            conn.execute(
                sql.SQL(
                    "CREATE DATABASE {} OWNER {} LOCALE_PROVIDER icu ICU_LOCALE 'nb-NO' "
                    "LOCALE 'C.UTF-8' TEMPLATE template0"
                ).format(sql.Identifier(name), sql.Identifier(owner))
            )
        return name

    def stop(self) -> None:
        """Stop the server (fast: it holds nothing worth keeping) and delete its files."""
        try:
            self._run(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
            )
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start_server(bin_dir: Path) -> PostgresServer:
    """Initialise a cluster in a temporary folder and start it on a free loopback port."""
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="inviter-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam(SYSTEM_USER)  # KeyError: the package makes this user
        os.chown(folder, account.pw_uid, account.pw_gid)
        runuser = shutil.which("runuser") or "/sbin/runuser"
        as_user = [runuser, "-u", SYSTEM_USER, "--"]
    server = PostgresServer(bin_dir, folder, _free_port(), as_user, count(1))
    try:
        server._run(
            str(bin_dir / "initdb"),
            "-D", str(server.data),
            "-U", SUPERUSER,
            "-E", "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--auth=trust",
        )  # fmt: skip
        # Loopback TCP only (no Unix socket in /var/run/postgresql, which may not exist).
        hba = (
            f"host all {SUPERUSER} 127.0.0.1/32 trust\n"
            f"host all {STAFF} 127.0.0.1/32 scram-sha-256\n"
        )
        (server.data / "pg_hba.conf").write_text(hba)
        options = (
            f"-c listen_addresses=127.0.0.1 -p {server.port} -k {folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        server._run(
            str(bin_dir / "pg_ctl"),
            "-D", str(server.data),
            "-l", str(folder / "server.log"),
            "-o", options,
            "-w", "-t", "30",
            "start",
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        log = folder / "server.log"
        detail = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(
            f"PostgreSQL did not start: {exc.cmd}: {exc.stderr.decode(errors='replace')}{detail}"
        ) from exc
    try:
        with server.admin() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(STAFF), sql.Literal(STAFF_PASSWORD)
                )
            )
    except BaseException:
        server.stop()
        raise
    return server


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL server, stopped when the module's tests are done."""
    bin_dir = find_bin_dir()
    require_tool(str(bin_dir) if bin_dir else None, "PostgreSQL (initdb, pg_ctl, postgres)")
    assert bin_dir is not None
    server = start_server(bin_dir)
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """The URL of a new, empty database owned by the trusted user."""
    return postgres.url(postgres.database())


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    """Run one query on the database behind an SQLAlchemy URL, with psycopg itself."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        return conn.execute(query).fetchall()
