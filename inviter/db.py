"""The database: engine, sessions, SQLite pragmas, schema creation and version check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from inviter.errors import DatabaseError
from inviter.models import SCHEMA_VERSION, Base, SchemaInfo


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


def _sqlite_begin(conn: Any) -> None:
    # A plain BEGIN that later writes fails at once with "database is locked" if another
    # process committed in between (sending.md); BEGIN IMMEDIATE takes the write lock first.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """An open database: ``with db.session() as s:`` is one committed transaction."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise DatabaseError(f"--db: '{url}' is neither a path nor a database URL") from None
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            if not folder.is_dir():
                raise DatabaseError(f"{parsed.database}: the folder {folder} does not exist")
        try:
            self.engine: Engine = create_engine(url)
        except (ArgumentError, ImportError) as exc:
            raise DatabaseError(f"--db: cannot use '{parsed.render_as_string()}': {exc}") from None
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._prepare()

    def _prepare(self) -> None:
        """Create the schema on first use; refuse one made by another release."""
        try:
            Base.metadata.create_all(self.engine)
            with self.session() as session:
                info = session.scalar(select(SchemaInfo))
                if info is None:
                    session.add(SchemaInfo(id=1, version=SCHEMA_VERSION))
                elif info.version != SCHEMA_VERSION:
                    advice = (
                        "upgrade inviter"
                        if info.version > SCHEMA_VERSION
                        else "run the migration that ships with this release"
                    )
                    raise DatabaseError(
                        f"{self.describe()}: schema version {info.version}, this release "
                        f"knows {SCHEMA_VERSION}; {advice}"
                    )
        except OperationalError as exc:
            raise DatabaseError(f"{self.describe()}: cannot be opened: {exc.orig}") from None

    def describe(self) -> str:
        """Name the database for messages, without a password."""
        url = make_url(self.url)
        if self.is_sqlite:
            return url.database or ":memory:"
        return url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session inside one transaction, committed on success, rolled back on error."""
        session = self._sessions()
        try:
            with session.begin():
                yield session
        except OperationalError as exc:
            raise DatabaseError(f"{self.describe()}: {exc.orig}") from None
        except SQLAlchemyError as exc:
            raise DatabaseError(f"{self.describe()}: {exc}") from None
        finally:
            session.close()

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()
