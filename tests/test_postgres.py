"""``--db postgresql+psycopg://…`` on a real PostgreSQL server: the main flows give exactly what
they give on SQLite, and two sends at once do not both send.

Every test gets a database of its own (tests/postgres_server.py), made with ICU's Norwegian
collation as a county's server would have it. The errors: test_postgres_errors.py.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import Result

from inviter.deliver.run_summary import SendReport
from inviter.deliver.sending import send_invitations
from inviter.errors import DatabaseError
from inviter.store.database import Database

from . import postgres_server
from .conftest import Invoke
from .postgres_server import rows
from .sending_support import AUDIENCE, MEETING, add_contacts, settings_for, smtp_env, write_config
from .smtpd import RecordingHandler, SmtpServer

TEMAMOTE = "temamote-tromso"

postgres = postgres_server.postgres  # the fixtures, used by name
pg_url = postgres_server.pg_url


def _same(invoke: Invoke, pg_url: str, sqlite_url: str, *args: str) -> Result:
    """Run one command on PostgreSQL and on SQLite; they must answer alike. Return the first."""
    on_pg = invoke("--db", pg_url, *args)
    on_sqlite = invoke("--db", sqlite_url, *args)
    assert (on_pg.exit_code, on_pg.stdout, on_pg.stderr) == (
        on_sqlite.exit_code,
        on_sqlite.stdout,
        on_sqlite.stderr,
    ), args
    return on_pg


def _sqlite(project: Path) -> str:
    return f"sqlite:///{project / 'compare.db'}"


# ---------------------------------------------------------------- contacts


def test_contacts_import_update_and_list_match_sqlite(
    invoke: Invoke, project: Path, pg_url: str
) -> None:
    sqlite = _sqlite(project)
    first = _same(invoke, pg_url, sqlite, "contacts", "import", "contacts/troms.csv")
    assert first.exit_code == 0
    assert first.stdout == "contacts/troms.csv: 36 added, 0 updated, 0 unchanged\n"

    # Edited in a spreadsheet: one name changed, one address typed in capitals.
    csv = project / "contacts" / "troms.csv"
    text = csv.read_text(encoding="utf-8")
    edited = text.replace("Sissel Kvalvik", "Sissel Kvalvik-Hansen").replace(
        "aslak.cuddi@lyngen.example.org", "Aslak.Cuddi@LYNGEN.example.org"
    )
    assert edited != text
    csv.write_text(edited, encoding="utf-8")
    again = _same(invoke, pg_url, sqlite, "contacts", "import", "contacts/troms.csv")
    assert again.stdout == "contacts/troms.csv: 0 added, 1 updated, 35 unchanged\n"
    assert rows(pg_url, "SELECT count(*), count(DISTINCT email) FROM contacts") == [(36, 36)]

    listed = _same(invoke, pg_url, sqlite, "contacts", "list", "--json")
    people = json.loads(listed.stdout)
    assert len(people) == 36
    sissel = next(p for p in people if p["email"] == "sissel.kvalvik@kvaenangen.example.org")
    assert sissel["name"] == "Sissel Kvalvik-Hansen"
    assert sissel["municipality"] == "Kvænangen"

    nord = _same(invoke, pg_url, sqlite, "contacts", "list", "--region", "nord-troms", "--json")
    assert {p["region"] for p in json.loads(nord.stdout)} == {"Nord-Troms"}
    # Filters take any of a municipality's names, as stored: Sámi name in, official out.
    kafjord = _same(invoke, pg_url, sqlite, "contacts", "list", "--municipality", "Gáivuotna")
    assert "elle.marja.navvu@kafjord.example.org" in kafjord.stdout


def test_a_bad_row_leaves_the_postgresql_database_unchanged(
    invoke: Invoke, project: Path, pg_url: str
) -> None:
    assert invoke("--db", pg_url, "contacts", "import", "contacts/troms.csv").exit_code == 0
    before = rows(pg_url, "SELECT email, name, updated_at FROM contacts ORDER BY id")
    bad = project / "bad.csv"
    bad.write_text(
        "name,email,role,municipality\n"
        "Ny Person,ny.person@example.org,partner,Tromsø\n"
        "Sissel Endret,sissel.kvalvik@kvaenangen.example.org,biblioteksjef,Kvænangen\n"
        "Ødelagt Rad,kari@,partner,Tromsø\n",
        encoding="utf-8",
    )
    result = invoke("--db", pg_url, "contacts", "import", "bad.csv")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: bad.csv: line 4: email: 'kari@' is not a valid e-mail address"
    )
    assert result.stderr.count("\n") == 1
    assert rows(pg_url, "SELECT email, name, updated_at FROM contacts ORDER BY id") == before

    # A value longer than its VARCHAR: refused by the check before PostgreSQL could refuse it.
    long = invoke(
        "--db", pg_url, "contacts", "add", "--name", "Å" * 201, "--email", "lang@example.org",
        "--role", "partner", "--municipality", "Tromsø",
    )  # fmt: skip
    assert long.exit_code == 2
    assert long.stderr == (
        f"Error: contacts add: --name: '{'Å' * 59}…' is 201 characters long; at most 200\n"
    )
    assert rows(pg_url, "SELECT count(*) FROM contacts") == [(36,)]


# ---------------------------------------------------------------- sending and replies


def test_send_rsvp_status_attendance_and_meetings_match_sqlite(
    invoke: Invoke, project: Path, pg_url: str
) -> None:
    sqlite = _sqlite(project)
    _same(invoke, pg_url, sqlite, "contacts", "import", "contacts/troms.csv")

    sent = invoke("--db", pg_url, "send", "--meeting", TEMAMOTE)
    assert sent.exit_code == 0, sent.stderr
    outbox = sorted((project / "outbox" / "new").iterdir())
    assert len(outbox) == 24
    assert "sent: 24" in sent.stdout
    states = rows(pg_url, "SELECT status, count(*) FROM deliveries GROUP BY status")
    assert states == [("sent", 24)]
    on_sqlite = invoke("--db", sqlite, "send", "--meeting", TEMAMOTE)
    assert (on_sqlite.exit_code, on_sqlite.stdout) == (0, sent.stdout)

    again = _same(invoke, pg_url, sqlite, "send", "--meeting", TEMAMOTE)
    assert again.exit_code == 0
    assert again.stdout == (
        # The shipped example is autumn 2022: into the outbox a started meeting only warns.
        f"Warning: meeting '{TEMAMOTE}' started on 2022-11-09 at 10:00\n"
        f"{TEMAMOTE}: invitation, version 1, through the outbox\n"
        "  nothing to send: everyone in the audience has the current version\n"
        "  already had it: 24\n"
    )
    assert len(list((project / "outbox" / "new").iterdir())) == 48  # 24 per database, no more

    yes = _same(
        invoke, pg_url, sqlite, "rsvp", "set", "--meeting", TEMAMOTE,
        "Sissel.Kvalvik@kvaenangen.example.org", "yes",
    )  # fmt: skip
    assert yes.exit_code == 0
    no = _same(
        invoke, pg_url, sqlite, "rsvp", "set", "--meeting", TEMAMOTE,
        "aslak.cuddi@lyngen.example.org", "no",
    )  # fmt: skip
    assert no.exit_code == 0

    status = json.loads(
        _same(invoke, pg_url, sqlite, "status", "--meeting", TEMAMOTE, "--json").stdout
    )
    assert (status["sent"], status["accepted"], status["declined"], status["no_answer"]) == (
        24,
        1,
        1,
        22,
    )
    answers = {r["email"]: r["rsvp"] for r in status["recipients"] if r["rsvp"] != "needs-action"}
    assert answers == {
        "sissel.kvalvik@kvaenangen.example.org": "accepted",
        "aslak.cuddi@lyngen.example.org": "declined",
    }

    attendance = _same(
        invoke, pg_url, sqlite, "attendance", "--meeting", TEMAMOTE, "--format", "json"
    )
    assert [p["email"] for p in json.loads(attendance.stdout)] == [
        "sissel.kvalvik@kvaenangen.example.org"
    ]

    meetings = json.loads(_same(invoke, pg_url, sqlite, "meetings", "list", "--json").stdout)
    temamote = next(m for m in meetings if m["slug"] == TEMAMOTE)
    assert (temamote["audience"], temamote["sent"]) == (24, 24)
    # Stored in UTC, given back aware: the timestamps round-trip through PostgreSQL unchanged.
    assert rows(pg_url, "SELECT count(*) FROM replies WHERE dtstamp > now() + interval '1 minute'"
                 " OR dtstamp < now() - interval '1 hour'") == [(0,)]  # fmt: skip


def _send_twice_at_once(url: str, folder: Path) -> tuple[list[str], dict[str, object]]:
    """Start a send; while it is mid-way, start a second one. Return who got what, and how."""
    handler = RecordingHandler(delay=0.2)  # 5 messages on one connection: about 1 s
    results: dict[str, object] = {}
    with SmtpServer(handler) as server:
        env = smtp_env(server, INVITER_SEND_CONCURRENCY="1")
        settings = settings_for(folder, env)

        def run(name: str) -> None:
            db = Database(url)
            try:
                results[name] = asyncio.run(send_invitations(settings, db, MEETING, env=env))
            except DatabaseError as exc:
                results[name] = exc
            finally:
                db.close()

        first = threading.Thread(target=run, args=("first",))
        first.start()
        deadline = time.monotonic() + 10
        while not handler.messages and time.monotonic() < deadline:
            time.sleep(0.01)
        assert handler.messages, "the first send never reached the server"
        run("second")  # its pending rows are the first run's: it must not send them too
        first.join()
    return sorted(r for m in handler.messages for r in m.recipients), results


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_two_sends_at_once_do_not_both_send(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "templates").symlink_to(Path(__file__).resolve().parent.parent / "templates")
    write_config(folder)
    if backend == "postgresql":
        url: str = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{folder / 'inviter.db'}"
    db = Database(url)
    add_contacts(db)
    db.close()

    received, results = _send_twice_at_once(url, folder)

    assert received == AUDIENCE  # each once
    first = results["first"]
    assert isinstance(first, SendReport)
    assert sorted(r.email for r in first.results if r.status == "sent") == AUDIENCE
    second = results["second"]
    assert isinstance(second, DatabaseError)
    assert str(second) == (
        f"{Database(url).describe()}: another inviter send, cancel or remind is running; "
        f"nothing was sent for '{MEETING}'; run this again when it has finished"
    )


def test_a_killed_run_leaves_no_lock_behind(invoke: Invoke, pg_url: str) -> None:
    """The lock is the connection's: a process killed mid-run (kill -9) releases it."""
    holder = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys, time\n"
            "from inviter.store.database import Database\n"
            "with Database(sys.argv[1]).exclusive(sys.argv[2], 'busy'):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(60)\n",
            pg_url, f"send {TEMAMOTE}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        assert invoke("--db", pg_url, "contacts", "import", "contacts/troms.csv").exit_code == 0
        busy = invoke("--db", pg_url, "send", "--meeting", TEMAMOTE)
        assert busy.exit_code == 2
        assert busy.stderr == (
            f"Error: {Database(pg_url).describe()}: another inviter send, cancel or remind is "
            f"running; nothing was sent for '{TEMAMOTE}'; run this again when it has finished\n"
        )
        assert rows(pg_url, "SELECT count(*) FROM deliveries") == [(0,)]
        # Another meeting is not held up by it.
        other = invoke("--db", pg_url, "send", "--meeting", "regionmote-tromso")
        assert other.exit_code == 0, other.stderr
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 10
    while True:  # the server notices the closed connection at once, but not synchronously
        result = invoke("--db", pg_url, "send", "--meeting", TEMAMOTE)
        if result.exit_code == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert result.exit_code == 0, result.stderr
    assert "sent: 24" in result.stdout
