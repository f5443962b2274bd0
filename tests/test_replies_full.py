"""Replies read in full (issue 15): Google's note, a COUNTER's time, a saved .ics, a bounce."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import DATA, Invoke
from tests.dovecot import Dovecot
from tests.replies_helpers import UID, prepare, sample
from tests.test_bounces import message_id_to
from tests.test_imap import PASSWORD_ENV, configure

EMMA = "emma.clarke@uit.example.org"
EVEN = "even.helgoy@karlsoy.example.org"


def person(invoke: Invoke, email: str) -> dict[str, object]:
    doc = json.loads(invoke("status", "--meeting", "temamote-tromso", "--json").stdout)
    found: dict[str, object] = next(r for r in doc["recipients"] if r["email"] == email)
    return found


def test_googles_note_beside_the_buttons_is_kept(project: Path, invoke: Invoke) -> None:
    # Google writes the note as the attendee's X-RESPONSE-COMMENT parameter (RFC 6868 escaped).
    prepare(project)
    raw = sample("gmail-accepted.eml").split(
        b"\r\n--000000000000a1b2c3d4e5f60709\r\nContent-Type: application/ics"
    )[0]
    raw = raw.replace(b"COMMENT;", b"X-IGNORED;").replace(
        b"ATTENDEE;", b'ATTENDEE;X-RESPONSE-COMMENT="Kommer med kollega^\'s bil";', 1
    )
    (project / "note.eml").write_bytes(raw)
    assert invoke("rsvp", "import", "note.eml").exit_code == 0
    assert person(invoke, EMMA)["comment"] == 'Kommer med kollega"s bil'


def test_a_counter_shows_the_time_it_proposes(project: Path, invoke: Invoke) -> None:
    prepare(project)
    (project / "counter.eml").write_bytes(sample("gmail-counter.eml"))
    assert invoke("rsvp", "import", "counter.eml").exit_code == 0
    even = person(invoke, EVEN)
    assert (even["counter"], even["proposed_start"], even["proposed_end"]) == (
        True,
        "2022-11-09T11:00:00+01:00",
        "2022-11-09T16:00:00+01:00",
    )
    table = invoke("status", "--meeting", "temamote-tromso").stdout
    assert (
        "proposed 2022-11-09 11:00–16:00 “Kan vi starte en time senere? Ferja går 08.15.”" in table
    )


def test_a_saved_ics_attachment_is_read_not_sent_to_rsvp_set(project: Path, invoke: Invoke) -> None:
    prepare(project)
    (project / "invite.ics").write_bytes(
        (
            "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
            "VERSION:2.0\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
            f"UID:{UID}\r\nDTSTAMP:20221010T100000Z\r\nSEQUENCE:0\r\n"
            f"ATTENDEE;PARTSTAT=DECLINED:mailto:{EMMA}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        ).encode()
    )
    result = invoke("rsvp", "import", "invite.ics")
    assert result.exit_code == 0, result.output
    assert "is a calendar file, with no sender to check: kept as unverified" in result.stderr
    emma = person(invoke, EMMA)
    assert (emma["rsvp"], emma["unverified_rsvp"]) == ("needs-action", "declined")


def test_rsvp_fetch_reads_a_bounce_from_the_mailbox(
    project: Path, invoke: Invoke, dovecot: Dovecot
) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    assert invoke("send", "--meeting", "temamote-tromso").exit_code == 0
    elle = "elle.marja.navvu@kafjord.example.org"
    report = (DATA / "bounces" / "gmail-address-not-found.eml").read_bytes()
    report = report.replace(b"MESSAGE_ID", message_id_to(project, elle).encode())
    dovecot.deliver([report.replace(b"RECIPIENT", elle.encode())])
    configure(project, dovecot)
    result = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    assert result.exit_code == 0, result.output
    assert "1 delivery report (1 bounced, 0 delayed)" in result.stdout
    assert person(invoke, elle)["delivery"] == "bounced"
