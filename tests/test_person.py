"""``contacts show EMAIL`` (issue 18, point 4): a person's history, meeting by meeting, as staff
read it and as JSON; a removed contact keeps theirs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inviter.store.models import Reply
from tests.conftest import Invoke
from tests.sending_support import MEETING, meeting_state, open_db, prepare_folder, smtp_env
from tests.smtpd import RecordingHandler, SmtpServer

KARI = "kari@example.org"
PER = "per@example.org"


@pytest.fixture
def folder(project: Path) -> Path:
    return prepare_folder(project)


def test_a_persons_history(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    handler.refuse(PER, "550 5.1.1 <per@example.org>: no such user")
    with SmtpServer(handler) as server:
        result = invoke("send", "--meeting", MEETING, "--yes", env=smtp_env(server))
    assert result.exit_code == 1, result.output  # Per's address was refused
    assert (
        invoke("rsvp", "set", "--meeting", MEETING, KARI, "ja", "--note", "på telefon").exit_code
        == 0
    )
    db = open_db(folder)
    state = meeting_state(db)
    assert state is not None
    with db.session() as session:  # a forwarded guest who answered through Kari's invitation
        session.add(
            Reply(
                meeting_id=state.id, email="leder@example.org", name="Leder", partstat="ACCEPTED",
                sequence=0, dtstamp=datetime(2099, 10, 2, tzinfo=UTC), forwarded=True, via=KARI,
            )
        )  # fmt: skip

    shown = invoke("contacts", "show", KARI.upper(), "--json")
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.stdout)
    assert doc["email"] == KARI
    assert doc["contact"]["name"] == "Kari Nordmann"
    [meeting] = doc["meetings"]
    assert (meeting["slug"], meeting["in_audience"]) == (MEETING, True)
    assert [(s["kind"], s["sequence"], s["status"]) for s in meeting["sent"]] == [
        ("request", 0, "sent")
    ]
    [answer] = meeting["answers"]
    assert (answer["rsvp"], answer["comment"], answer["verified"]) == (
        "accepted",
        "på telefon",
        True,
    )
    assert meeting["guests"] == ["leder@example.org"]

    text = invoke("contacts", "show", PER)
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[0] == "Per Ørnes <per@example.org> (biblioteksjef, Harstad)"
    assert lines[1] == f"{MEETING}: Temamøte: Litteratur og kultur"
    assert lines[2].endswith(
        "invitation (version 1) failed: 550 5.1.1 <per@example.org>: no such user"
    )

    # Not in the audience (an ordfører), nothing sent.
    ola = invoke("contacts", "show", "ola@example.org")
    assert ola.stdout.splitlines()[1:] == ["  in no meeting's audience, and sent nothing"]

    # Removed from the list, the history stays.
    assert invoke("contacts", "remove", KARI).exit_code == 0
    gone = invoke("contacts", "show", KARI)
    assert gone.exit_code == 0, gone.output
    assert gone.stdout.splitlines()[0] == f"{KARI} <{KARI}> (no longer in the contact list)"
    assert "answered: accepted «på telefon»" in gone.stdout
    assert "forwarded to leder@example.org, who answered" in gone.stdout


def test_an_unknown_address_is_one_line(invoke: Invoke) -> None:
    result = invoke("contacts", "show", "nobody@example.org")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: contacts show: nobody@example.org is not a contact and was never sent anything\n"
    )
    bad = invoke("contacts", "show", "not-an-address")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Error: contacts show: 'not-an-address' is not a valid e-mail")
