"""Undo (issue 16): ``inviter reinstate`` takes a cancellation back, and khal, a calendar program
of its own, shows the event cancelled and then back when it imports each message in turn."""

from __future__ import annotations

import json
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

import pytest

from inviter.store.models import CANCEL, REQUEST
from tests.conftest import Invoke
from tests.sending_support import (
    MEETING,
    deliveries,
    meeting_state,
    open_db,
    prepare_folder,
    smtp_env,
)
from tests.smtpd import RecordingHandler, SmtpServer

KARI = "kari@example.org"
KHAL = str(Path(sys.executable).with_name("khal"))


@pytest.fixture
def folder(project: Path) -> Path:
    return prepare_folder(project)


def calendar_part(data: bytes) -> bytes:
    message = message_from_bytes(data)
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload
    raise AssertionError("no calendar part")


class Khal:
    """khal with a calendar folder of its own: Kari's calendar program."""

    def __init__(self, folder: Path) -> None:
        (folder / "cal").mkdir()
        self.config = folder / "khal.conf"
        self.config.write_text(
            f"[calendars]\n[[kari]]\npath = {folder / 'cal'}/\ntype = calendar\n"
            "[locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\n"
            "longdateformat = %Y-%m-%d\ndatetimeformat = %Y-%m-%d %H:%M\n"
            "longdatetimeformat = %Y-%m-%d %H:%M\n[default]\ndefault_calendar = kari\n",
            encoding="utf-8",
        )
        self.folder = folder

    def receive(self, data: bytes) -> None:
        """Import the message's calendar, as a calendar program does with an iTIP message."""
        ics = self.folder / "message.ics"
        ics.write_bytes(calendar_part(data))
        subprocess.run(
            [KHAL, "-c", str(self.config), "import", "--batch", "-a", "kari", str(ics)],
            check=True,
            capture_output=True,
        )

    def events(self) -> list[str]:
        done = subprocess.run(
            [KHAL, "-c", str(self.config), "list", "--format", "{title}|{status}|",
             "--day-format", "", "2099-11-09", "2d"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return [line for line in done.stdout.splitlines() if line.strip()]


def test_a_reinstated_meeting_comes_back_in_the_calendar(
    folder: Path, invoke: Invoke, tmp_path: Path
) -> None:
    khal = Khal(tmp_path)
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        assert invoke("send", "--meeting", MEETING, "--yes", env=env).exit_code == 0
        invoke("rsvp", "set", "--meeting", MEETING, KARI, "yes")
        assert invoke("cancel", "--meeting", MEETING, "--yes", env=env).exit_code == 0
        refused = invoke("send", "--meeting", MEETING, "--yes", env=env)
        assert refused.exit_code == 2
        assert "inviter reinstate --meeting testmote takes the cancellation back" in refused.stderr
        dry = invoke("reinstate", "--meeting", MEETING, "--dry-run", env=env)
        assert dry.exit_code == 0, dry.output
        assert "dry run: 5 messages rendered" in dry.stdout
        done = invoke("reinstate", "--meeting", MEETING, "--yes", env=env)
        assert done.exit_code == 0, done.output
        again = invoke("reinstate", "--meeting", MEETING, "--yes", env=env)
    assert again.exit_code == 2
    assert again.stderr.startswith(f"Error: meeting '{MEETING}' is not cancelled; nothing to")

    to_kari = [m.data for m in handler.messages if m.recipients == (KARI,)]
    assert len(to_kari) == 3  # the invitation, the cancellation, the reinstatement
    seen = []
    for data in to_kari:
        khal.receive(data)
        seen.append(khal.events())
    title = "Temamøte: Litteratur og kultur"
    assert seen == [
        [f"{title}|CONFIRMED |"],
        [f"{title}|CANCELLED |"],
        [f"{title}|CONFIRMED |"],
    ]
    state = meeting_state(open_db(folder))
    assert state is not None
    assert not state.cancelled
    rows = deliveries(open_db(folder))
    cancel = max(r.sequence for r in rows if r.kind == CANCEL)
    reinstated = [r for r in rows if r.kind == REQUEST and r.sequence > cancel]
    assert len(reinstated) == 5
    assert state.sequence == cancel + 1
    # The answers start afresh: Kari's "yes" was to the version before the cancellation.
    status = json.loads(invoke("status", "--meeting", MEETING, "--json").stdout)
    kari = next(r for r in status["recipients"] if r["email"] == KARI)
    assert (kari["rsvp"], kari["earlier_rsvp"]) == ("needs-action", "accepted")


def test_those_uninvited_one_by_one_stay_uninvited(folder: Path, invoke: Invoke) -> None:
    assert invoke("send", "--meeting", MEETING).exit_code == 0
    assert invoke("cancel", "--meeting", MEETING, "--to", "per@example.org").exit_code == 0
    assert invoke("cancel", "--meeting", MEETING).exit_code == 0
    result = invoke("reinstate", "--meeting", MEETING)
    assert result.exit_code == 0, result.output
    rows = deliveries(open_db(folder))
    cancel = max(r.sequence for r in rows if r.kind == CANCEL)
    again = sorted(r.email for r in rows if r.kind == REQUEST and r.sequence > cancel)
    assert "per@example.org" not in again
    assert len(again) == 4


def test_send_to_invites_again_someone_uninvited(
    folder: Path, invoke: Invoke, tmp_path: Path
) -> None:
    khal = Khal(tmp_path)
    per = "per@example.org"
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        assert invoke("send", "--meeting", MEETING, "--yes", env=env).exit_code == 0
        uninvite = invoke("cancel", "--meeting", MEETING, "--to", per, "--yes", env=env)
        assert uninvite.exit_code == 0, uninvite.output
        plain = invoke("send", "--meeting", MEETING, "--yes", env=env)
        assert "uninvited" in plain.stdout.lower()  # a plain send leaves them out
        again = invoke("send", "--meeting", MEETING, "--to", per, "--yes", env=env)
        assert again.exit_code == 0, again.output
        after = invoke("send", "--meeting", MEETING, "--yes", env=env)
    assert "sent: " not in after.stdout  # nobody lacks anything now
    to_per = [m.data for m in handler.messages if m.recipients == (per,)]
    assert len(to_per) == 3
    seen = []
    for data in to_per:
        khal.receive(data)
        seen.append(khal.events())
    title = "Temamøte: Litteratur og kultur"
    assert seen == [[f"{title}|CONFIRMED |"], [f"{title}|CANCELLED |"], [f"{title}|CONFIRMED |"]]
    rows = [r for r in deliveries(open_db(folder)) if r.email == per]
    cancel = next(r.sequence for r in rows if r.kind == CANCEL)
    assert [r.sequence for r in rows if r.kind == REQUEST] == [0, cancel + 1]
    assert len(handler.messages) == 5 + 1 + 1
