"""Replies nobody can forge, crash, stall or pin (issue 20), through the command line.

Every case is a message an attacker, a broken client or a busy mailbox really produces; each
is imported beside an ordinary reply, which must still be recorded.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from inviter.store.models import Reply
from tests.conftest import Invoke
from tests.replies_helpers import UID, prepare, sample, write_mbox

HILDE = "hilde.marie.bjornevik@tromso.example.org"
EMMA = "emma.clarke@uit.example.org"
EVEN = "even.helgoy@karlsoy.example.org"


def calendar_reply(
    sender: str,
    *attendees: str,
    stamp: str = "20221010T100000Z",
    sequence: str = "0",
    headers: str = "",
    extra: str = "",
) -> bytes:
    """A METHOD:REPLY as a calendar client writes it, From ``sender``."""
    lines = "".join(f"ATTENDEE;PARTSTAT={a}\r\n" for a in attendees)
    return (
        f"{headers}From: <{sender}>\r\nTo: bibliotek@example.org\r\nSubject: Svar\r\n"
        f"Message-ID: <{abs(hash((sender, attendees, stamp, sequence, headers)))}@example.net>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/calendar; charset=utf-8; method=REPLY\r\n\r\n"
        "BEGIN:VCALENDAR\r\nPRODID:-//test//EN\r\nVERSION:2.0\r\nMETHOD:REPLY\r\n"
        f"BEGIN:VEVENT\r\nUID:{UID}\r\nDTSTAMP:{stamp}\r\nSEQUENCE:{sequence}\r\n{extra}"
        f"{lines}END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def nested_messages(depth: int) -> bytes:
    """~985 levels of forwarded message/rfc822 in 43 KB: RecursionError in the email parser."""
    inner = b"From: a@example.net\r\nSubject: x\r\n\r\nhei\r\n"
    for _ in range(depth):
        inner = b"From: a@example.net\r\nContent-Type: message/rfc822\r\n\r\n" + inner
    return inner


def nested_multiparts(depth: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\nhei\r\n"
    for level in range(depth):
        b = f"b{level}".encode()
        body = (
            b"Content-Type: multipart/mixed; boundary="
            + b
            + b"\r\n\r\n--"
            + b
            + b"\r\n"
            + body
            + b"\r\n--"
            + b
            + b"--\r\n"
        )
    return b"From: a@example.net\r\nMessage-ID: <bomb@example.net>\r\n" + body


def status(invoke: Invoke) -> dict[str, object]:
    result = invoke("status", "--meeting", "temamote-tromso", "--json")
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def person(invoke: Invoke, email: str) -> dict[str, object]:
    recipients = status(invoke)["recipients"]
    assert isinstance(recipients, list)
    found: dict[str, object] = next(r for r in recipients if r["email"] == email)
    return found


def review_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("  ")]


def test_nested_bombs_are_listed_and_the_rest_of_the_batch_is_recorded(
    project: Path, invoke: Invoke
) -> None:
    prepare(project)
    mbox = write_mbox(
        project / "svar.mbox",
        [nested_messages(985), nested_multiparts(981), sample("gmail-accepted.eml")],
    )
    result = invoke("rsvp", "import", str(mbox))
    assert result.exit_code == 1
    assert result.stdout == "Read 3 messages: 1 answer recorded.\n"
    listed = review_lines(result.stderr)
    assert len(listed) == 2
    assert all("nested MIME parts (more than 100): not a reply" in line for line in listed)
    assert "Traceback" not in result.stderr
    assert person(invoke, EMMA)["rsvp"] == "accepted"


def test_numbers_beyond_their_range_are_unreadable_replies(project: Path, invoke: Invoke) -> None:
    prepare(project)
    (project / "seq.eml").write_bytes(
        calendar_reply(HILDE, f"ACCEPTED:mailto:{HILDE}", sequence="9" * 30)
    )
    (project / "year1.eml").write_bytes(
        calendar_reply(
            HILDE, f"ACCEPTED:mailto:{HILDE}", stamp="00010101T000000", extra=""
        ).replace(b"DTSTAMP:", b"DTSTAMP;TZID=Europe/Oslo:")
    )
    (project / "good.eml").write_bytes(sample("gmail-accepted.eml"))
    result = invoke("rsvp", "import", "seq.eml", "year1.eml", "good.eml")
    assert result.exit_code == 1
    assert result.stdout == "Read 3 messages: 1 answer recorded.\n"
    listed = review_lines(result.stderr)
    assert any(f"is not a number from 0 to {2**31 - 1}" in line for line in listed)
    assert any("DTSTAMP: '00010101T000000' is out of range" in line for line in listed)
    assert person(invoke, HILDE)["rsvp"] == "needs-action"
    assert person(invoke, EMMA)["rsvp"] == "accepted"


def test_a_huge_subject_of_encoded_words_is_read_without_decoding_it_all(
    project: Path, invoke: Invoke
) -> None:
    # 5 MB of encoded words took 205 s to decode (quadratic); cut before decoding, the
    # message is judged at once: no calendar in it.
    prepare(project)
    subject = "=?UTF-8?B?w7jDuMO4w7g=?= " * 190_000
    (project / "big.eml").write_bytes(
        f"From: a@example.net\r\nSubject: {subject}\r\n"
        "Message-ID: <big@example.net>\r\n\r\nhei\r\n".encode()
    )
    result = invoke("rsvp", "import", "big.eml")
    assert result.exit_code == 1
    assert review_lines(result.stderr) == [
        "  big.eml <big@example.net>: no calendar part (an answer typed by hand?); "
        "record it with 'inviter rsvp set'"
    ]


def test_a_message_that_cannot_be_stored_is_listed_and_the_rest_is_recorded(
    project: Path, invoke: Invoke
) -> None:
    _settings, db = prepare(project)
    # A real refusal by the database for one row (as a full disk or a constraint would give).
    raw = sqlite3.connect(project / "inviter.db")
    raw.execute(
        f"CREATE TRIGGER refuse BEFORE INSERT ON replies WHEN NEW.email = '{EMMA}' "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    raw.commit()
    raw.close()
    (project / "emma.eml").write_bytes(sample("gmail-accepted.eml"))
    (project / "biret.eml").write_bytes(sample("apple-declined.eml"))
    result = invoke("rsvp", "import", "emma.eml", "biret.eml")
    assert result.exit_code == 1
    assert result.stdout == "Read 2 messages: 1 answer recorded.\n"
    [line] = review_lines(result.stderr)
    assert line.startswith("  emma.eml <")
    assert line.endswith("cannot be stored: disk says no")
    assert person(invoke, "biret.anne.ziina@balsfjord.example.org")["rsvp"] == "declined"
    with db.session() as s:  # the refused message left nothing behind, its raw copy included
        assert s.scalars(select(Reply.email)).all() == ["biret.anne.ziina@balsfjord.example.org"]


def test_a_forged_answer_is_kept_unverified_and_not_counted(project: Path, invoke: Invoke) -> None:
    prepare(project)
    (project / "outsider.eml").write_bytes(
        calendar_reply("mallory@evil.example.net", f"DECLINED:mailto:{HILDE}")
    )
    (project / "colleague.eml").write_bytes(calendar_reply(EVEN, f"DECLINED:mailto:{EMMA}"))
    result = invoke("rsvp", "import", "outsider.eml", "colleague.eml")
    assert result.exit_code == 0
    assert result.stdout == "Read 2 messages: 2 answers recorded (2 unverified, not counted).\n"
    assert "sent by mallory@evil.example.net: kept as unverified" in result.stderr
    hilde, emma = person(invoke, HILDE), person(invoke, EMMA)
    assert (hilde["rsvp"], hilde["unverified_rsvp"], hilde["unverified_sender"]) == (
        "needs-action",
        "declined",
        "mallory@evil.example.net",
    )
    assert (emma["rsvp"], emma["unverified_sender"]) == ("needs-action", EVEN)
    doc = status(invoke)
    assert (doc["declined"], doc["unverified"]) == (0, 2)
    table = invoke("status", "--meeting", "temamote-tromso").stdout
    assert "unverified: declined sent by mallory@evil.example.net (confirm with rsvp set)" in table


def test_a_reply_through_a_caldav_server_counts_by_its_reply_to(
    project: Path, invoke: Invoke
) -> None:
    # Nextcloud and other CalDAV servers send From themselves, Reply-To the attendee.
    prepare(project)
    (project / "caldav.eml").write_bytes(
        calendar_reply(
            "calendar@cloud.example.net",
            f"ACCEPTED:mailto:{HILDE}",
            "ACCEPTED:mailto:bibliotek@example.org",  # the organizer's own line, echoed
            headers=f"Reply-To: <{HILDE}>\r\n",
        )
    )
    result = invoke("rsvp", "import", "caldav.eml")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "Read 1 message: 1 answer recorded.\n"
    hilde = person(invoke, HILDE)
    assert (hilde["rsvp"], hilde["answered_by"]) == ("accepted", "calendar@cloud.example.net")
    assert status(invoke)["forwarded"] == 0  # the organizer is never a guest


def test_one_reply_answers_for_one_attendee(project: Path, invoke: Invoke) -> None:
    prepare(project)
    others = [f"ACCEPTED:mailto:guest{n}@example.net" for n in range(49)]
    (project / "fifty.eml").write_bytes(
        calendar_reply(HILDE, *others[:20], f"ACCEPTED:mailto:{HILDE}", *others[20:])
    )
    result = invoke("rsvp", "import", "fifty.eml")
    assert result.exit_code == 0
    assert result.stdout == "Read 1 message: 1 answer recorded.\n"
    [warning] = result.stderr.splitlines()
    assert "a reply answers for one attendee; 49 other ATTENDEE lines ignored (" in warning
    assert warning.endswith("guest4@example.net and 44 more)")
    doc = status(invoke)
    assert (doc["accepted"], doc["forwarded"]) == (1, 0)
    recipients = doc["recipients"]
    assert isinstance(recipients, list)
    assert not any(r["email"].startswith("guest") for r in recipients)


def test_a_delegation_reply_records_the_pair(project: Path, invoke: Invoke) -> None:
    # RFC 5546 §3.2.2.3: the delegate's reply carries the delegator's DELEGATED line too.
    prepare(project)
    mikko = "mikko.raappana@nordreisa.example.org"
    liisa = "liisa.raappana@nordreisa.example.org"
    (project / "mikko.eml").write_bytes(
        calendar_reply(
            mikko,
            f'DELEGATED;DELEGATED-TO="mailto:{mikko}":mailto:{liisa}',
            f'ACCEPTED;DELEGATED-FROM="mailto:{liisa}":mailto:{mikko}',
            f"ACCEPTED:mailto:{HILDE}",
        )
    )
    result = invoke("rsvp", "import", "mikko.eml")
    assert result.exit_code == 0
    assert result.stdout == "Read 1 message: 2 answers recorded (1 from forwarded guests).\n"
    assert f"1 other ATTENDEE line ignored ({HILDE})" in result.stderr
    assert person(invoke, liisa)["rsvp"] == "delegated"
    assert person(invoke, mikko)["rsvp"] == "accepted"
    assert person(invoke, HILDE)["rsvp"] == "needs-action"


def test_nobody_can_pin_an_answer(project: Path, invoke: Invoke) -> None:
    _settings, db = prepare(project)
    received = "Received: from mx.example.net by mail.example.org; {}\r\n"
    (project / "pinned.eml").write_bytes(
        calendar_reply(
            EMMA,
            f"DECLINED:mailto:{EMMA}",
            stamp="20990101T000000Z",
            sequence="999",
            headers=received.format("Mon, 10 Oct 2022 12:00:00 +0000"),
        )
    )
    (project / "later.eml").write_bytes(
        calendar_reply(
            EMMA,
            f"ACCEPTED:mailto:{EMMA}",
            stamp="20221012T090000Z",
            headers=received.format("Wed, 12 Oct 2022 09:00:05 +0000"),
        )
    )
    assert invoke("rsvp", "import", "pinned.eml").exit_code == 0
    assert person(invoke, EMMA)["rsvp"] == "declined"
    with db.session() as s:
        stored = s.execute(select(Reply.sequence, Reply.dtstamp)).one()
    # Capped at the only version sent and at when the message arrived.
    assert tuple(stored) == (0, datetime(2022, 10, 10, 12, 0, tzinfo=UTC))
    assert invoke("rsvp", "import", "later.eml").exit_code == 0
    assert person(invoke, EMMA)["rsvp"] == "accepted"
    result = invoke("rsvp", "set", "--meeting", "temamote-tromso", EMMA, "no")
    assert result.stdout == (
        f"Recorded Emma Clarke <{EMMA}>: declined for temamote-tromso; it counts now.\n"
    )
    assert person(invoke, EMMA)["rsvp"] == "declined"
    # Importing the pinned reply again changes nothing: the answer given by phone stands.
    assert invoke("rsvp", "import", "pinned.eml").stdout.endswith("1 already recorded.\n")
    assert person(invoke, EMMA)["rsvp"] == "declined"


def test_a_phone_whose_clock_runs_a_day_ahead_cannot_hide_a_later_answer(
    project: Path, invoke: Invoke
) -> None:
    prepare(project)
    received = "Received: from mx.example.net by mail.example.org; {}\r\n"
    (project / "ahead.eml").write_bytes(
        calendar_reply(
            EMMA,
            f"DECLINED:mailto:{EMMA}",
            stamp="20221011T100000Z",  # a day ahead of its arrival
            headers=received.format("Mon, 10 Oct 2022 10:00:30 +0000"),
        )
    )
    (project / "changed-mind.eml").write_bytes(
        calendar_reply(
            EMMA,
            f"ACCEPTED:mailto:{EMMA}",
            stamp="20221010T140000Z",  # her laptop, later the same day
            headers=received.format("Mon, 10 Oct 2022 14:00:02 +0000"),
        )
    )
    assert invoke("rsvp", "import", "ahead.eml", "changed-mind.eml").exit_code == 0
    assert person(invoke, EMMA)["rsvp"] == "accepted"
