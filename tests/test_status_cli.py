"""`status --meeting SLUG [--json]`: the SPEC's object, and the table for a terminal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from inviter.config import load_settings
from inviter.reports.status_output import load_status, status_table
from inviter.store.database import Database
from inviter.store.models import FAILED, REQUEST, Delivery, MeetingState
from tests.conftest import Invoke
from tests.replies_helpers import DATA, EMAILS, prepare

ASLAK = "aslak.cuddi@lyngen.example.org"
SPEC_COUNTS = {"audience", "sent", "failed", "pending", "accepted", "declined", "tentative"}


def scenario(project: Path, invoke: Invoke) -> Database:
    _settings, db = prepare(project, invited=EMAILS - {ASLAK})
    with db.session() as s:
        state = s.query(MeetingState).one()
        s.add(
            Delivery(
                meeting_id=state.id,
                email=ASLAK,
                kind=REQUEST,
                sequence=0,
                transport="outbox",
                message_id="<failed@example.org>",
                status=FAILED,
                response="550 5.1.1 no such user",
            )
        )
    for name in [
        "gmail-accepted.eml",
        "apple-declined.eml",
        "thunderbird-tentative.eml",
        "guest-accepted.eml",
    ]:
        shutil.copy(DATA / name, project / name)
    result = invoke(
        "rsvp",
        "import",
        "gmail-accepted.eml",
        "apple-declined.eml",
        "thunderbird-tentative.eml",
        "guest-accepted.eml",
    )
    assert result.exit_code == 0, result.output
    return db


def test_status_json_is_the_spec_object(project: Path, invoke: Invoke) -> None:
    scenario(project, invoke)
    result = invoke("status", "--meeting", "temamote-tromso", "--json")
    assert (result.exit_code, result.stderr) == (0, "")
    doc = json.loads(result.stdout)
    assert doc["meeting"] == "temamote-tromso"
    assert {
        k: doc[k]
        for k in [
            *SPEC_COUNTS,
            "no_answer",
            "uncertain",
            "forwarded",
            "unverified",
            "answered_earlier",
        ]
    } == {
        "audience": 9,
        "sent": 8,
        "failed": 1,
        "pending": 0,
        "uncertain": 0,
        "accepted": 2,  # Emma Clarke and the forwarded guest
        "declined": 1,
        "tentative": 1,
        "no_answer": 6,
        "forwarded": 1,
        "unverified": 0,
        "answered_earlier": 0,
    }
    for person in doc["recipients"]:
        assert {"email", "name", "delivery", "rsvp", "forwarded"} <= set(person)
        assert person["delivery"] in {"sent", "failed", "pending", "uncertain", None}
        assert person["rsvp"] in {"accepted", "declined", "tentative", "delegated", "needs-action"}
    by_email = {p["email"]: p for p in doc["recipients"]}
    guest = by_email["ordforer@karlsoy.example.org"]
    assert (guest["name"], guest["delivery"], guest["rsvp"], guest["forwarded"]) == (
        "Ordfører i Karlsøy",
        None,
        "accepted",
        True,
    )
    failed = by_email[ASLAK]
    assert (failed["delivery"], failed["response"]) == ("failed", "550 5.1.1 no such user")
    assert by_email["emma.clarke@uit.example.org"]["guests"] == 1
    assert len(doc["recipients"]) == 10


def test_status_table_for_a_terminal(project: Path, invoke: Invoke) -> None:
    scenario(project, invoke)
    result = invoke("status", "--meeting", "temamote-tromso")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:3] == [
        "temamote-tromso: Temamøte: Litteratur og kultur (2022-11-09 10:00–15:00)",
        "audience 9, sent 8, failed 1, not sent yet 0, uncertain 0",
        "accepted 2, declined 1, tentative 1, no answer 6, forwarded guests 1",
    ]
    rows = {line.split("  ")[0]: " ".join(line.split()) for line in result.stdout.splitlines()[5:]}
    # Words staff know, never the protocol's: the invitation failed, so no answer is awaited.
    assert rows["Aslak Čuđđi"] == (
        "Aslak Čuđđi aslak.cuddi@lyngen.example.org Tromsø failed — 550 5.1.1 no such user"
    )
    assert "needs-action" not in result.stdout
    assert "pending" not in result.stdout
    assert rows["Ordfører i Karlsøy"] == (
        # Placed by the contacts who share the address's domain (all in Tromsø here).
        "Ordfører i Karlsøy ordforer@karlsoy.example.org Tromsø — accepted forwarded guest"
    )
    assert rows["Emma Clarke"] == (
        "Emma Clarke emma.clarke@uit.example.org Tromsø sent accepted "
        "+1 guest; “Looking forward to it, bringing a colleague.”"
    )
    assert "\x1b[" not in result.stdout  # not a terminal: no colour


def test_status_table_colours(project: Path, invoke: Invoke) -> None:
    scenario(project, invoke)
    settings = load_settings(project / "inviter.toml", env={})
    text = status_table(
        load_status(settings, Database(settings.database_url), "temamote-tromso"), color=True
    )
    assert "\x1b[32maccepted\x1b[0m" in text
    assert "\x1b[31mdeclined\x1b[0m" in text
    assert "\x1b[33mtentative\x1b[0m" in text
    assert "\x1b[31mfailed\x1b[0m" in text


def test_status_before_anything_was_sent(project: Path, invoke: Invoke) -> None:
    result = invoke("status", "--meeting", "temamote-harstad", "--json")
    doc = json.loads(result.stdout)
    assert (doc["meeting"], doc["sent"], doc["recipients"]) == ("temamote-harstad", 0, [])
    text = invoke("status", "--meeting", "temamote-harstad").stdout
    assert text.splitlines()[1] == "Nothing has been sent for this meeting yet."


def test_status_unknown_meeting(project: Path, invoke: Invoke) -> None:
    result = invoke("status", "--meeting", "nope")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: inviter.toml: no meeting 'nope' (known: regionmote")


def test_a_two_day_meeting_shows_both_dates(invoke: Invoke) -> None:
    result = invoke("status", "--meeting", "biblioteksjefmote-2022")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "biblioteksjefmote-2022: Biblioteksjefmøtet for Troms fylke "
        "(2022-10-11 10:00 – 2022-10-12 15:00)"
    )
