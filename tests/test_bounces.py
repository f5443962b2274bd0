"""Delivery reports (issue 15): bounced and delayed invitations, read by rsvp import.

The shipped example is sent to the outbox; reports in the shapes Microsoft 365, Gmail, Postfix
and Exim send (tests/data/bounces) come back about one invitation each.
"""

from __future__ import annotations

import email
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT, Invoke, require_tool
from tests.postfix import ORGANIZER, UNKNOWN, Postfix, find_postfix
from tests.sending_support import write_config

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


def test_a_real_postfix_report_for_an_unknown_user_marks_the_invitation(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sent for real through Debian's Postfix on loopback: it accepts the unknown local user,
    # fails the delivery and writes its own RFC 3464 report to the organizer's mailbox.
    server = Postfix(require_tool(find_postfix(), "Postfix (Debian postfix)"))
    try:
        folder = tmp_path / "season"
        folder.mkdir()
        write_config(folder)
        config = folder / "inviter.toml"
        config.write_text(
            config.read_text(encoding="utf-8").replace("bibliotek@example.org", ORGANIZER),
            encoding="utf-8",
        )
        shutil.copytree(ROOT / "templates", folder / "templates")
        monkeypatch.chdir(folder)
        added = invoke(
            "contacts",
            "add",
            "--name",
            "Ingen Her",
            "--email",
            UNKNOWN,
            "--role",
            "biblioteksjef",
            "--municipality",
            "Tromsø",
        )
        assert added.exit_code == 0, added.output
        env = {
            "INVITER_SEND_TRANSPORT": "smtp",
            "INVITER_SMTP_HOST": "127.0.0.1",
            "INVITER_SMTP_PORT": str(server.port),
            "INVITER_SMTP_SECURITY": "none",
        }
        sent = invoke("send", "--meeting", "testmote", env=env)
        assert sent.exit_code == 0, sent.output  # accepted: the bounce comes later
        (folder / "svar.mbox").write_bytes(server.wait_for_report())
    finally:
        server.stop()
    result = invoke("rsvp", "import", "svar.mbox")
    assert result.exit_code == 0, result.output
    assert "1 delivery report (1 bounced, 0 delayed)" in result.stdout
    doc = json.loads(invoke("status", "--meeting", "testmote", "--json", env=env).stdout)
    [row] = [r for r in doc["recipients"] if r["email"] == UNKNOWN]
    assert row["delivery"] == "bounced"
    assert row["response"].startswith("bounced: 5.1.1 unknown user")
    assert doc["bounced"] == 1


def test_a_detector_that_fails_prints_no_traceback(project: Path) -> None:
    """flufl.bounce logs a failing detector's traceback (Yale's, on a message without From:);
    staff see the message listed for review, and no traceback (a process of its own, so that
    logging is as it is for staff: no handler configured)."""
    import subprocess
    import sys

    junk = project / "x.msg"
    junk.write_bytes(b"junk")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "inviter"), "rsvp", "import", str(junk)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Exception in detector" not in done.stderr
    assert "x.msg: no calendar part" in done.stdout + done.stderr
