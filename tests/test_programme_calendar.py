"""``inviter calendar`` (issue 18, point 5): the programme as one METHOD:PUBLISH calendar whose
meetings carry their invitations' UIDs, read back by ical.js (Thunderbird's parser) and checked
against RFC 5546's PUBLISH restrictions by libical."""

from __future__ import annotations

import tomllib
from email import message_from_bytes
from pathlib import Path

from tests.conftest import Invoke
from tests.invitations_support import icaljs, libical_errors

SENT = "temamote-tromso"
CANCELLED = "temamote-harstad"
NEVER_SENT = "temamote-finnsnes"


def uid_of_message(data: bytes) -> str:
    message = message_from_bytes(data)
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            for line in payload.decode().splitlines():
                if line.startswith("UID:"):
                    return line.removeprefix("UID:")
    raise AssertionError("no UID")


def outbox_uids(project: Path) -> set[str]:
    return {uid_of_message(p.read_bytes()) for p in (project / "outbox" / "new").iterdir()}


def test_the_programme_calendar_matches_the_invitations(
    project: Path, invoke: Invoke, tmp_path: Path
) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    assert invoke("send", "--meeting", SENT).exit_code == 0
    [sent_uid] = outbox_uids(project)
    assert invoke("send", "--meeting", CANCELLED).exit_code == 0
    assert invoke("cancel", "--meeting", CANCELLED).exit_code == 0

    result = invoke("calendar", "-o", "program.ics")
    assert result.exit_code == 0, result.output
    assert result.stderr == "Wrote program.ics\n"
    data = (project / "program.ics").read_bytes()
    assert libical_errors(data, tmp_path) == []
    parsed = icaljs(data)
    assert parsed["method"] == "PUBLISH"
    assert parsed["timezones"] == ["Europe/Oslo"]
    events = {event["summary"]: event for event in parsed["all"]}
    assert len(events) == 9  # every meeting of inviter.toml, each once
    assert all(event["attendees"] == 0 for event in events.values())
    by_uid = {event["uid"]: event for event in parsed["all"]}
    sent = by_uid[sent_uid]
    # 10:00-15:00 in Tromsø on 9 November 2022 is 09:00-14:00 UTC (CET).
    assert (sent["start"], sent["end"]) == ("2022-11-09T09:00:00Z", "2022-11-09T14:00:00Z")
    assert sent["status"] == "CONFIRMED"
    cancelled = [e for e in parsed["all"] if e["status"] == "CANCELLED"]
    assert len(cancelled) == 1
    assert cancelled[0]["sequence"] == 1  # as high as the cancellation's

    # A meeting never sent keeps the UID it was given now: its invitations carry it later.
    kept = tomllib.loads((project / "inviter-uids.toml").read_text())
    assert kept[SENT] == sent_uid
    before = outbox_uids(project)
    assert invoke("send", "--meeting", NEVER_SENT).exit_code == 0
    assert outbox_uids(project) - before == {kept[NEVER_SENT]}
    assert kept[NEVER_SENT] in by_uid


def test_to_standard_output(invoke: Invoke) -> None:
    result = invoke("calendar")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert result.stdout_bytes.count(b"BEGIN:VEVENT") == 9
