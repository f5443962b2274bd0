"""Figures that agree (issue 15): status, meetings list, attendance and report, one computation.

The shipped example is sent, one person uninvited, one contact removed, a forwarded guest
answers, and the transport changes; the four commands must give the same figures each time.
"""

from __future__ import annotations

import email
import json
import re
from pathlib import Path

from tests.conftest import Invoke
from tests.test_versions import MEETING, sent

ELLE = "elle.marja.navvu@kafjord.example.org"
SISSEL = "sissel.kvalvik@kvaenangen.example.org"
EVEN = "even.helgoy@karlsoy.example.org"
EMMA = "emma.clarke@uit.example.org"
GUEST = "ordforer@karlsoy.example.org"


def message_id_to(outbox: Path, address: str) -> str:
    """The Message-ID of the invitation the outbox holds for ``address``."""
    for path in (outbox / "new").iterdir():
        message = email.message_from_bytes(path.read_bytes())
        if address in str(message["To"]):
            return str(message["Message-ID"])
    raise AssertionError(f"no invitation to {address}")


def reply(uid: str, who: str, *, in_reply_to: str = "") -> bytes:
    headers = f"In-Reply-To: {in_reply_to}\r\n" if in_reply_to else ""
    return (
        f"From: <{who}>\r\n{headers}To: bibliotek@example.org\r\nSubject: Godtatt\r\n"
        f"Message-ID: <{who}.reply@example.net>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/calendar; charset=utf-8; method=REPLY\r\n\r\n"
        "BEGIN:VCALENDAR\r\nPRODID:-//test//EN\r\nVERSION:2.0\r\nMETHOD:REPLY\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20221010T100000Z\r\nSEQUENCE:0\r\n"
        f"ATTENDEE;PARTSTAT=ACCEPTED;CN=Gjest:mailto:{who}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def figures(invoke: Invoke, env: dict[str, str] | None = None) -> dict[str, object]:
    """The same meeting's figures as each of the four commands gives them."""
    status = json.loads(invoke("status", "--meeting", MEETING, "--json", env=env).stdout)
    listed = next(
        r
        for r in json.loads(invoke("meetings", "list", "--json", env=env).stdout)
        if r["slug"] == MEETING
    )
    attendance = json.loads(
        invoke("attendance", "--meeting", MEETING, "--format", "json", env=env).stdout
    )
    page = invoke("report", env=env).stdout
    row = page[page.index(f'<span class="small">{MEETING}</span>') :]
    numbers = [int(n) for n in re.findall(r'<td class="num[^"]*">(\d+)</td>', row)[:7]]
    return {
        "status": (status["audience"], status["sent"], status["failed"], status["accepted"]),
        "meetings list": (listed["audience"], listed["sent"]),
        "attendance": len(attendance),
        "report": (numbers[0], numbers[1], numbers[2], numbers[3]),
        "people": {p["email"]: p for p in attendance},
        "counts": status,
    }


def test_the_four_commands_agree(project: Path, invoke: Invoke) -> None:
    uid = sent(project, invoke)
    forwarded_from = message_id_to(project / "outbox", EVEN)
    assert invoke("cancel", "--meeting", MEETING, "--to", ELLE).exit_code == 0
    assert invoke("contacts", "remove", SISSEL).exit_code == 0
    (project / "guest.eml").write_bytes(reply(uid, GUEST, in_reply_to=forwarded_from))
    (project / "emma.eml").write_bytes(reply(uid, EMMA))
    assert invoke("rsvp", "import", "guest.eml", "emma.eml").exit_code == 0

    seen = figures(invoke)
    # 24 in the audience: Elle uninvited, Sissel no longer a contact (she has it, and is
    # counted apart as left_audience, never as pending or failed).
    assert seen["status"] == (22, 22, 0, 2)
    assert seen["meetings list"] == (22, 22)
    assert seen["report"] == (22, 22, 0, 2)
    assert seen["attendance"] == 2
    counts = seen["counts"]
    assert isinstance(counts, dict)
    assert (counts["left_audience"], counts["pending"], counts["forwarded"]) == (1, 0, 1)
    people = seen["people"]
    assert isinstance(people, dict)
    # The guest answered Even's invitation: placed in Even's municipality and region.
    guest = people[GUEST]
    assert (guest["forwarded"], guest["municipality"], guest["region"]) == (
        True,
        "Karlsøy",
        "Tromsø og omegn",
    )
    status = json.loads(invoke("status", "--meeting", MEETING, "--json").stdout)
    [row] = [r for r in status["recipients"] if r["email"] == GUEST]
    assert row["forwarded_by"] == EVEN

    # Switching to SMTP: the outbox copies were never sent for real; all four say so alike.
    smtp = {"INVITER_SEND_TRANSPORT": "smtp"}
    seen = figures(invoke, smtp)
    assert seen["status"] == (22, 0, 0, 2)
    assert seen["meetings list"] == (22, 0)
    assert seen["report"] == (22, 0, 0, 2)
