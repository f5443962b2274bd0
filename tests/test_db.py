"""The database: made on first use, SQLite pragmas in force, schema version checked."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text

from inviter.errors import DatabaseError
from inviter.store.database import Database
from inviter.store.models import SCHEMA_VERSION, Contact

from .conftest import Invoke


def _contact(email: str) -> Contact:
    return Contact(
        email=email, name="Kari", role="biblioteksjef", municipality="Bardu", region="Midt-Troms"
    )


def test_made_on_first_use_with_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "inviter.db"
    db = Database(f"sqlite:///{path}")
    assert path.exists()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT version FROM schema_info").fetchone() == (SCHEMA_VERSION,)
    raw.close()
    db.close()


def test_a_newer_schema_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "inviter.db"
    Database(f"sqlite:///{path}").close()
    raw = sqlite3.connect(path)
    raw.execute("UPDATE schema_info SET version = ?", (SCHEMA_VERSION + 1,))
    raw.commit()
    raw.close()
    with pytest.raises(
        DatabaseError,
        match=rf"schema version {SCHEMA_VERSION + 1}, this release knows {SCHEMA_VERSION}; "
        "upgrade inviter",
    ):
        Database(f"sqlite:///{path}")


def _as_version_1(path: Path) -> None:
    """Turn a new database into what release 1 made: no reply sender or verification."""
    raw = sqlite3.connect(path)
    raw.execute("ALTER TABLE meetings DROP COLUMN answers_from")  # schema 3's
    raw.execute("ALTER TABLE replies DROP COLUMN verified")
    raw.execute("ALTER TABLE replies DROP COLUMN sender")
    raw.execute("ALTER TABLE replies DROP COLUMN via")
    raw.execute("DROP TABLE meeting_versions")
    raw.execute("UPDATE schema_info SET version = 1")
    raw.execute(
        "INSERT INTO contacts (email, name, role, municipality, region, organization, title, "
        "phone, language, created_at, updated_at) VALUES ('k@example.org', 'K', 'partner', "
        "'Kåfjord', 'Nord-Troms', '', '', '', 'nb', '2022-10-01 10:00:00', '2022-10-01 10:00:00')"
    )
    raw.execute(
        "INSERT INTO meetings (slug, uid, sequence, fingerprint, cancelled, created_at) "
        "VALUES ('m', 'u@example.org', 0, '', 0, '2022-10-01 10:00:00')"
    )
    raw.execute(
        "INSERT INTO replies (meeting_id, email, name, method, partstat, delegated_to, comment, "
        "guests, sequence, dtstamp, forwarded, source, recorded_at) VALUES (1, 'a@example.org', "
        "'A', 'REPLY', 'ACCEPTED', '', '', 0, 0, '2022-10-01 10:00:00', 0, 'x', "
        "'2022-10-01 10:00:00')"
    )
    raw.commit()
    raw.close()


def test_a_release_1_database_is_upgraded_in_place_keeping_its_answers(tmp_path: Path) -> None:
    path = tmp_path / "inviter.db"
    Database(f"sqlite:///{path}").close()
    _as_version_1(path)
    db = Database(f"sqlite:///{path}")
    assert not db.created
    with db.session() as session:
        row = session.execute(text("SELECT email, verified, sender FROM replies")).one()
        version = session.scalar(text("SELECT version FROM schema_info"))
    assert tuple(row) == ("a@example.org", 1, "")  # answers recorded before count as before
    with db.session() as session:
        town = session.scalar(text("SELECT municipality FROM contacts"))
    assert town == "Gáivuotna – Kåfjord – Kaivuono"  # stored by its whole official name
    assert version == SCHEMA_VERSION
    db.close()
    assert not Database(f"sqlite:///{path}").created  # opening again changes nothing


def test_a_schema_2_database_keeps_a_cancelled_meetings_rows_as_the_meetings(
    tmp_path: Path,
) -> None:
    # Schema 3: a reinstatement must tell the cancellation of the whole meeting from people
    # uninvited one by one; rows written before carry no mark, so those of a cancelled meeting
    # are taken as the meeting's, and those of a meeting still on as one person's.
    path = tmp_path / "inviter.db"
    Database(f"sqlite:///{path}").close()
    raw = sqlite3.connect(path)
    raw.execute("ALTER TABLE meetings DROP COLUMN answers_from")
    raw.execute("UPDATE schema_info SET version = 2")
    for number, cancelled in ((1, 1), (2, 0)):
        raw.execute(
            "INSERT INTO meetings (slug, uid, sequence, fingerprint, cancelled, created_at) "
            "VALUES (?, ?, 0, '', ?, '2022-10-01 10:00:00')",
            (f"m{number}", f"u{number}@example.org", cancelled),
        )
        raw.execute(
            "INSERT INTO deliveries (meeting_id, email, name, kind, sequence, transport, batch, "
            "message_id, status, attempts, response, created_at, updated_at) VALUES "
            "(?, 'a@example.org', 'A', 'cancel', 1, 'smtp', '', ?, 'sent', 1, '', "
            "'2022-10-02 10:00:00', '2022-10-02 10:00:00')",
            (number, f"<c{number}@x>"),
        )
    raw.commit()
    raw.close()
    db = Database(f"sqlite:///{path}")
    with db.session() as session:
        batches = session.execute(text("SELECT meeting_id, batch FROM deliveries")).all()
        starts = session.execute(text("SELECT answers_from FROM meetings")).scalars().all()
    db.close()
    assert sorted(tuple(row) for row in batches) == [(1, "meeting"), (2, "")]
    assert starts == [0, 0]


def test_a_status_read_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    # SPEC: readers never block on a writer. Another process holds the write lock (as a
    # send recording an outcome does); a read-only session still reads the last commit.
    path = tmp_path / "inviter.db"
    db = Database(f"sqlite:///{path}")
    with db.session() as session:
        session.add(_contact("a@example.org"))
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE contacts SET name = 'Changed'")
    try:
        with db.reading() as session:
            assert session.scalar(select(Contact.name)) == "Kari"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        db.close()


def test_error_rolls_back_everything(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")

    def crash() -> None:
        with db.session() as s:
            s.add(_contact("a@example.org"))
            s.flush()
            raise RuntimeError("crash mid-transaction")

    with pytest.raises(RuntimeError):
        crash()
    with db.session() as s:
        assert s.scalars(select(Contact)).all() == []


def test_concurrent_writers_wait_instead_of_failing(tmp_path: Path) -> None:
    """Two processes' worth of writers: BEGIN IMMEDIATE serialises them (sending.md)."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    Database(url).close()
    errors: list[BaseException] = []

    def writer(prefix: str) -> None:
        db = Database(url)
        try:
            for i in range(40):
                with db.session() as s:
                    count = s.execute(text("SELECT count(*) FROM contacts")).scalar_one()
                    s.add(_contact(f"{prefix}{i}-{count}@example.org"))
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=writer, args=(p,)) for p in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db = Database(url)
    with db.session() as s:
        assert len(s.scalars(select(Contact)).all()) == 120


def test_unusable_db_option_is_a_one_line_error(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("--db", str(tmp_path / "no" / "such" / "dir.db"), "meetings", "list")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {tmp_path / 'no/such/dir.db'}: the folder {tmp_path / 'no/such'} does not exist\n"
    )
    result = invoke("--db", "nosuchdriver://x", "meetings", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --db: cannot use 'nosuchdriver://x'")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://u:SECRET@db.example.org/inviter",
            "postgresql+psycopg://u:***@db.example.org/inviter",
        ),
        ("postgresql://u:SE@RET/pw%40x@127.0.0.1:1/db", "postgresql://***"),
        ("postgresql://u@db.example.org/inviter", "postgresql://u@db.example.org/inviter"),
        ("postgresql://db.example.org/inviter", "postgresql://db.example.org/inviter"),
    ],
)
def test_urls_are_named_without_any_part_of_a_password(url: str, shown: str) -> None:
    from inviter.store.database import hide_credentials

    assert hide_credentials(url) == shown


def test_a_password_with_an_unencoded_at_sign_is_refused_before_connecting(
    invoke: Invoke,
) -> None:
    # Read as user "u", password "SE", host "RET": the host would be looked up and the
    # driver's error would show it. Nothing of the password may appear.
    result = invoke(
        "--db", "postgresql+psycopg://u:SE@RET/pw%40x@127.0.0.1:1/db", "contacts", "list"
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --db: 'postgresql+psycopg://***' holds more than one '@'; write an '@' in the "
        "user name or password as %40\n"
    )


def test_status_answers_while_another_process_holds_the_write_lock(project: Path) -> None:
    # SPEC: readers never block on a writer. Without it, status waited the 30 s busy timeout
    # and then failed with "database is locked".
    import subprocess
    import sys

    inviter = [sys.executable, "-m", "inviter"]
    subprocess.run([*inviter, "contacts", "import", "contacts/troms.csv"], cwd=project, check=True)
    subprocess.run([*inviter, "send", "--meeting", "temamote-tromso"], cwd=project, check=True)
    writer = sqlite3.connect(project / "inviter.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE contacts SET name = 'Skrives nå'")
    try:
        for command in (["status", "--meeting", "temamote-tromso"], ["meetings", "list"]):
            done = subprocess.run(
                [*inviter, *command], cwd=project, capture_output=True, text=True, timeout=20
            )
            assert (done.returncode, done.stderr) == (0, "")
        assert "Skrives nå" not in done.stdout
    finally:
        writer.execute("ROLLBACK")
        writer.close()
