"""send, cancel and remind through the command line, against a real SMTP server and the outbox."""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from inviter.compose.message import build_message
from inviter.compose.templates import Templates
from inviter.deliver.credentials import Credentials
from inviter.deliver.jobs import Job
from inviter.deliver.mailer import Mailer
from inviter.deliver.outbox import OutboxTransport
from inviter.deliver.smtp import SmtpTransport
from inviter.domain import Meeting, Recipient
from inviter.store.models import CANCEL, FAILED, PENDING, REMINDER, REQUEST, SENT, Delivery, Reply

from .conftest import Invoke
from .sending_support import (
    AUDIENCE,
    MEETING,
    add_contacts,
    calendar_of,
    deliveries,
    meeting_state,
    open_db,
    parse,
    prepare_folder,
    prop,
    settings_for,
    smtp_env,
    write_config,
)
from .smtpd import Certificates, RecordingHandler, SmtpServer


@pytest.fixture
def folder(project: Path) -> Path:
    """The project folder holding the test meeting and six contacts (five in the audience)."""
    return prepare_folder(project)


def test_outbox_send_then_nothing_the_second_time(folder: Path, invoke: Invoke) -> None:
    result = invoke("send", "--meeting", MEETING)
    outbox = folder / "outbox" / "new"
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == (
            "".join(f"sent: {e}\n" for e in AUDIENCE)  # the outbox is one writer, in order
            + f"{MEETING}: invitation, version 1, through the outbox\n"
            "  sent: 5\n"
            f"Nothing left this machine: the messages are files in {outbox} "
            '(transport = "outbox"); set transport = "smtp" in [send] to send them for real.\n'
        )
    )
    files = sorted(outbox.iterdir())
    assert len(files) == 5
    assert sorted(parse(f.read_bytes())["To"].addresses[0].addr_spec for f in files) == AUDIENCE
    rows = deliveries(open_db(folder))
    assert {(r.email, r.status, r.transport, r.kind) for r in rows} == {
        (e, SENT, "outbox", REQUEST) for e in AUDIENCE
    }
    assert sorted(parse(f.read_bytes())["Message-ID"] for f in files) == sorted(
        r.message_id for r in rows
    )

    again = invoke("send", "--meeting", MEETING)
    assert again.exit_code == 0
    assert again.stdout == (
        f"{MEETING}: invitation, version 1, through the outbox\n"
        "  nothing to send: everyone in the audience has the current version\n"
        "  already had it: 5\n"
    )
    assert len(list(outbox.iterdir())) == 5


def test_outbox_summary_is_exact(folder: Path, invoke: Invoke) -> None:
    result = invoke("send", "--meeting", MEETING, "--to", "Kari@Example.org")
    outbox = folder / "outbox" / "new"
    assert result.exit_code == 0
    assert result.stdout == (
        "sent: kari@example.org\n"
        f"{MEETING}: invitation, version 1, through the outbox\n"
        "  sent: 1\n"
        f"Nothing left this machine: the message is a file in {outbox} "
        '(transport = "outbox"); set transport = "smtp" in [send] to send it for real.\n'
    )


def test_outbox_then_smtp_sends_for_real(folder: Path, invoke: Invoke) -> None:
    assert invoke("send", "--meeting", MEETING).exit_code == 0
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        result = invoke("send", "--meeting", MEETING, env=smtp_env(server))
    assert result.exit_code == 0, result.output
    assert sorted(m.recipients[0] for m in handler.messages) == AUDIENCE
    assert "  sent: 5\n" in result.stdout
    assert "Nothing left this machine" not in result.stdout


def test_outbox_is_byte_identical_to_what_smtp_receives(folder: Path) -> None:
    settings = settings_for(folder)
    meeting: Meeting = settings.meeting(MEETING)
    templates = Templates(settings.templates_dir)
    recipient = Recipient(email="aile@example.org", name="Áile Ŋuolja")
    now = datetime(2022, 10, 1, 8, 30, tzinfo=UTC)

    def job() -> Job:
        return Job(
            1,
            recipient.email,
            "<fixed@example.org>",
            lambda: build_message(
                meeting,
                settings.organizer,
                recipient,
                kind="request",
                uid="uid-1@example.org",
                sequence=0,
                now=now,
                message_id="<fixed@example.org>",
                templates=templates,
            ),
        )

    async def through(transport: OutboxTransport | SmtpTransport) -> None:
        async with Mailer(
            transport,
            sender=settings.organizer.email,
            concurrency=1,
            rate_per_minute=0,
            retries=0,
            retry_delay=0,
            on_outcome=lambda o: None,
        ) as mailer:
            await mailer.deliver([job()])

    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        smtp = settings_for(folder, smtp_env(server)).smtp
        asyncio.run(through(SmtpTransport(smtp, Credentials())))
    asyncio.run(through(OutboxTransport(folder / "box")))
    [file] = (folder / "box" / "new").iterdir()
    assert file.read_bytes() == handler.messages[0].data
    assert handler.messages[0].data.isascii()


def test_smtp_send_one_message_per_recipient(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        result = invoke("send", "--meeting", MEETING, env=smtp_env(server))
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(
        f"{MEETING}: invitation, version 1, through SMTP 127.0.0.1:{server.port} (none)\n"
        "  sent: 5\n"
    )
    assert sorted(m.recipients for m in handler.messages) == [(e,) for e in AUDIENCE]
    rows = {r.email: r for r in deliveries(open_db(folder))}
    state = meeting_state(open_db(folder))
    assert state is not None
    for received in handler.messages:
        address = received.recipients[0]
        message = parse(received.data)
        assert [a.addr_spec for a in message["To"].addresses] == [address]
        assert received.mail_from == "bibliotek@example.org"
        assert message["Message-ID"] == rows[address].message_id == received.message_id
        assert rows[address].status == SENT
        assert rows[address].code == 250
        calendar = calendar_of(received.data)
        assert prop(calendar, "UID") == state.uid
        assert prop(calendar, "SEQUENCE") == "0"
        assert prop(calendar, "METHOD") == "REQUEST"


def test_dry_run_connects_nowhere_and_records_nothing(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler(users={"ola": "pw"})
    with SmtpServer(handler, auth=True) as server:
        env = smtp_env(server, INVITER_SMTP_USERNAME="ola")  # and no password: none asked
        result = invoke("send", "--meeting", MEETING, "--dry-run", env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{MEETING}: invitation, version 1, through SMTP 127.0.0.1:{server.port} (none)\n"
        "  dry run: 5 messages rendered; nothing sent, nothing recorded, no connection made\n"
        + "".join(f"    {e}\n" for e in AUDIENCE)
    )
    assert handler.connections_seen == 0
    db = open_db(folder)
    assert deliveries(db) == []
    assert meeting_state(db) is None


def test_to_restricts_and_unknown_addresses_are_errors(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        stranger = invoke("send", "--meeting", MEETING, "--to", "nobody@example.org", env=env)
        outsider = invoke("send", "--meeting", MEETING, "--to", "ola@example.org", env=env)
        bad = invoke("send", "--meeting", MEETING, "--to", "not an address", env=env)
        assert handler.connections_seen == 0
        some = invoke(
            "send", "--meeting", MEETING, "--to", "per@example.org", "--to", "aile@example.org",
            env=env,
        )  # fmt: skip
    assert (stranger.exit_code, stranger.stderr) == (
        2,
        "Error: --to nobody@example.org: not a contact; nothing was sent\n",
    )
    assert (outsider.exit_code, outsider.stderr) == (
        2,
        f"Error: --to ola@example.org: not in the audience of meeting '{MEETING}'; "
        "nothing was sent\n",
    )
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Error: --to not an address: ")
    assert some.exit_code == 0
    assert sorted(m.recipients[0] for m in handler.messages) == [
        "aile@example.org",
        "per@example.org",
    ]


def test_permanent_failure_is_listed_and_not_repeated(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    handler.refuse("per@example.org", "550 5.1.1 <per@example.org>: Recipient address rejected")
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        first = invoke("send", "--meeting", MEETING, env=env)
        second = invoke("send", "--meeting", MEETING, env=env)
        handler.refuse("per@example.org", "451 4.7.1 Try later", times=0)
        third = invoke("send", "--meeting", MEETING, "--to", "per@example.org", env=env)
    assert first.exit_code == 1
    assert first.stdout.endswith(
        "  sent: 4\n"
        "  failed: 1\n"
        "    per@example.org: 550 5.1.1 <per@example.org>: Recipient address rejected\n"
    )
    assert first.stderr == "Error: 1 recipient not reached for sure; see the list above\n"
    assert handler.commands.count("RCPT per@example.org") == 2  # once per run asked for it
    assert second.exit_code == 0
    assert second.stdout == (
        f"{MEETING}: invitation, version 1, through SMTP 127.0.0.1:{server.port} (none)\n"
        "  nothing to send: everyone in the audience has the current version\n"
        "  already had it: 4\n"
        f"  refused earlier, not tried again: 1 (inviter send --meeting {MEETING} --to EMAIL "
        "tries again)\n"
        "    per@example.org: 550 5.1.1 <per@example.org>: Recipient address rejected\n"
    )
    assert third.exit_code == 0
    assert len(handler.to("per@example.org")) == 1
    row = next(r for r in deliveries(open_db(folder)) if r.email == "per@example.org")
    assert (row.status, row.attempts, row.code) == (SENT, 2, 250)


def test_temporary_failure_retried_within_the_run(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    handler.refuse("kari@example.org", "451 4.7.1 Greylisted", times=2)
    with SmtpServer(handler) as server:
        result = invoke("send", "--meeting", MEETING, env=smtp_env(server))
    assert result.exit_code == 0, result.output
    row = next(r for r in deliveries(open_db(folder)) if r.email == "kari@example.org")
    assert (row.status, row.attempts) == (SENT, 3)


def test_temporary_failures_past_the_retries_are_sent_by_the_next_run(
    folder: Path, invoke: Invoke
) -> None:
    handler = RecordingHandler()
    handler.refuse("kari@example.org", "451 4.7.1 Greylisted", times=3)
    with SmtpServer(handler) as server:
        first = invoke("send", "--meeting", MEETING, env=smtp_env(server))
        row = next(r for r in deliveries(open_db(folder)) if r.email == "kari@example.org")
        second = invoke("send", "--meeting", MEETING, env=smtp_env(server))
    assert first.exit_code == 1
    assert "    kari@example.org: 451 4.7.1 Greylisted (after 3 attempts)\n" in first.stdout
    assert (row.status, row.code) == (FAILED, 451)
    assert second.exit_code == 0
    assert "  sent: 1\n" in second.stdout
    [received] = handler.to("kari@example.org")
    assert received.message_id == row.message_id  # the same row, the same Message-ID


def test_drop_after_data_gives_a_flagged_duplicate(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    handler.drop_after_data("aile@example.org", times=1)
    with SmtpServer(handler) as server:
        result = invoke("send", "--meeting", MEETING, env=smtp_env(server))
    assert result.exit_code == 0, result.output
    assert (
        "  possible duplicates: 1 (same Message-ID and calendar UID: the calendar entry is "
        "updated, not doubled)\n    aile@example.org\n"
    ) in result.stdout
    copies = handler.to("aile@example.org")
    assert len(copies) == 2
    assert copies[0].message_id == copies[1].message_id
    row = next(r for r in deliveries(open_db(folder)) if r.email == "aile@example.org")
    assert row.status == SENT
    assert row.response.endswith(
        "(possible duplicate: an earlier attempt's answer was lost after the data)"
    )


def test_uncertain_is_reported_and_sent_again_next_run(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    handler.drop_after_data("aile@example.org", times=3)
    with SmtpServer(handler) as server:
        first = invoke("send", "--meeting", MEETING, env=smtp_env(server))
        assert len(handler.to("aile@example.org")) == 2  # one retry after an uncertain drop
        second = invoke("send", "--meeting", MEETING, env=smtp_env(server))
    assert first.exit_code == 1
    assert (
        "  uncertain: 1 (the answer was lost after the message went out, so it may have been "
        "delivered; not sent again: the next send names them and, at a terminal, asks before "
        "sending again, with the same Message-ID)\n"
        "    aile@example.org: the server closed the connection during DATA (after 2 attempts); "
        "may have been delivered, not sent again\n"
    ) in first.stdout
    assert second.exit_code == 0
    assert "1 may have this invitation already" in second.stderr  # named before sending
    copies = handler.to("aile@example.org")
    assert len(copies) == 4
    assert len({c.message_id for c in copies}) == 1


def test_wrong_password_exit_3_nothing_recorded(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler(users={"ola": "riktig"})
    with SmtpServer(handler, auth=True) as server:
        env = smtp_env(server, INVITER_SMTP_USERNAME="ola", INVITER_SMTP_PASSWORD="Feil-Ord-42")
        result = invoke("send", "--meeting", MEETING, env=env)
    assert result.exit_code == 3
    assert result.stderr == (
        f"Error: 127.0.0.1:{server.port}: the server refused the login for 'ola': 535 5.7.8 "
        "Authentication credentials invalid; check the username and INVITER_SMTP_PASSWORD "
        "(or the OAuth token)\n"
    )
    assert "Feil-Ord-42" not in result.output
    assert handler.messages == []
    db = open_db(folder)
    assert deliveries(db) == []
    assert meeting_state(db) is None


def test_unreadable_ca_file_exit_2_before_connecting(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        missing = folder / "no-such-ca.pem"
        env = smtp_env(server, INVITER_SMTP_SECURITY="starttls", INVITER_SMTP_CA_FILE=str(missing))
        result = invoke("send", "--meeting", MEETING, env=env)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: [smtp] ca_file: '{missing}' cannot be used: ")
    assert result.stderr.count("\n") == 1
    assert handler.commands == []
    assert handler.connections_seen == 0
    db = open_db(folder)
    assert deliveries(db) == []
    assert meeting_state(db) is None


def test_unreachable_server_exit_3(folder: Path, invoke: Invoke) -> None:
    server = SmtpServer(RecordingHandler())  # never started
    result = invoke("send", "--meeting", MEETING, env=smtp_env(server))
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: 127.0.0.1:{server.port}: cannot connect: ")
    assert deliveries(open_db(folder)) == []


def test_username_without_password_or_terminal_is_exit_2(folder: Path, invoke: Invoke) -> None:
    server = SmtpServer(RecordingHandler())
    result = invoke("send", "--meeting", MEETING, env=smtp_env(server, INVITER_SMTP_USERNAME="ola"))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: [smtp] username is 'ola' but no password is available: set "
        "INVITER_SMTP_PASSWORD (there is no terminal to ask on)\n"
    )


def test_password_never_in_output_logs_or_database(
    folder: Path, invoke: Invoke, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Hemmelig-Passord-7391"
    certificates = Certificates(tmp_path)
    handler = RecordingHandler(users={"ola@example.org": secret})
    caplog.set_level(logging.DEBUG)
    with SmtpServer(handler, tls="starttls", certificates=certificates, auth=True) as server:
        env = smtp_env(
            server,
            INVITER_SMTP_SECURITY="starttls",
            INVITER_SMTP_CA_FILE=str(certificates.ca_file),
            INVITER_SMTP_USERNAME="ola@example.org",
            INVITER_SMTP_PASSWORD=secret,
        )
        result = invoke("send", "--meeting", MEETING, env=env)
    assert result.exit_code == 0, result.output
    assert len(handler.messages) == 5
    assert len(handler.logins) == len({m.connection for m in handler.messages})
    plain = base64.b64encode(f"\0ola@example.org\0{secret}".encode()).decode()
    forms = [secret, plain, base64.b64encode(secret.encode()).decode()]
    stored = b"".join(p.read_bytes() for p in folder.glob("inviter.db*"))
    for form in forms:
        assert form not in result.output
        assert form not in caplog.text
        assert form.encode() not in stored


def test_changed_place_sends_an_update_with_a_higher_sequence(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        assert (
            invoke("send", "--meeting", MEETING, "--to", "kari@example.org", env=env).exit_code == 0
        )
        write_config(folder, location="Tromsø bibliotek, Grønnegata 94")
        result = invoke("send", "--meeting", MEETING, env=env)
    assert result.exit_code == 0, result.output
    assert f"{MEETING}: invitation, version 2, through SMTP" in result.stdout
    assert "  sent: 5\n" in result.stdout
    updates = [m for m in handler.messages if prop(calendar_of(m.data), "SEQUENCE") == "1"]
    assert sorted(m.recipients[0] for m in updates) == AUDIENCE
    assert {prop(calendar_of(m.data), "LOCATION") for m in updates} == {
        "Tromsø bibliotek\\, Grønnegata 94"
    }
    uids = {prop(calendar_of(m.data), "UID") for m in handler.messages}
    assert len(uids) == 1
    state = meeting_state(open_db(folder))
    assert state is not None
    assert state.sequence == 1


def test_left_the_audience_is_listed_and_cancel_to_uninvites(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        assert invoke("send", "--meeting", MEETING, env=env).exit_code == 0
        write_config(folder, exclude=("per@example.org",))
        listed = invoke("send", "--meeting", MEETING, env=env)
        cancelled = invoke(
            "cancel", "--meeting", MEETING, "--to", "per@example.org", "--yes", env=env
        )
        after = invoke("send", "--meeting", MEETING, env=env)
    assert listed.exit_code == 0
    assert listed.stdout.endswith(
        "  already had it: 4\n"
        f"  left the audience since invited, not sent: 1 (inviter cancel --meeting {MEETING} "
        "--to EMAIL uninvites them)\n"
        "    per@example.org\n"
    )
    assert cancelled.exit_code == 0, cancelled.output
    assert cancelled.stdout.endswith(
        f"{MEETING}: cancellation, version 2, through SMTP 127.0.0.1:{server.port} (none)\n"
        "  sent: 1\n"
    )
    [cancel] = [m for m in handler.to("per@example.org") if "CANCEL" in calendar_of(m.data)]
    calendar = calendar_of(cancel.data)
    assert prop(calendar, "METHOD") == "CANCEL"
    assert prop(calendar, "SEQUENCE") == "1"
    assert prop(calendar, "STATUS") == "CANCELLED"
    state = meeting_state(open_db(folder))
    assert state is not None
    assert not state.cancelled  # only one person was uninvited
    assert "left the audience" not in after.stdout
    assert len(handler.messages) == 6


def test_cancel_everyone_then_send_is_refused(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        assert invoke("send", "--meeting", MEETING, env=env).exit_code == 0
        uid = prop(calendar_of(handler.messages[0].data), "UID")
        result = invoke("cancel", "--meeting", MEETING, "--yes", env=env)
        again = invoke("cancel", "--meeting", MEETING, "--yes", env=env)
        send = invoke("send", "--meeting", MEETING, env=env)
    assert result.exit_code == 0, result.output
    cancels = handler.messages[5:]
    assert sorted(m.recipients[0] for m in cancels) == AUDIENCE
    for message in cancels:
        calendar = calendar_of(message.data)
        assert (prop(calendar, "METHOD"), prop(calendar, "UID")) == ("CANCEL", uid)
        assert prop(calendar, "SEQUENCE") == "1"
    state = meeting_state(open_db(folder))
    assert state is not None
    assert state.cancelled
    assert again.exit_code == 0
    assert "  nothing to send: nobody holds the invitation\n" in again.stdout
    assert (send.exit_code, send.stderr) == (
        2,
        f"Error: meeting '{MEETING}' was cancelled (inviter cancel); nothing was sent; "
        f"inviter reinstate --meeting {MEETING} takes the cancellation back\n",
    )
    assert len(handler.messages) == 10
    kinds = sorted((r.kind, r.sequence) for r in deliveries(open_db(folder)))
    assert kinds == [(CANCEL, 1)] * 5 + [(REQUEST, 0)] * 5


def test_cancel_to_someone_never_invited(folder: Path, invoke: Invoke) -> None:
    assert invoke("send", "--meeting", MEETING, "--to", "kari@example.org").exit_code == 0
    result = invoke("cancel", "--meeting", MEETING, "--to", "per@example.org")
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: --to per@example.org: was never sent the invitation to '{MEETING}'; "
        "nothing was sent\n",
    )


def test_remind_those_who_have_not_answered(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        assert invoke("send", "--meeting", MEETING, env=env).exit_code == 0
        db = open_db(folder)
        state = meeting_state(db)
        assert state is not None
        with db.session() as session:
            for address, partstat in [
                ("kari@example.org", "ACCEPTED"),
                ("per@example.org", "DECLINED"),
                ("aile@example.org", "NEEDS-ACTION"),
            ]:
                session.add(
                    Reply(
                        meeting_id=state.id,
                        email=address,
                        partstat=partstat,
                        sequence=0,
                        dtstamp=datetime(2022, 10, 2, tzinfo=UTC),
                    )
                )
        first = invoke("remind", "--meeting", MEETING, "--yes", env=env)
        # The same command again by a slip (issue 16): refused within 24 hours, nothing sent.
        again = invoke("remind", "--meeting", MEETING, "--yes", env=env)
        assert len(handler.messages) == 5 + 3
        second = invoke("remind", "--meeting", MEETING, "--force", "--yes", env=env)
    assert first.exit_code == 0, first.output
    assert again.exit_code == 2
    assert again.stderr == (
        f"Error: meeting '{MEETING}': a reminder round went out 0 h 0 min ago; another within "
        "24 hours needs --force; nothing was sent\n"
    )
    assert second.exit_code == 0, second.output
    assert first.stdout.endswith(
        f"{MEETING}: reminder, version 1, through SMTP 127.0.0.1:{server.port} (none)\n"
        "  sent: 3\n"
        "  already answered: 2\n"
    )
    reminders = handler.messages[5:]
    silent = ["aile@example.org", "ellen@example.org", "oystein@example.org"]
    assert sorted(m.recipients[0] for m in reminders[:3]) == silent
    assert sorted(m.recipients[0] for m in reminders[3:]) == silent
    for message in reminders:
        calendar = calendar_of(message.data)
        assert (prop(calendar, "METHOD"), prop(calendar, "UID")) == ("REQUEST", state.uid)
        assert prop(calendar, "SEQUENCE") == "0"
    rows = [r for r in deliveries(open_db(folder)) if r.kind == REMINDER]
    assert len(rows) == 6
    assert len({r.batch for r in rows}) == 2  # a new round each time
    assert len({r.message_id for r in rows}) == 6
    assert second.exit_code == 0


def test_remind_before_send_and_after_a_change(folder: Path, invoke: Invoke) -> None:
    early = invoke("remind", "--meeting", MEETING)
    assert (early.exit_code, early.stderr) == (
        2,
        f"Error: meeting '{MEETING}': nothing was sent yet; run inviter send --meeting "
        f"{MEETING} first\n",
    )
    assert invoke("send", "--meeting", MEETING).exit_code == 0
    write_config(folder, location="Harstad")
    changed = invoke("remind", "--meeting", MEETING)
    assert changed.exit_code == 2
    assert changed.stderr == (
        f"Error: meeting '{MEETING}': its time, place, link or title changed in inviter.toml "
        f"since the invitation went out; run inviter send --meeting {MEETING} first, so the "
        "reminder carries the current version\n"
    )


def test_template_error_stops_before_anything_is_sent(folder: Path, invoke: Invoke) -> None:
    subject = next((folder / "templates" / "temamote" / "nb").glob("subject*"))
    subject.write_text("{{ meeting.no_such_thing }}\n", encoding="utf-8")
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        result = invoke("send", "--meeting", MEETING, env=smtp_env(server))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert "no_such_thing" in result.stderr
    assert handler.connections_seen == 0
    assert deliveries(open_db(folder)) == []


def test_hostile_name_cannot_add_a_header_or_a_recipient(folder: Path, invoke: Invoke) -> None:
    # Stored directly, past the importer's checks, to prove the message builder holds too.
    db = open_db(folder)
    add_contacts(
        db,
        [
            (
                "eve@example.org",
                "Eve\r\nBcc: victim@example.org, <b>bold</b> =?UTF-8?Q?=0A?=X: y",
                "biblioteksjef",
                "Tromsø",
                "Tromsø og omegn",
                "nb",
            )
        ],
    )
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        result = invoke(
            "send", "--meeting", MEETING, "--to", "eve@example.org", env=smtp_env(server)
        )
    assert result.exit_code == 0, result.output
    [received] = handler.messages
    assert received.recipients == ("eve@example.org",)
    message = parse(received.data)
    assert message["Bcc"] is None
    assert message["X"] is None
    assert [a.addr_spec for a in message["To"].addresses] == ["eve@example.org"]


def test_pending_rows_from_a_crash_are_sent_with_their_message_id(
    folder: Path, invoke: Invoke
) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        assert (
            invoke("send", "--meeting", MEETING, "--to", "kari@example.org", env=env).exit_code == 0
        )
        db = open_db(folder)
        with db.session() as session:
            # What a kill -9 after the pending rows were written leaves behind.
            row = session.scalar(select(Delivery).where(Delivery.email == "kari@example.org"))
            assert row is not None
            row.status = PENDING
            kept = row.message_id
        result = invoke("send", "--meeting", MEETING, env=env)
    assert result.exit_code == 0
    copies = handler.to("kari@example.org")
    assert [c.message_id for c in copies] == [kept, kept]


def test_progress_lines_without_a_terminal(folder: Path, invoke: Invoke) -> None:
    result = invoke("send", "--meeting", MEETING)
    lines = result.stdout.splitlines()
    assert sorted(lines[:5]) == [f"sent: {e}" for e in AUDIENCE]


def test_xoauth2_login_from_the_environment(folder: Path, invoke: Invoke, tmp_path: Path) -> None:
    certificates = Certificates(tmp_path)
    handler = RecordingHandler(tokens={"bibliotek@example.org": "ya29.a0-token"})
    with SmtpServer(handler, tls="tls", certificates=certificates, auth=True) as server:
        env = smtp_env(
            server,
            INVITER_SMTP_SECURITY="tls",
            INVITER_SMTP_CA_FILE=str(certificates.ca_file),
            INVITER_SMTP_AUTH="xoauth2",
            INVITER_SMTP_USERNAME="bibliotek@example.org",
            INVITER_SMTP_OAUTH_TOKEN="ya29.a0-token",
        )
        result = invoke("send", "--meeting", MEETING, "--concurrency", "2", env=env)
    assert result.exit_code == 0, result.output
    assert len(handler.messages) == 5
    assert {login[1] for login in handler.logins} == {"XOAUTH2"}
    assert len(handler.logins) == len({m.connection for m in handler.messages}) <= 2
    assert "ya29" not in result.output


def test_concurrency_and_rate_options_are_checked(folder: Path, invoke: Invoke) -> None:
    zero = invoke("send", "--meeting", MEETING, "--concurrency", "0")
    assert zero.exit_code == 2
    assert "Invalid value for '--concurrency': 0 is not in the range x>=1." in zero.stderr
    negative = invoke("send", "--meeting", MEETING, "--rate", "-1")
    assert negative.exit_code == 2
    one = invoke("send", "--meeting", MEETING, "--concurrency", "1", "--rate", "600")
    assert one.exit_code == 0
    assert "  sent: 5\n" in one.stdout
