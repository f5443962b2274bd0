"""``inviter check`` (issue 17): logs in as send and rsvp fetch will, says what the servers offer,
sends nothing; exit 3 with the server's own answer when a step fails. Against aiosmtpd (plain,
STARTTLS, a certificate nobody trusts, a refused login) and Dovecot."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Invoke, require_tool
from tests.dovecot import PASSWORD, USER, Dovecot, find_dovecot
from tests.smtpd import Certificates, RecordingHandler, SmtpServer
from tests.test_imap import configure


def smtp(server: SmtpServer, **extra: str) -> dict[str, str]:
    return {
        "INVITER_SMTP_HOST": "127.0.0.1",
        "INVITER_SMTP_PORT": str(server.port),
        "INVITER_SMTP_SECURITY": "none",
        **extra,
    }


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return Certificates(tmp_path)


def test_plain_server_without_login(invoke: Invoke) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        result = invoke("check", env=smtp(server, INVITER_SEND_TRANSPORT="smtp"))
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert result.stdout.splitlines() == [
        f"SMTP 127.0.0.1:{server.port}: connected",
        "  plain text, no TLS (security = none)",
        "  no login (no username)",
        "  offers: size limit 33.6 MB (33,554,432 bytes), no PIPELINING, SMTPUTF8; "
        "login methods: LOGIN PLAIN XOAUTH2",
    ]
    assert handler.messages == []
    assert not any(c.startswith(("MAIL", "RCPT", "DATA")) for c in handler.commands)


def test_starttls_and_a_password_login(invoke: Invoke, certificates: Certificates) -> None:
    handler = RecordingHandler(users={"ola@example.org": "hemmelig-Ø"})
    with SmtpServer(handler, tls="starttls", certificates=certificates, auth=True) as server:
        env = smtp(
            server,
            INVITER_SMTP_SECURITY="starttls",
            INVITER_SMTP_CA_FILE=str(certificates.ca_file),
            INVITER_SMTP_USERNAME="ola@example.org",
            INVITER_SMTP_PASSWORD="hemmelig-Ø",
        )
        result = invoke("check", env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"  STARTTLS, TLSv1\.[23], certificate checked", lines[1]), lines
    assert lines[2] == "  logged in as ola@example.org (password)"
    assert [mechanism for _n, mechanism, _u in handler.logins] in (["PLAIN"], ["LOGIN"])
    assert "hemmelig" not in result.output
    # Into the outbox still: check says so, since send would not use this server.
    assert 'Note: [send] transport is "outbox"' in result.stderr
    assert handler.messages == []


def test_a_certificate_nobody_trusts_is_exit_3(invoke: Invoke, certificates: Certificates) -> None:
    with SmtpServer(RecordingHandler(), tls="starttls", certificates=certificates) as server:
        result = invoke("check", env=smtp(server, INVITER_SMTP_SECURITY="starttls"))
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert line == (
        f"Error: 127.0.0.1:{server.port}: TLS failed: the server's certificate is not trusted "
        "(unable to get local issuer certificate); if the server uses a private certificate "
        "authority, set [smtp] ca_file"
    )


def test_a_refused_login_is_exit_3_with_the_servers_answer(
    invoke: Invoke, certificates: Certificates
) -> None:
    handler = RecordingHandler(users={"ola@example.org": "riktig"})
    with SmtpServer(handler, tls="starttls", certificates=certificates, auth=True) as server:
        env = smtp(
            server,
            INVITER_SMTP_SECURITY="starttls",
            INVITER_SMTP_CA_FILE=str(certificates.ca_file),
            INVITER_SMTP_USERNAME="ola@example.org",
            INVITER_SMTP_PASSWORD="feil-passord",
        )
        result = invoke("check", env=env)
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"Error: 127.0.0.1:{server.port}: the server refused the login for 'ola@example.org': 535"
    )
    assert "feil-passord" not in result.output


def test_nothing_listening_is_exit_3(invoke: Invoke) -> None:
    result = invoke("check", env={"INVITER_SMTP_HOST": "127.0.0.1", "INVITER_SMTP_PORT": "9"})
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: 127.0.0.1:9: cannot connect")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot(require_tool(find_dovecot(), "Dovecot (Debian dovecot-imapd)"))
    try:
        yield server
    finally:
        server.stop()


def test_imap_is_checked_too(project: Path, invoke: Invoke, dovecot: Dovecot) -> None:
    configure(project, dovecot, security="starttls", ca_file=str(dovecot.ca_path))
    with SmtpServer(RecordingHandler()) as server:
        result = invoke("check", env=smtp(server, INVITER_IMAP_PASSWORD=PASSWORD))
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[4] == f"IMAP 127.0.0.1:{dovecot.port}: connected"
        assert re.fullmatch(r"  STARTTLS, TLSv1\.[23], certificate checked", lines[5])
        assert lines[6] == f"  logged in as {USER} (password); folder INBOX: 0 messages"
        assert lines[7].startswith("  offers: ")
        assert "IMAP4REV1" in lines[7]

        wrong = invoke("check", env=smtp(server, INVITER_IMAP_PASSWORD="feil"))
    assert wrong.exit_code == 3
    [line] = wrong.stderr.splitlines()
    assert line.startswith(f"Error: 127.0.0.1:{dovecot.port}: login refused for '{USER}': ")
    assert "feil" not in line.split(":", 3)[-1].replace("login refused", "")


def test_a_missing_imap_folder_is_exit_3(project: Path, invoke: Invoke, dovecot: Dovecot) -> None:
    configure(project, dovecot, folder="Svar")
    with SmtpServer(RecordingHandler()) as server:
        result = invoke("check", env=smtp(server, INVITER_IMAP_PASSWORD=PASSWORD))
    assert result.exit_code == 3
    assert result.stderr.startswith(
        f"Error: 127.0.0.1:{dovecot.port}: [imap] folder 'Svar' cannot be opened: "
    )
