"""Delivery reports (issue 15): bounced and delayed invitations, read by rsvp import.

The shipped example is sent to the outbox; reports in the shapes Microsoft 365, Gmail, Postfix
and Exim send (tests/data/bounces) come back about one invitation each.
"""

from __future__ import annotations

import email
import json
from pathlib import Path

import pytest

from tests.conftest import DATA, Invoke

MEETING = "temamote-tromso"
ELLE = "elle.marja.navvu@kafjord.example.org"
SAMPLES = DATA / "bounces"


def sent(invoke: Invoke) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    assert invoke("send", "--meeting", MEETING).exit_code == 0


def message_id_to(project: Path, address: str) -> str:
    for path in (project / "outbox" / "new").iterdir():
        message = email.message_from_bytes(path.read_bytes())
        if address in str(message["To"]):
            return str(message["Message-ID"])
    raise AssertionError(address)


def report(project: Path, name: str, address: str = ELLE) -> Path:
    raw = (SAMPLES / name).read_bytes()
    raw = raw.replace(b"MESSAGE_ID", message_id_to(project, address).encode())
    path = project / name
    path.write_bytes(raw.replace(b"RECIPIENT", address.encode()))
    return path


def person(invoke: Invoke, address: str) -> dict[str, object]:
    doc = json.loads(invoke("status", "--meeting", MEETING, "--json").stdout)
    found: dict[str, object] = next(r for r in doc["recipients"] if r["email"] == address)
    return found


@pytest.mark.parametrize(
    ("sample", "reason"),
    [
        ("exchange-online-ndr.eml", "5.1.10 550 5.1.10 RESOLVER.ADR.RecipientNotFound"),
        ("gmail-address-not-found.eml", "5.1.1 550 5.1.1"),
        ("postfix-unknown-user.eml", '5.1.1 unknown user: "nobody"'),
        ("exim-plain.eml", "no reason given"),
    ],
)
def test_a_bounce_marks_the_invitation_it_reports_on(
    project: Path, invoke: Invoke, sample: str, reason: str
) -> None:
    sent(invoke)
    result = invoke("rsvp", "import", str(report(project, sample)))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Read 1 message: 0 answers recorded, 1 delivery report (1 bounced, 0 delayed).\n"
    )
    elle = person(invoke, ELLE)
    assert elle["delivery"] == "bounced"
    assert str(elle["response"]).startswith(f"bounced: {reason}")
    doc = json.loads(invoke("status", "--meeting", MEETING, "--json").stdout)
    assert (doc["bounced"], doc["sent"]) == (1, doc["audience"] - 1)
    listed = json.loads(invoke("contacts", "list", "--bounced", "--json").stdout)
    assert [c["email"] for c in listed] == [ELLE]
    row = next(
        r for r in json.loads(invoke("meetings", "list", "--json").stdout) if r["slug"] == MEETING
    )
    assert row["bounced"] == 1
    # The next send does not send it again to the same address (a refusal for good) ...
    again = invoke("send", "--meeting", MEETING)
    assert "refused earlier, not tried again: 1" in again.stdout
    # ... but send --to does, once the address is put right, and a delivery clears the mark.
    assert invoke("send", "--meeting", MEETING, "--to", ELLE).exit_code == 0
    assert person(invoke, ELLE)["delivery"] == "sent"
    assert json.loads(invoke("contacts", "list", "--bounced", "--json").stdout) == []


def test_a_delay_is_shown_and_is_not_a_failure(project: Path, invoke: Invoke) -> None:
    sent(invoke)
    result = invoke("rsvp", "import", str(report(project, "gmail-delayed.eml")))
    assert result.exit_code == 0, result.output
    elle = person(invoke, ELLE)
    assert elle["delivery"] == "delayed"
    assert str(elle["response"]).startswith("delayed: 4.4.7")
    doc = json.loads(invoke("status", "--meeting", MEETING, "--json").stdout)
    assert (doc["delayed"], doc["bounced"], doc["failed"], doc["sent"]) == (
        1,
        0,
        0,
        doc["audience"],
    )
    assert "nothing to send" in invoke("send", "--meeting", MEETING).stdout  # not sent again


@pytest.mark.parametrize("sample", ["out-of-office.eml", "delivered-dsn.eml"])
def test_an_out_of_office_or_a_success_report_is_no_bounce(
    project: Path, invoke: Invoke, sample: str
) -> None:
    sent(invoke)
    invoke("rsvp", "import", str(report(project, sample)))
    assert person(invoke, ELLE)["delivery"] == "sent"
    doc = json.loads(invoke("status", "--meeting", MEETING, "--json").stdout)
    assert doc["bounced"] == 0
