"""``--db postgresql+psycopg://…``: every error is one line, names the database without its
password and says what to do; writers take turns; values longer than their column are refused
in words, not with a driver's traceback.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import text

from inviter.contacts.contact_list import ImportSummary, import_contacts
from inviter.errors import DatabaseError
from inviter.store.database import Database
from inviter.store.models import Contact

from . import postgres_server
from .conftest import Invoke
from .postgres_server import STAFF, STAFF_PASSWORD, PostgresServer, rows
from .smtpd import free_port

postgres = postgres_server.postgres  # the fixtures, used by name
pg_url = postgres_server.pg_url


def test_writers_take_turns_as_with_begin_immediate(project: Path, pg_url: str) -> None:
    """A second import waits for the first's transaction, then sees its rows.

    Under READ COMMITTED alone it would read "not there", insert too, and die on the unique key
    once the first committed.
    """
    csv = project / "one.csv"
    csv.write_text(
        "name,email,role,municipality\nKari Nordmann,kari@example.org,partner,Tromsø\n",
        encoding="utf-8",
    )
    first, second = Database(pg_url), Database(pg_url)
    outcome: list[object] = []

    def import_too() -> None:
        try:
            outcome.append(import_contacts(second, [csv]))
        except DatabaseError as exc:  # pragma: no cover - the assertion below shows it
            outcome.append(exc)

    try:
        with first.session() as session:
            session.add(
                Contact(
                    email="kari@example.org", name="Kari N.", role="partner",
                    municipality="Tromsø", region="Tromsø og omegn",
                )
            )  # fmt: skip
            session.flush()
            other = threading.Thread(target=import_too)
            other.start()
            time.sleep(0.5)  # long enough for the other import to reach the database
            assert outcome == []  # it waits for this transaction
        other.join(10)
    finally:
        first.close()
        second.close()
    assert len(outcome) == 1
    summary = outcome[0]
    assert isinstance(summary, ImportSummary), summary
    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 0)
    assert rows(pg_url, "SELECT email, name FROM contacts") == [
        ("kari@example.org", "Kari Nordmann")
    ]


def test_an_over_long_value_is_a_one_line_error_not_a_traceback(pg_url: str) -> None:
    """The last guard when something unchecked is longer than its column: one line, no SQL."""
    db = Database(pg_url)
    try:
        with pytest.raises(DatabaseError) as caught, db.session() as session:
            session.execute(
                text("INSERT INTO imap_marks (mailbox, uidvalidity, last_uid, updated_at) "
                         "VALUES (:m, 1, 0, now())"),
                {"m": "x" * 501},
            )  # fmt: skip
    finally:
        db.close()
    message = str(caught.value)
    assert message == (
        f"{db.describe()}: a value does not fit its column (value too long for type "
        "character varying(500)); nothing was changed"
    )
    assert rows(pg_url, "SELECT count(*) FROM imap_marks") == [(0,)]


def test_a_slug_longer_than_its_column_is_a_config_error(invoke: Invoke, project: Path) -> None:
    config = project / "inviter.toml"
    slug = "m" * 101
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'slug = "temamote-tromso"', f'slug = "{slug}"', 1
        ),
        encoding="utf-8",
    )
    result = invoke("meetings", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: inviter.toml: meeting #")
    assert result.stderr.endswith(": slug: is 101 characters long; at most 100\n")


# ---------------------------------------------------------------- errors never show the password


def _staff_url(postgres: PostgresServer, database: str, *, port: int | None = None) -> str:
    url = postgres.url(database, user=STAFF, password=STAFF_PASSWORD)
    return url if port is None else url.replace(f":{postgres.port}/", f":{port}/")


def _no_password(result: Result) -> None:
    quoted = "Tr0ms%40bibl%3Aiotek%2F2022%23"
    for secret in (STAFF_PASSWORD, quoted, "Tr0ms"):
        assert secret not in result.stdout + result.stderr
    assert result.stderr.count("\n") == 1


def test_no_server_on_that_port_is_one_line_without_the_password(
    invoke: Invoke, postgres: PostgresServer
) -> None:
    port = free_port()
    url = _staff_url(postgres, "inviter", port=port)
    result = invoke("--db", url, "contacts", "list")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: postgresql+psycopg://staff:***@127.0.0.1:{port}/inviter: cannot be opened: "
        f'connection failed: connection to server at "127.0.0.1", port {port} failed: '
        "Connection refused Is the server running on that host and accepting TCP/IP "
        "connections?\n"
    )
    _no_password(result)


def test_a_wrong_password_is_one_line_without_either_password(
    invoke: Invoke, postgres: PostgresServer
) -> None:
    name = postgres.database(owner=STAFF)
    url = postgres.url(name, user=STAFF, password="Tr0ms-wrong")
    result = invoke("--db", url, "contacts", "list")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: postgresql+psycopg://staff:***@127.0.0.1:{postgres.port}/{name}: cannot be "
        f'opened: connection failed: connection to server at "127.0.0.1", port {postgres.port} '
        f'failed: FATAL: password authentication failed for user "staff"\n'
    )
    _no_password(result)

    # The right password, to a database the staff role owns: it works.
    right = postgres.url(name, user=STAFF, password=STAFF_PASSWORD)
    assert invoke("--db", right, "contacts", "import", "contacts/troms.csv").exit_code == 0
    assert len(json.loads(invoke("--db", right, "contacts", "list", "--json").stdout)) == 36


def test_no_right_to_create_the_tables_says_who_must_run_first(
    invoke: Invoke, postgres: PostgresServer
) -> None:
    # PostgreSQL 15: only a database's owner may create tables in its "public" schema.
    name = postgres.database()
    result = invoke("--db", _staff_url(postgres, name), "contacts", "list")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: postgresql+psycopg://staff:***@127.0.0.1:{postgres.port}/{name}: cannot be "
        "opened: permission denied for schema public; the first run must be by a user who may "
        "create tables there (its owner)\n"
    )
    _no_password(result)


def test_an_unreadable_url_is_one_line_without_the_password(invoke: Invoke) -> None:
    result = invoke("--db", "postgresql+psycopg://staff:Tr0ms:s3cret@db.example.org:54x2/x",
                    "contacts", "list")  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --db: 'postgresql+psycopg://staff:***@db.example.org:54x2/x' is neither a path "
        "nor a database URL\n"
    )
    _no_password(result)
