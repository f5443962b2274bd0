"""The database: engine, sessions, SQLite pragmas, schema creation and version check."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlalchemy.orm import Session, sessionmaker

from inviter.errors import DatabaseError
from inviter.store.migrations import upgrade
from inviter.store.models import SCHEMA_VERSION, Base, SchemaInfo
from inviter.translation import _


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # sending.md: WAL so replies can be recorded while a send runs; busy_timeout so a second
    # writer waits instead of failing; synchronous=NORMAL is durable against kill -9 in WAL.
    # isolation_level=None hands transaction control to the "begin" listener below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# An execution option marking a transaction that only reads: it takes no write lock, so
# ``status`` and the lists never wait for a ``send`` or an import (in WAL mode a reader sees
# the last commit and never blocks a writer, nor a writer it: sqlite.org/wal.html §2.2).
READ_ONLY = "inviter_read_only"


def _sqlite_begin(conn: Any) -> None:
    # A plain BEGIN that later writes fails at once with "database is locked" if another
    # process committed in between (sending.md); BEGIN IMMEDIATE takes the write lock first.
    # A read-only transaction needs no lock: a deferred BEGIN reads the last committed state.
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


# Any fixed number: the advisory locks of inviter, distinct from those other programs may use.
_LOCK_SPACE = 0x1F17E5


def _postgresql_connect(dbapi_connection: Any, _record: Any) -> None:
    # busy_timeout's counterpart: a transaction waits at most 30 s for the lock, then fails
    # with a message instead of hanging.
    cursor = dbapi_connection.cursor()
    cursor.execute("SET lock_timeout = '30s'")
    cursor.close()
    dbapi_connection.commit()


def _postgresql_begin(conn: Any) -> None:
    # BEGIN IMMEDIATE's counterpart: under READ COMMITTED two transactions could both read
    # "no such contact" and both insert it (a unique-key error for one of them), or both plan
    # the same meeting. One transaction-scoped advisory lock makes them take turns, as on
    # SQLite; every transaction is short, none spans an SMTP call (sending.md). A read-only
    # transaction takes no turn: MVCC gives it a consistent snapshot without waiting.
    if not conn.get_execution_options().get(READ_ONLY, False):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_SPACE}, 0)")


def _reason(exc: SQLAlchemyError) -> str:
    """Return the driver's own message on one line, without the SQL it may quote."""
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    # A server's answer has a primary message; libpq's "LINE 2: CREATE TABLE …" after it is
    # context. A failed connection has none, and its text runs over lines with tabs.
    primary = getattr(getattr(orig, "diag", None), "message_primary", None)
    message = primary if isinstance(primary, str) and primary else str(orig or exc)
    return " ".join(message.split())


def hide_credentials(url: str) -> str:
    """Name a database URL for messages without any part of its password.

    Where the URL is ambiguous (a second "@", as in an unencoded password "se@cret/x", which
    SQLAlchemy would split at the first "@" and show the rest as the host), nothing after the
    scheme is shown: a part of a password is still a leak.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url if "@" not in url else "***"
    authority = rest.split("/", 1)[0] if rest.count("@") <= 1 else ""
    if "@" not in rest:
        return url
    if not authority or "@" not in authority:
        return f"{scheme}://***"
    user_info, host = authority.rsplit("@", 1)
    user = user_info.split(":", 1)[0]
    path = rest[len(authority) :]
    shown = f"{user}:***" if ":" in user_info else user
    return f"{scheme}://{shown}@{host}{path}"


class Database:
    """An open database: ``with db.session() as s:`` is one committed transaction."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            message = _("--db: '{url}' is neither a path nor a database URL")
            raise DatabaseError(message.format(url=hide_credentials(url))) from None
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if not self.is_sqlite and url.partition("://")[2].count("@") > 1:
            # SQLAlchemy splits at the first "@": the rest of the password would become the
            # host, be looked up in DNS and be shown in the driver's error.
            message = _(
                "--db: '{url}' holds more than one '@'; write an '@' in "
                "the user name or password as %40"
            )
            raise DatabaseError(message.format(url=hide_credentials(url)))
        self.is_postgresql = parsed.get_backend_name() == "postgresql"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            if not folder.is_dir():
                message = _("{database}: the folder {folder} does not exist")
                raise DatabaseError(message.format(database=parsed.database, folder=folder))
        try:
            self.engine: Engine = create_engine(url)
        except (ArgumentError, ImportError) as exc:
            message = _("--db: cannot use '{url}': {reason}")
            raise DatabaseError(message.format(url=hide_credentials(url), reason=exc)) from None
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        elif self.is_postgresql:
            event.listen(self.engine, "connect", _postgresql_connect)
            event.listen(self.engine, "begin", _postgresql_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        # True when this opening made the schema: the database is new (or was empty, as a
        # zero-length inviter.db is), so it knows nothing of what was sent before.
        self.created = False
        self._prepare()

    def _current_version(self) -> int | None:
        """Read the schema version without the write lock; None where it cannot be read."""
        with self._readers() as session:
            try:
                return session.scalar(select(SchemaInfo.version))
            except (OperationalError, ProgrammingError, SQLAlchemyDatabaseError):
                # No such table yet, no server, or not a database at all (a file of something
                # else: "file is not a database"): the full path says which.
                return None

    def _prepare(self) -> None:
        """Create the schema on first use, bring an older one up to date, refuse a newer one."""
        if self._current_version() == SCHEMA_VERSION:
            # The everyday case takes no write lock: opening the database for ``status``
            # must not wait for a ``send`` that is recording outcomes.
            return
        try:
            Base.metadata.create_all(self.engine)
            with self.session() as session:
                info = session.scalar(select(SchemaInfo))
                if info is None:
                    session.add(SchemaInfo(id=1, version=SCHEMA_VERSION))
                    self.created = True
                elif info.version > SCHEMA_VERSION:
                    message = _(
                        "{database}: schema version {version}, this release knows {known}; "
                        "upgrade inviter"
                    )
                    raise DatabaseError(
                        message.format(
                            database=self.describe(), version=info.version, known=SCHEMA_VERSION
                        )
                    )
                elif info.version < SCHEMA_VERSION:
                    # In the same transaction as the version number: all steps or none.
                    upgrade(session, info.version, self.engine.dialect.name)
                    info.version = SCHEMA_VERSION
        except SQLAlchemyError as exc:
            # OperationalError: no server, wrong password; ProgrammingError: no right to create
            # the tables (PostgreSQL 15 grants none in "public" but to the database's owner).
            if getattr(getattr(exc, "orig", None), "sqlstate", None) == "42501":
                message = _(
                    "{database}: cannot be opened: {reason}; the first run must be by a user "
                    "who may create tables there (its owner)"
                )
            else:
                message = _("{database}: cannot be opened: {reason}")
            shown = message.format(database=self.describe(), reason=_reason(exc))
            raise DatabaseError(shown) from None

    def describe(self) -> str:
        """Name the database for messages, without a password."""
        if self.is_sqlite:
            return make_url(self.url).database or ":memory:"
        return hide_credentials(self.url)

    @contextmanager
    def session(self, *, stepwise: bool = False) -> Iterator[Session]:
        """Yield a session inside one transaction, committed on success, rolled back on error.

        ``stepwise``: the block may commit part of its work itself (``session.commit()``, which
        a ``session.begin()`` block forbids); the rest is committed at its end, or rolled back.
        """
        session = self._sessions()
        try:
            with self.translated():
                if stepwise:
                    yield session
                    session.commit()
                else:
                    with session.begin():
                        yield session
        finally:
            session.close()  # rolls back whatever is not committed

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """Yield a session for reading only: it never waits for a writer (see READ_ONLY)."""
        session = self._readers()
        try:
            with self.translated():
                yield session
        finally:
            session.close()  # rolls back: a read-only block has nothing to keep

    @contextmanager
    def translated(self) -> Iterator[None]:
        """Turn the driver's errors inside the block into one-line DatabaseErrors."""
        try:
            yield
        except DataError as exc:
            # SQLite stores any length; PostgreSQL enforces VARCHAR(n). Input is checked
            # against the column lengths first (contact_fields), so this is the last guard.
            message = _(
                "{database}: a value does not fit its column ({reason}); nothing was changed"
            )
            raise DatabaseError(
                message.format(database=self.describe(), reason=_reason(exc))
            ) from None
        except SQLAlchemyError as exc:
            raise DatabaseError(f"{self.describe()}: {_reason(exc)}") from None

    @contextmanager
    def exclusive(self, name: str, busy: str) -> Iterator[None]:
        """Hold a lock named ``name`` while the block runs; raise DatabaseError(busy) if taken.

        For what must not run twice at once, such as two ``send`` runs of one meeting: each
        would send to the other's ``pending`` recipients. The lock goes with the process, so
        one killed mid-run never leaves it behind (the next run resumes, sending.md).
        PostgreSQL: a session-level advisory lock per name, on a connection held for the run.
        SQLite: an flock on ``<database>-lock``, one for the whole file, whatever the name.
        """
        if self.is_postgresql:
            with self._advisory_lock(name, busy):
                yield
        elif self.is_sqlite and sys.platform != "win32":
            with self._file_lock(busy):
                yield
        else:
            yield

    @contextmanager
    def _advisory_lock(self, name: str, busy: str) -> Iterator[None]:
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)
        try:
            connection = self.engine.connect()
        except OperationalError as exc:
            raise DatabaseError(f"{self.describe()}: {_reason(exc)}") from None
        try:
            taken = connection.scalar(
                text("SELECT pg_try_advisory_lock(:space, :key)"),
                {"space": _LOCK_SPACE, "key": key},
            )
            connection.commit()  # a session lock outlives the transaction; hold no snapshot
            if not taken:
                raise DatabaseError(busy)
            try:
                yield
            finally:
                try:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:space, :key)"),
                        {"space": _LOCK_SPACE, "key": key},
                    )
                    connection.commit()
                except SQLAlchemyError:
                    connection.invalidate()  # closing the connection releases the lock
        finally:
            connection.close()

    @contextmanager
    def _file_lock(self, busy: str) -> Iterator[None]:
        import fcntl

        database = make_url(self.url).database
        if not database or database == ":memory:":
            yield  # nobody else can open it
            return
        # A separate file: SQLite's own POSIX locks on the database are dropped by any close()
        # of that file in this process (sqlite.org/howtocorrupt.html 2.2).
        path = Path(f"{database}-lock")
        with path.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DatabaseError(busy) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()
