"""Retries that stop, and faults that end honestly (issue 20), through the command line.

Against aiosmtpd on loopback: a server that drops the connection after every DATA, a rerun
that names who may get a second copy (asked at a pseudo-terminal, or not asked in a script),
and a database that refuses to record while mail is leaving.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pexpect
import pytest
from sqlalchemy import select

from inviter.store.models import PENDING, SENT, UNCERTAIN, Delivery

from .conftest import Invoke
from .sending_support import (
    AUDIENCE,
    MEETING,
    at_a_terminal,
    deliveries,
    open_db,
    prepare_folder,
    smtp_env,
)
from .smtpd import RecordingHandler, SmtpServer

AILE = "aile@example.org"


@pytest.fixture
def folder(project: Path) -> Path:
    """The project folder holding the test meeting and five contacts in its audience."""
    return prepare_folder(project)


def test_a_server_that_drops_after_every_data_gets_two_copies_and_no_more(
    folder: Path, invoke: Invoke
) -> None:
    handler = RecordingHandler()
    for email in AUDIENCE:
        handler.drop_after_data(email, times=None)
    with SmtpServer(handler) as server:
        env = smtp_env(server, INVITER_SEND_RETRIES="5")
        first = invoke("send", "--meeting", MEETING, env=env)
        # Each message went out twice (the first try, and one retry of the same bytes).
        assert {e: len(handler.to(e)) for e in AUDIENCE} == dict.fromkeys(AUDIENCE, 2)
        assert first.exit_code == 1
        assert f"  uncertain: {len(AUDIENCE)} (the answer was lost" in first.stdout
        assert "(after 2 attempts); may have been delivered, not sent again" in first.stdout
        rows = deliveries(open_db(folder))
        assert {r.status for r in rows} == {UNCERTAIN}

        # A script's rerun (no terminal) names them first, then sends once more each.
        second = invoke("send", "--meeting", MEETING, env=env)
    assert second.stderr.startswith(
        f"{len(AUDIENCE)} may have this invitation already (an earlier run lost the server's "
        f"answer, or was stopped while it was on the wire): {', '.join(AUDIENCE)}\n"
        "Sending it to them again"
    )
    assert {e: len(handler.to(e)) for e in AUDIENCE} == dict.fromkeys(AUDIENCE, 4)
    assert len({m.message_id for m in handler.to(AILE)}) == 1  # the same message every time


@pytest.mark.parametrize(("answer", "resent"), [("n", 0), ("y", 1)])
def test_at_a_terminal_a_resend_is_asked_first(folder: Path, answer: str, resent: int) -> None:
    handler = RecordingHandler()
    handler.drop_after_data(AILE, times=2)  # uncertain after the first run, then answered
    with SmtpServer(handler) as server:
        env = smtp_env(server)
        first = at_a_terminal(folder, env, "send", "--meeting", MEETING)
        first.expect(
            r"Send the invitation to «.+» to 5 people \(through 127\.0\.0\.1\)\? \[y/N\]: "
        )
        first.sendline("y")
        first.expect(pexpect.EOF)
        first.close()
        assert first.exitstatus == 1
        assert len(handler.to(AILE)) == 2

        rerun = at_a_terminal(folder, env, "send", "--meeting", MEETING)
        rerun.expect(f"1 may have this invitation already .*: {AILE}")
        rerun.expect(r"Send it to them again\? \[y/N\]: ")
        rerun.sendline(answer)
        if resent:  # then the run itself is confirmed, for the one it now sends to
            rerun.expect(r"to 1 person \(through 127\.0\.0\.1\)\? \[y/N\]: ")
            rerun.sendline("y")
        rerun.expect(pexpect.EOF)
        output = rerun.before
        rerun.close()
    assert rerun.exitstatus == 0, output
    assert len(handler.to(AILE)) == 2 + resent
    row = next(r for r in deliveries(open_db(folder)) if r.email == AILE)
    if resent:
        assert row.status == SENT
    else:
        assert row.status == UNCERTAIN
        assert "may have it already, not sent again: 1" in output
        assert f"--meeting {MEETING} --yes sends it to them" in output


def test_yes_answers_for_a_script(folder: Path, invoke: Invoke) -> None:
    handler = RecordingHandler()
    handler.drop_after_data(AILE, times=2)
    with SmtpServer(handler) as server:
        assert invoke("send", "--meeting", MEETING, env=smtp_env(server)).exit_code == 1
        rerun = invoke("send", "--meeting", MEETING, "--yes", env=smtp_env(server))
    assert rerun.exit_code == 0, rerun.output
    assert len(handler.to(AILE)) == 3


def test_a_database_that_refuses_to_record_mid_send_is_exit_1_naming_who(
    folder: Path, invoke: Invoke
) -> None:
    # After two outcomes are recorded, the database refuses (a real SQLite refusal, as a full
    # disk or a lock held past the timeout gives): mail has left, so this is not "nothing sent".
    db = open_db(folder)
    db.close()
    raw = sqlite3.connect(folder / "inviter.db")
    raw.execute(
        "CREATE TRIGGER full BEFORE UPDATE OF status ON deliveries WHEN NEW.status = 'sent' "
        "AND (SELECT count(*) FROM deliveries WHERE status = 'sent') >= 2 "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    raw.commit()
    raw.close()
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        result = invoke(
            "send", "--meeting", MEETING, env=smtp_env(server, INVITER_SEND_CONCURRENCY="1")
        )
    assert result.exit_code == 1, result.output
    arrived = sorted({r for m in handler.messages for r in m.recipients})
    assert len(arrived) >= 3
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("Error: ")
    assert "database or disk is full" in lines[-1]
    assert "some messages had already left" in lines[-1]
    unrecorded = [
        e
        for e in arrived
        if e not in {r.email for r in deliveries(open_db(folder)) if r.status == SENT}
    ]
    for email in unrecorded:
        assert email in result.stderr


def test_a_username_for_a_server_that_offers_no_login_says_so(folder: Path, invoke: Invoke) -> None:
    # aiosmtplib's own words advise STARTTLS; the server simply offers no AUTH at all.
    handler = RecordingHandler()
    with SmtpServer(handler, offer_auth=False) as server:
        env = smtp_env(server, INVITER_SMTP_USERNAME="ola", INVITER_SMTP_PASSWORD="pw")
        result = invoke("send", "--meeting", MEETING, env=env)
    assert result.exit_code == 3, result.output
    assert result.stderr == (
        f"Error: 127.0.0.1:{server.port}: the server offers no login (no AUTH in its EHLO "
        "answer), so 'ola' cannot log in; remove [smtp] username for a server that needs none, "
        'or use security = "starttls" or "tls" if it offers AUTH only over TLS\n'
    )
    assert handler.messages == []


def test_after_a_kill_the_resumed_run_names_who_may_get_two_copies(
    folder: Path, invoke: Invoke
) -> None:
    # The rows a run killed mid-send leaves: pending, one tried (its attempt recorded), the
    # rest untried. Messages go out in row order, so with 2 connections only the tried one and
    # the first 2 untried can have been on the wire; the others are sent for the first time.
    assert invoke("send", "--meeting", MEETING).exit_code == 0  # rows, then made "killed"
    db = open_db(folder)
    with db.session() as session:
        rows = session.scalars(select(Delivery).order_by(Delivery.id)).all()
        for row in rows:
            row.status, row.attempts = PENDING, 0
        rows[3].attempts = 1
    db.close()
    result = invoke("send", "--meeting", MEETING, env={"INVITER_SEND_CONCURRENCY": "2"})
    assert result.exit_code == 0, result.output
    named = sorted([rows[0].email, rows[1].email, rows[3].email])
    assert result.stderr.startswith(
        f"3 may have this invitation already (an earlier run lost the server's answer, or was "
        f"stopped while it was on the wire): {', '.join(named)}\n"
    )
