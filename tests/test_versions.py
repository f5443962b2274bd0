"""Answers belong to a version (SPEC, second edition; issue 15), through the command line.

The shipped example is sent to the outbox, answered, then changed in inviter.toml as staff
would change it; status, meetings list, attendance and report must all tell the same story.
"""

from __future__ import annotations

import email
import json
import tomllib
from email.message import Message
from pathlib import Path

from tests.conftest import Invoke
from tests.test_replies_hostile import calendar_reply

MEETING = "temamote-tromso"
ELLE = "elle.marja.navvu@kafjord.example.org"
SISSEL = "sissel.kvalvik@kvaenangen.example.org"


def sent(project: Path, invoke: Invoke) -> str:
    """Import the contacts, send the invitation to the outbox; return the meeting's UID."""
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    assert invoke("send", "--meeting", MEETING).exit_code == 0
    uids = tomllib.loads((project / "inviter-uids.toml").read_text(encoding="utf-8"))
    uid: str = uids[MEETING]
    return uid


def answer(project: Path, invoke: Invoke, uid: str, who: str, partstat: str, seq: int) -> None:
    stamp = f"202210{10 + seq:02d}T100000Z"
    raw = calendar_reply(who, f"{partstat}:mailto:{who}", stamp=stamp, sequence=str(seq))
    path = project / f"{who}-{seq}.eml"
    path.write_bytes(raw.replace(b"5f1c2a0e-7b8d-4c1e-9a3f-2d6e8b0c4a11@example.org", uid.encode()))
    result = invoke("rsvp", "import", str(path))
    assert result.exit_code == 0, result.output


def edit(project: Path, old: str, new: str) -> None:
    config = project / "inviter.toml"
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


def status(invoke: Invoke) -> dict[str, object]:
    result = invoke("status", "--meeting", MEETING, "--json")
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def person(doc: dict[str, object], email: str) -> dict[str, object]:
    recipients = doc["recipients"]
    assert isinstance(recipients, list)
    found: dict[str, object] = next(r for r in recipients if r["email"] == email)
    return found


def latest_text(project: Path, address: str) -> str:
    """The plain text of the newest message the outbox holds for ``address``."""
    found: list[tuple[float, Message]] = []
    for path in (project / "outbox" / "new").iterdir():
        message = email.message_from_bytes(path.read_bytes())
        if address in str(message["To"]):
            found.append((path.stat().st_mtime_ns, message))
    _when, newest = max(found, key=lambda item: item[0])
    for part in newest.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def listed(invoke: Invoke) -> dict[str, object]:
    result = invoke("meetings", "list", "--json")
    assert result.exit_code == 0
    row: dict[str, object] = next(r for r in json.loads(result.stdout) if r["slug"] == MEETING)
    return row


def test_a_new_time_asks_everyone_again(project: Path, invoke: Invoke) -> None:
    uid = sent(project, invoke)
    answer(project, invoke, uid, ELLE, "ACCEPTED", 0)
    answer(project, invoke, uid, SISSEL, "DECLINED", 0)
    assert listed(invoke)["changed"] is False

    edit(project, "start = 2022-11-09T10:00:00", "start = 2022-11-10T10:00:00")
    edit(project, "end = 2022-11-09T15:00:00", "end = 2022-11-10T15:00:00")
    # Changed in the config, not sent yet: every list says so, and the answers still count.
    assert listed(invoke)["changed"] is True
    assert "changed, update not sent" in invoke("meetings", "list").stdout
    doc = status(invoke)
    assert (doc["changed"], doc["accepted"], doc["declined"]) == (True, 1, 1)
    assert "changed, update not sent" in invoke("status", "--meeting", MEETING).stdout

    result = invoke("send", "--meeting", MEETING)
    assert result.exit_code == 0
    assert "invitation, version 2," in result.stdout
    # The update says what changed, old and new, and asks for an answer again.
    text = " ".join(latest_text(project, ELLE).split())
    assert (
        "Nytt tidspunkt: torsdag 10. november 2022 kl. 10.00–15.00 "
        "(før: onsdag 9. november 2022 kl. 10.00–15.00)."
    ) in text
    assert "ber vi deg svare på nytt" in text
    assert "trenger du ikke gjøre noe mer" not in text
    doc = status(invoke)
    assert (doc["changed"], doc["accepted"], doc["declined"], doc["answered_earlier"]) == (
        False,
        0,
        0,
        2,
    )
    elle = person(doc, ELLE)
    assert (elle["rsvp"], elle["earlier_rsvp"]) == ("needs-action", "accepted")
    attendance = invoke("attendance", "--meeting", MEETING, "--format", "json")
    assert json.loads(attendance.stdout) == []
    earlier = invoke("attendance", "--meeting", MEETING, "--format", "json", "--include-earlier")
    assert [(p["email"], p["earlier"]) for p in json.loads(earlier.stdout)] == [(ELLE, True)]
    table = invoke("attendance", "--meeting", MEETING, "--include-earlier").stdout
    assert "answered an earlier version" in table

    # Elle answers the new version: it counts; Sissel's earlier answer still does not.
    answer(project, invoke, uid, ELLE, "ACCEPTED", 1)
    doc = status(invoke)
    assert (doc["accepted"], doc["answered_earlier"]) == (1, 1)
    assert person(doc, ELLE)["earlier_rsvp"] is None
    people = json.loads(invoke("attendance", "--meeting", MEETING, "--format", "json").stdout)
    assert [p["email"] for p in people] == [ELLE]


def test_a_new_description_keeps_the_answers(project: Path, invoke: Invoke) -> None:
    uid = sent(project, invoke)
    answer(project, invoke, uid, ELLE, "ACCEPTED", 0)
    edit(project, "litteratur og kultur: bibliotekets", "litteratur og kultur: folkebibliotekets")
    assert listed(invoke)["changed"] is True
    result = invoke("send", "--meeting", MEETING)
    assert result.exit_code == 0
    assert "invitation, version 2," in result.stdout  # sent, so calendars show the new text
    text = " ".join(latest_text(project, ELLE).split())
    assert "Beskrivelsen er endret." in text
    assert "Har du allerede svart, trenger du ikke gjøre noe mer." in text  # answers stand
    doc = status(invoke)
    assert (doc["changed"], doc["accepted"], doc["answered_earlier"]) == (False, 1, 0)
    assert person(doc, ELLE)["earlier_rsvp"] is None


def test_a_reminder_goes_to_those_who_answered_an_earlier_version(
    project: Path, invoke: Invoke
) -> None:
    uid = sent(project, invoke)
    answer(project, invoke, uid, ELLE, "ACCEPTED", 0)
    edit(project, 'location = "Tromsø"', 'location = "Tromsø, Kulturhuset"')
    assert invoke("send", "--meeting", MEETING).exit_code == 0
    result = invoke("remind", "--meeting", MEETING)
    assert result.exit_code == 0, result.output
    assert f"sent: {ELLE}" in result.stdout
