"""No slip reaches everyone (issue 16): questions at a terminal, --yes for scripts, dry runs for
cancel and remind, reminder rounds a day apart, and last season's meetings. Through the command
line against aiosmtpd; a pseudo-terminal (pexpect) wherever a person is asked."""

from __future__ import annotations

from pathlib import Path

import pexpect
import pytest

from inviter.store.models import CANCEL, REMINDER
from tests.conftest import Invoke
from tests.sending_support import (
    MEETING,
    at_a_terminal,
    calendar_of,
    deliveries,
    meeting_state,
    open_db,
    parse,
    prepare_folder,
    prop,
    smtp_env,
)
from tests.smtpd import RecordingHandler, SmtpServer

AUDIENCE = [
    "aile@example.org",
    "ellen@example.org",
    "kari@example.org",
    "oystein@example.org",
    "per@example.org",
]
TITLE = "Temamøte: Litteratur og kultur"


@pytest.fixture
def folder(project: Path) -> Path:
    return prepare_folder(project)


def finish(child: pexpect.spawn) -> tuple[int, str]:
    child.expect(pexpect.EOF)
    output = str(child.before)
    child.close()
    return int(child.exitstatus or 0), output


def sent_everyone(invoke: Invoke, env: dict[str, str]) -> None:
    result = invoke("send", "--meeting", MEETING, "--yes", env=env)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("answer", "cancelled"), [("n", 0), ("y", 5)])
def test_cancel_at_a_terminal_asks_first(
    folder: Path, invoke: Invoke, answer: str, cancelled: int
) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        sent_everyone(invoke, env)
        child = at_a_terminal(folder, env, "cancel", "--meeting", MEETING)
        child.expect(
            rf"Cancel «{TITLE}» for 5 people\? It leaves their calendars "
            r"\(through 127\.0\.0\.1\)\. \[y/N\]: "
        )
        child.sendline(answer)
        status, output = finish(child)
    assert status == 0, output
    cancels = [r for r in deliveries(open_db(folder)) if r.kind == CANCEL]
    assert len(cancels) == cancelled
    assert len(handler.messages) == 5 + cancelled
    state = meeting_state(open_db(folder))
    assert state is not None
    assert state.cancelled == bool(cancelled)
    if not cancelled:
        assert "not confirmed: nothing sent, nothing recorded" in output


def test_uninviting_one_asks_in_its_own_words(folder: Path, invoke: Invoke) -> None:
    with SmtpServer(RecordingHandler()) as server:
        env = smtp_env(server)
        sent_everyone(invoke, env)
        child = at_a_terminal(
            folder, env, "cancel", "--meeting", MEETING, "--to", "per@example.org"
        )
        child.expect(
            rf"Withdraw the invitation to «{TITLE}» from 1 person \(the meeting goes ahead\)\? "
        )
        child.sendline("y")
        status, output = finish(child)
    assert status == 0, output
    [row] = [r for r in deliveries(open_db(folder)) if r.kind == CANCEL]
    assert row.email == "per@example.org"


@pytest.mark.parametrize("command", ["cancel", "remind"])
def test_without_a_terminal_cancel_and_remind_need_yes(
    folder: Path, invoke: Invoke, command: str
) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        sent_everyone(invoke, env)
        refused = invoke(command, "--meeting", MEETING, env=env)
        assert refused.exit_code == 2
        what = "the cancellation" if command == "cancel" else "the reminder"
        assert refused.stderr == (
            f"Error: {MEETING}: {what} would go to 5 people; there is no terminal to ask on: "
            "give --yes to confirm, or --dry-run to see who; nothing was sent\n"
        )
        assert len(handler.messages) == 5
        assert [r for r in deliveries(open_db(folder)) if r.kind != "request"] == []
        done = invoke(command, "--meeting", MEETING, "--yes", env=env)
    assert done.exit_code == 0, done.output
    assert len(handler.messages) == 10


def test_the_outbox_never_asks(folder: Path, invoke: Invoke) -> None:
    assert invoke("send", "--meeting", MEETING).exit_code == 0
    result = invoke("cancel", "--meeting", MEETING)  # no terminal, no --yes: nothing leaves
    assert result.exit_code == 0, result.output
    assert len([r for r in deliveries(open_db(folder)) if r.kind == CANCEL]) == 5


def test_send_over_smtp_asks_at_a_terminal_and_no_sends_nothing(folder: Path) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        child = at_a_terminal(folder, smtp_env(server), "send", "--meeting", MEETING)
        child.expect(rf"Send the invitation to «{TITLE}» to 5 people \(through 127\.0\.0\.1\)\? ")
        child.sendline("")  # Enter: the default is no
        status, output = finish(child)
    assert status == 0, output
    assert handler.messages == []
    assert deliveries(open_db(folder)) == []


@pytest.mark.parametrize("command", ["cancel", "remind"])
def test_dry_runs_list_who_would_get_it_and_change_nothing(
    folder: Path, invoke: Invoke, command: str
) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        sent_everyone(invoke, env)
        before = deliveries(open_db(folder))
        result = invoke(command, "--meeting", MEETING, "--dry-run", env=env)
    assert result.exit_code == 0, result.output
    assert "dry run: 5 messages rendered; nothing sent, nothing recorded, no connection made" in (
        result.stdout
    )
    for email in AUDIENCE:
        assert f"    {email}\n" in result.stdout
    assert len(handler.messages) == 5
    assert [(r.id, r.status) for r in deliveries(open_db(folder))] == [
        (r.id, r.status) for r in before
    ]
    state = meeting_state(open_db(folder))
    assert state is not None
    assert not state.cancelled


def test_remind_to_one_person_and_refusals(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        sent_everyone(invoke, env)
        one = invoke("remind", "--meeting", MEETING, "--to", "KARI@example.org", "--yes", env=env)
        assert one.exit_code == 0, one.output
        assert [m.recipients[0] for m in handler.messages[5:]] == ["kari@example.org"]
        stranger = invoke(
            "remind", "--meeting", MEETING, "--to", "ola@example.org", "--yes", "--force", env=env
        )
    assert stranger.exit_code == 2
    assert stranger.stderr == (
        f"Error: --to ola@example.org: was not sent the current invitation to '{MEETING}'; "
        "nothing was sent\n"
    )
    rows = [r for r in deliveries(open_db(folder)) if r.kind == REMINDER]
    assert [r.email for r in rows] == ["kari@example.org"]


def test_last_seasons_meeting_needs_force_over_smtp(folder: Path, invoke: Invoke) -> None:
    config = folder / "inviter.toml"
    config.write_text(config.read_text().replace("2099-11-09", "2022-11-09"))
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        refused = invoke("send", "--meeting", MEETING, "--yes", env=env)
        assert refused.exit_code == 2
        assert refused.stderr == (
            f"Error: meeting '{MEETING}' started on 2022-11-09 at 10:00; sending the invitation "
            "now needs --force; nothing was sent\n"
        )
        assert handler.messages == []
        forced = invoke("send", "--meeting", MEETING, "--yes", "--force", env=env)
    assert forced.exit_code == 0, forced.output
    assert len(handler.messages) == 5
    # Into the outbox it only warns: nothing leaves the machine.
    outbox = invoke("remind", "--meeting", MEETING)
    assert outbox.exit_code == 0, outbox.output
    assert outbox.stdout.startswith(
        f"Warning: meeting '{MEETING}' started on 2022-11-09 at 10:00\n"
    )


def _outbox_messages(folder: Path) -> dict[str, bytes]:
    """The outbox's messages by recipient (the last one each got)."""
    found: dict[str, bytes] = {}
    for path in sorted((folder / "outbox" / "new").iterdir(), key=lambda p: p.stat().st_mtime_ns):
        data = path.read_bytes()
        message = parse(data)
        found[str(message["To"]).rpartition("<")[2].rstrip(">")] = data
    return found


def test_uninviting_says_the_meeting_goes_ahead(folder: Path, invoke: Invoke) -> None:
    assert invoke("send", "--meeting", MEETING).exit_code == 0
    for person in ("kari@example.org", "ellen@example.org"):  # Bokmål and English
        result = invoke("cancel", "--meeting", MEETING, "--to", person)
        assert result.exit_code == 0, result.output
    state = meeting_state(open_db(folder))
    assert state is not None
    assert not state.cancelled
    messages = _outbox_messages(folder)
    kari, ellen = parse(messages["kari@example.org"]), parse(messages["ellen@example.org"])
    assert str(kari["Subject"]) == f"Invitasjonen til {TITLE} er trukket tilbake"
    assert str(ellen["Subject"]) == f"Your invitation to {TITLE} is withdrawn"
    for message, said, never in (
        (kari, "er trukket tilbake for deg. Møtet blir holdt som planlagt", "avlyst"),
        (ellen, "has been withdrawn for you. The meeting goes ahead as planned", "cancelled"),
    ):
        text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
        body = str(text.get_content())
        assert said in " ".join(body.split())
        assert never not in body.lower()
    # RFC 5546 §3.2.5: the calendar is a CANCEL to that attendee alone.
    calendar = calendar_of(messages["kari@example.org"])
    assert prop(calendar, "METHOD") == "CANCEL"
    attendees = [line for line in calendar.splitlines() if line.startswith("ATTENDEE")]
    assert len(attendees) == 1
    assert attendees[0].endswith(":mailto:kari@example.org")

    # The meeting cancelled for everyone still says so.
    assert invoke("cancel", "--meeting", MEETING).exit_code == 0
    per = parse(_outbox_messages(folder)["per@example.org"])
    assert str(per["Subject"]).startswith(f"Avlysning av {TITLE}, ")


def test_remind_and_reinstate_ask_at_a_terminal(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        sent_everyone(invoke, env)
        child = at_a_terminal(folder, env, "remind", "--meeting", MEETING)
        child.expect(
            rf"Remind 5 people who have not answered «{TITLE}» \(through 127\.0\.0\.1\)\? "
        )
        child.sendline("y")
        status, output = finish(child)
        assert status == 0, output
        assert len(handler.messages) == 10
        assert invoke("cancel", "--meeting", MEETING, "--yes", env=env).exit_code == 0
        child = at_a_terminal(folder, env, "reinstate", "--meeting", MEETING)
        child.expect(rf"Reinstate «{TITLE}»: invite 5 people again \(through 127\.0\.0\.1\)\? ")
        child.sendline("n")
        status, output = finish(child)
        assert status == 0, output
        assert "not confirmed: nothing sent, nothing recorded" in output
        assert len(handler.messages) == 15  # the invitations, reminders and cancellations
    state = meeting_state(open_db(folder))
    assert state is not None
    assert state.cancelled  # still: the reinstatement was not confirmed


@pytest.mark.parametrize(("answer", "sent"), [("j", 5), ("ja", 5), ("nei", 0), ("", 0)])
def test_a_question_in_bokmal_takes_a_norwegian_answer(
    folder: Path, monkeypatch: pytest.MonkeyPatch, answer: str, sent: int
) -> None:
    """Staff answer "j" or "ja" (Click's own confirm knows only y/yes, and says [y/N])."""
    monkeypatch.delenv("INVITER_LANG")
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        child = at_a_terminal(folder, smtp_env(server), "send", "--meeting", MEETING)
        child.expect(
            rf"Sende invitasjonen til «{TITLE}» til 5 personer \(gjennom 127\.0\.0\.1\)\? "
            r"\[j/N\]: "
        )
        child.sendline("kanskje")  # neither: asked again
        child.expect(r"Feil: ugyldig svar\r\n.*\[j/N\]: ")
        child.sendline(answer)
        status, output = finish(child)
    assert status == 0, output
    assert len(handler.messages) == sent
