"""`rsvp fetch` against a real Dovecot on loopback: records, leaves the mailbox, moves."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from inviter.config import load_settings
from inviter.replies.imap import _move, _xoauth2, connect, encode_mailbox
from inviter.store.database import Database
from tests.conftest import Invoke, require_tool
from tests.dovecot import PASSWORD, USER, Dovecot, find_dovecot
from tests.replies_helpers import prepare, sample

NEWSLETTER = (
    b"From: nyheter@example.net\r\nTo: bibliotek@example.org\r\nSubject: Nyhetsbrev oktober\r\n"
    b"Message-ID: <news-1@example.net>\r\n\r\nIkke et svar.\r\n"
)


def configure(project: Path, server: Dovecot, **imap: str | int) -> None:
    values = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "username": USER,
        **imap,
    }
    lines = "\n".join(
        f"{k} = {v}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in values.items()
    )
    with (project / "inviter.toml").open("a", encoding="utf-8") as config:
        config.write(f"\n[imap]\n{lines}\n")


def mailbox_state(server: Dovecot, folder: str = "INBOX") -> list[tuple[str, bool]]:
    """Return (Message-ID, seen) of every message in a folder, read independently."""
    client = server.client()
    try:
        client.select(encode_mailbox(folder), readonly=True)
        _typ, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        state = []
        for entry in data:
            if isinstance(entry, tuple):
                seen = b"\\Seen" in entry[0]
                found = re.search(rb"<[^>]+>", entry[1])
                state.append((found.group().decode() if found else "", seen))
        return sorted(state)
    finally:
        client.logout()


PASSWORD_ENV = {"INVITER_IMAP_PASSWORD": PASSWORD}
WARNING = (
    "Warning: 127.0.0.1:{port}: security = none: the login and the replies cross the network "
    "unencrypted"
)


def test_fetch_records_new_replies_and_leaves_the_mailbox_as_it_was(
    project: Path, invoke: Invoke, dovecot: Dovecot
) -> None:
    prepare(project)
    configure(project, dovecot)
    messages = [
        sample("outlook-accepted.eml"),
        sample("gmail-accepted.eml"),
        sample("plain-accepted.eml"),
        sample("unknown-uid.eml"),
        NEWSLETTER,
    ]
    dovecot.deliver(messages)
    before = mailbox_state(dovecot)
    assert len(before) == 5
    assert not any(seen for _id, seen in before)
    result = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    assert result.exit_code == 1, result.output
    assert result.stdout == "Read 5 messages: 2 answers recorded.\n"
    assert result.stderr.splitlines() == [
        WARNING.format(port=dovecot.port),
        "For review (2):",
        "  imap INBOX UID 3 <plain-accepted-1@kvaenangen.example.org>: no calendar part (an "
        "answer typed by hand?); record it with 'inviter rsvp set'",
        "  imap INBOX UID 4 <0000000000003a3b4c05ea1b2c3f@google.com>: UID "
        "0f0e0d0c-aaaa-bbbb-cccc-000000000000@other.example.net matches no meeting of this "
        "inviter",
        "Error: 2 messages not recorded; see the list above",
    ]
    assert PASSWORD not in result.output
    assert mailbox_state(dovecot) == before  # nothing moved, nothing marked \Seen
    doc = json.loads(invoke("status", "--meeting", "temamote-tromso", "--json").stdout)
    answered = {r["email"]: r["rsvp"] for r in doc["recipients"] if r["rsvp"] != "needs-action"}
    assert answered == {
        "hilde.marie.bjornevik@tromso.example.org": "accepted",
        "emma.clarke@uit.example.org": "accepted",
    }

    again = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    assert (again.exit_code, again.stdout) == (0, "Read 0 messages: 0 answers recorded.\n")
    dovecot.deliver([sample("apple-declined.eml")])
    third = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    assert (third.exit_code, third.stdout) == (0, "Read 1 message: 1 answer recorded.\n")


def test_move_to_moves_handled_replies_over_starttls(
    project: Path, invoke: Invoke, dovecot: Dovecot
) -> None:
    prepare(project)
    configure(
        project,
        dovecot,
        security="starttls",
        ca_file=str(dovecot.ca_path),
        move_to="Svar på invitasjoner",
    )
    dovecot.deliver([sample("thunderbird-tentative.eml"), NEWSLETTER, sample("guest-accepted.eml")])
    result = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Read 3 messages: 2 answers recorded (1 from forwarded guests), 2 moved.\n"
    )
    assert mailbox_state(dovecot) == [("<news-1@example.net>", False)]
    assert mailbox_state(dovecot, "Svar på invitasjoner") == [
        ("<0000000000004b5c6d05ea1b2c40@google.com>", False),
        ("<7d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6@tromsfylke.example.org>", False),
    ]
    assert (dovecot.maildir / ".Svar p&AOU- invitasjoner" / "cur").is_dir() or (
        dovecot.maildir / ".Svar p&AOU- invitasjoner" / "new"
    ).is_dir()


def test_copy_delete_expunge_when_the_server_has_no_move(project: Path, dovecot: Dovecot) -> None:
    prepare(project)
    configure(project, dovecot)
    dovecot.deliver([sample("apple-declined.eml"), NEWSLETTER])
    settings = load_settings(project / "inviter.toml", env={})
    client = connect(settings, env=PASSWORD_ENV)
    try:
        assert "MOVE" in client.capabilities  # Dovecot announces it after login
        client.create(encode_mailbox("Handled"))
        client.select("INBOX")
        client.capabilities = tuple(c for c in client.capabilities if c != "MOVE")
        _move(client, [1], encode_mailbox("Handled"))
    finally:
        client.logout()
    assert mailbox_state(dovecot) == [("<news-1@example.net>", False)]
    assert mailbox_state(dovecot, "Handled") == [
        ("<6A9F8E7D-1C2B-4D3E-A5F6-0B1C2D3E4F5A@balsfjord.example.org>", False)
    ]


def test_tls_with_a_private_ca(project: Path, invoke: Invoke, dovecot: Dovecot) -> None:
    prepare(project)
    configure(
        project,
        dovecot,
        host="localhost",
        port=dovecot.tls_port,
        security="tls",
        ca_file=str(dovecot.ca_path),
    )
    dovecot.deliver([sample("gmail-counter.eml")])
    result = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "Read 1 message: 1 answer recorded (1 proposing a new time).\n"


def test_tls_certificate_not_trusted_is_exit_3(
    project: Path, invoke: Invoke, dovecot: Dovecot
) -> None:
    prepare(project)
    configure(project, dovecot, port=dovecot.tls_port, security="tls")
    result = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    assert result.exit_code == 3
    assert result.stderr == (
        f"Error: 127.0.0.1:{dovecot.tls_port}: TLS failed: CERTIFICATE_VERIFY_FAILED\n"
    )


def test_wrong_password_is_exit_3_and_never_shown(
    project: Path, invoke: Invoke, dovecot: Dovecot
) -> None:
    settings, _db = prepare(project)
    configure(project, dovecot)
    result = invoke("rsvp", "fetch", env={"INVITER_IMAP_PASSWORD": "wrong-Ø-secret"})
    assert result.exit_code == 3
    assert result.stderr.splitlines()[-1] == (
        f"Error: 127.0.0.1:{dovecot.port}: login refused for 'replies': "
        "[AUTHENTICATIONFAILED] Authentication failed."
    )
    assert "wrong-Ø-secret" not in result.output
    dump = "\n".join(Database(settings.database_url).engine.raw_connection().iterdump())
    assert "wrong-Ø-secret" not in dump


def test_no_password_and_no_terminal_is_bad_input(
    project: Path, invoke: Invoke, dovecot: Dovecot
) -> None:
    prepare(project)
    configure(project, dovecot)
    result = invoke("rsvp", "fetch")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: [imap] username is 'replies' but no password is available: "
        "set INVITER_IMAP_PASSWORD (there is no terminal to ask on)"
    )


def test_unreachable_server_is_exit_3(project: Path, invoke: Invoke) -> None:
    from tests.dovecot import free_port

    prepare(project)
    port = free_port()
    with (project / "inviter.toml").open("a", encoding="utf-8") as config:
        config.write(
            f'\n[imap]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "tls"\nusername = "x"\n'
        )
    result = invoke("rsvp", "fetch", env=PASSWORD_ENV)
    assert result.exit_code == 3
    assert result.stderr == f"Error: 127.0.0.1:{port}: cannot connect: Connection refused\n"


def test_folder_names_use_modified_utf7() -> None:
    assert encode_mailbox("Svar på invitasjoner") == '"Svar p&AOU- invitasjoner"'
    assert encode_mailbox("A&B") == '"A&-B"'
    assert encode_mailbox('Sámi "ČŊ"') == '"S&AOE-mi \\"&AQwBSg-\\""'


def test_xoauth2_token_command(project: Path, invoke: Invoke, dovecot: Dovecot) -> None:
    prepare(project)
    configure(project, dovecot, auth="xoauth2", oauth_token_command="false")
    failed = invoke("rsvp", "fetch")
    assert failed.exit_code == 2
    assert failed.stderr.splitlines()[-1] == (
        "Error: [imap] oauth_token_command: 'false' exited with status 1"
    )
    text = (project / "inviter.toml").read_text(encoding="utf-8")
    (project / "inviter.toml").write_text(
        text.replace('oauth_token_command = "false"', 'oauth_token_command = "echo tok-123"'),
        encoding="utf-8",
    )
    # This Dovecot offers no XOAUTH2: the token is sent, refused, and never shown.
    refused = invoke("rsvp", "fetch")
    assert refused.exit_code == 3
    assert refused.stderr.splitlines()[-1].startswith(
        f"Error: 127.0.0.1:{dovecot.port}: login refused for 'replies': "
    )
    assert "tok-123" not in refused.output


TOKEN = "ya29.test-token-for-replies"


@pytest.fixture
def oauth_dovecot() -> Iterator[Dovecot]:
    """A Dovecot that offers XOAUTH2 and accepts TOKEN for USER (like Microsoft 365 IMAP)."""
    binary = require_tool(find_dovecot(), "Dovecot (Debian dovecot-imapd)")
    server = Dovecot(binary, oauth_token=TOKEN)
    try:
        yield server
    finally:
        server.stop()


def test_xoauth2_login_fetches_replies(
    project: Path, invoke: Invoke, oauth_dovecot: Dovecot
) -> None:
    prepare(project)
    configure(
        project,
        oauth_dovecot,
        security="starttls",
        ca_file=str(oauth_dovecot.ca_path),
        auth="xoauth2",
        oauth_token_command=f"echo {TOKEN}",
    )
    oauth_dovecot.deliver([sample("outlook-accepted.eml"), NEWSLETTER])
    result = invoke("rsvp", "fetch")  # no password anywhere: the token is the login
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "Read 2 messages: 1 answer recorded.\n"
    assert oauth_dovecot.introspection is not None
    assert oauth_dovecot.introspection.asked == [TOKEN]  # Dovecot checked it with the provider
    assert TOKEN not in result.output
    doc = json.loads(invoke("status", "--meeting", "temamote-tromso", "--json").stdout)
    answered = {r["email"]: r["rsvp"] for r in doc["recipients"] if r["rsvp"] != "needs-action"}
    assert answered == {"hilde.marie.bjornevik@tromso.example.org": "accepted"}


def test_xoauth2_expired_token_is_exit_3_and_never_shown(
    project: Path, invoke: Invoke, oauth_dovecot: Dovecot
) -> None:
    prepare(project)
    configure(project, oauth_dovecot, auth="xoauth2", oauth_token_command="echo expired-tok-9")
    oauth_dovecot.deliver([sample("outlook-accepted.eml")])
    result = invoke("rsvp", "fetch")
    assert result.exit_code == 3
    assert len(result.stderr.splitlines()) == 1  # one line, no traceback
    assert result.stderr.startswith(
        f"Error: 127.0.0.1:{oauth_dovecot.port}: login refused for 'replies': "
    )
    assert "expired-tok-9" not in result.output
    assert oauth_dovecot.introspection is not None
    assert oauth_dovecot.introspection.asked == ["expired-tok-9"]
    assert [seen for _id, seen in mailbox_state(oauth_dovecot)] == [False]  # left as it was


def test_xoauth2_answers_the_error_challenge_with_an_empty_line() -> None:
    # RFC 7628 §3.2.3: after a refused token the server sends a JSON error as a challenge and
    # waits for an empty response; the token is never sent a second time.
    answer = _xoauth2(b"user=replies\x01auth=Bearer tok\x01\x01")
    assert answer(b"") == b"user=replies\x01auth=Bearer tok\x01\x01"
    assert answer(b'{"status":"401","schemes":"bearer"}') == b""
    assert answer(b"") == b""
