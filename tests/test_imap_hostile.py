"""`rsvp fetch` against the real Dovecot when a message is hostile or the mailbox moves under it.

A line relay (tests/imap_proxy.py) stands between inviter and Dovecot where a test needs a
second session acting at a precise moment, or a server answering what Dovecot never would.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Invoke
from tests.dovecot import Dovecot
from tests.imap_proxy import BadAnswer, ImapProxy, junk_uidvalidity
from tests.replies_helpers import prepare, sample
from tests.test_imap import NEWSLETTER, PASSWORD_ENV, configure, mailbox_state
from tests.test_replies_hostile import nested_messages

PERSONAL = (
    b"From: kollega@example.org\r\nTo: bibliotek@example.org\r\nSubject: Lunsj?\r\n"
    b"Message-ID: <personal-1@example.org>\r\n\r\nSkal vi ta lunsj?\r\n"
)


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("Warning: ")]


def test_a_bad_message_is_listed_once_and_the_next_fetch_goes_past_it(
    project: Path, invoke: Invoke, dovecot: Dovecot
) -> None:
    prepare(project)
    configure(project, dovecot)
    dovecot.deliver([nested_messages(985), sample("gmail-accepted.eml")])
    first = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    assert first.exit_code == 1
    assert first.stdout == "Read 2 messages: 1 answer recorded.\n"
    assert "nested MIME parts (more than 100): not a reply" in first.stderr
    assert "Traceback" not in first.stderr
    second = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    assert (second.exit_code, second.stdout) == (0, "Read 0 messages: 0 answers recorded.\n")


def test_a_message_deleted_between_search_and_fetch_moves_nothing_else(
    project: Path, invoke: Invoke, dovecot: Dovecot
) -> None:
    # UID 1 vanishes after SEARCH listed it (staff deleting it in Outlook at that moment);
    # paired by position, the personal mail (UID 2) was moved and the reply (UID 3) stayed.
    prepare(project)
    dovecot.deliver([NEWSLETTER, PERSONAL, sample("thunderbird-tentative.eml")])
    deleted: list[bytes] = []

    def delete_the_first(line: bytes) -> None:
        if b"UID FETCH" in line.upper() and not deleted:
            deleted.append(line)
            other = dovecot.client()
            other.select("INBOX")
            other.uid("STORE", "1", "+FLAGS.SILENT", r"(\Deleted)")
            other.expunge()
            other.logout()

    proxy = ImapProxy(dovecot.port, before_command=delete_the_first)
    try:
        configure(project, dovecot, port=proxy.port, move_to="Behandlet")
        result = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    finally:
        proxy.stop()
    assert deleted, "the fetch never reached FETCH"
    assert (result.exit_code, errors(result.stderr)) == (0, [])
    assert result.stdout == "Read 2 messages: 1 answer recorded, 1 moved.\n"
    assert mailbox_state(dovecot) == [("<personal-1@example.org>", False)]
    assert mailbox_state(dovecot, "Behandlet") == [
        ("<7d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6@tromsfylke.example.org>", False)
    ]


def test_a_bad_answer_is_a_connection_failure_in_one_line(
    project: Path, invoke: Invoke, dovecot: Dovecot
) -> None:
    prepare(project)
    dovecot.deliver([sample("gmail-accepted.eml")])
    bad = BadAnswer(b"UID SEARCH")
    proxy = ImapProxy(dovecot.port, before_command=bad.remember, rewrite=bad.rewrite)
    try:
        configure(project, dovecot, port=proxy.port)
        result = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    finally:
        proxy.stop()
    assert result.exit_code == 3
    assert errors(result.stderr) == [
        f"Error: 127.0.0.1:{proxy.port}: the server refused: "
        "UID command error: BAD [b'Error in IMAP command: unexpected argument']"
    ]


def test_a_junk_uidvalidity_is_a_connection_failure_in_one_line(
    project: Path, invoke: Invoke, dovecot: Dovecot
) -> None:
    prepare(project)
    dovecot.deliver([sample("gmail-accepted.eml")])
    proxy = ImapProxy(dovecot.port, rewrite=junk_uidvalidity)
    try:
        configure(project, dovecot, port=proxy.port)
        result = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    finally:
        proxy.stop()
    assert result.exit_code == 3
    assert errors(result.stderr) == [
        "Error: IMAP server sent UIDVALIDITY '99999999999999999999x', not a number"
    ]
