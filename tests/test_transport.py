"""Transports against a real aiosmtpd server: TLS, logins, each answer class, the outbox."""

from __future__ import annotations

import asyncio
import ssl
import sys
from pathlib import Path

import pytest

from inviter.config import SmtpSettings
from inviter.deliver.credentials import Credentials, resolve_credentials
from inviter.deliver.outbox import OutboxTransport
from inviter.deliver.smtp import SmtpConnection, SmtpTransport
from inviter.deliver.transport import ConnectionDropped, DeliveryError, LoginRefused, wire_bytes
from inviter.errors import ConfigError, ConnectionFailure, InputError

from .smtpd import Certificates, RecordingHandler, SmtpServer, free_port

SENDER = "bibliotek@example.org"
MESSAGE = (
    b"From: bibliotek@example.org\r\nTo: kari@example.org\r\nSubject: Test\r\n"
    b"Message-ID: <abc@example.org>\r\n\r\n.a line starting with a dot\r\n..two\r\nend\r\n"
)


def smtp_settings(server: SmtpServer, **changes: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "timeout": 5.0,
    }
    values.update(changes)
    return SmtpSettings(**values)  # type: ignore[arg-type]


async def send_one(
    settings: SmtpSettings,
    credentials: Credentials | None = None,
    recipient: str = "kari@example.org",
    data: bytes = MESSAGE,
) -> None:
    connection = SmtpConnection(settings, credentials or Credentials())
    await connection.open()
    try:
        await connection.send(SENDER, recipient, data)
    finally:
        await connection.close()


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return Certificates(tmp_path)


def test_plain_delivery_is_byte_exact_and_matches_the_outbox(tmp_path: Path) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        asyncio.run(send_one(smtp_settings(server)))
    outbox = OutboxTransport(tmp_path / "outbox")
    outbox.prepare()
    asyncio.run(outbox.connection().send(SENDER, "kari@example.org", MESSAGE))
    files = list((tmp_path / "outbox" / "new").iterdir())
    assert len(files) == 1
    assert list((tmp_path / "outbox" / "tmp").iterdir()) == []
    [received] = handler.messages
    assert received.recipients == ("kari@example.org",)
    assert received.mail_from == SENDER
    assert received.data == MESSAGE  # dot-stuffing undone, nothing added
    assert files[0].read_bytes() == received.data


def test_wire_bytes_makes_crlf_and_a_final_line_end() -> None:
    assert wire_bytes(b"a\nb\r\nc\rd") == b"a\r\nb\r\nc\r\nd\r\n"
    assert wire_bytes(b"a\r\n") == b"a\r\n"


def test_starttls_with_a_trusted_certificate(certificates: Certificates) -> None:
    handler = RecordingHandler(users={"ola": "hemmelig"})
    with SmtpServer(handler, tls="starttls", certificates=certificates, auth=True) as server:
        settings = smtp_settings(
            server, security="starttls", username="ola", ca_file=str(certificates.ca_file)
        )
        asyncio.run(send_one(settings, Credentials("ola", "hemmelig")))
    assert len(handler.messages) == 1
    assert [login[1:] for login in handler.logins] == [("PLAIN", "ola")]


def test_implicit_tls(certificates: Certificates) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler, tls="tls", certificates=certificates) as server:
        settings = smtp_settings(server, security="tls", ca_file=str(certificates.ca_file))
        asyncio.run(send_one(settings))
    assert len(handler.messages) == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_untrusted_certificate_is_refused(certificates: Certificates, security: str) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler, tls=security, certificates=certificates) as server:
        settings = smtp_settings(server, security=security)  # no ca_file: unknown CA
        with pytest.raises(ConnectionFailure) as caught:
            asyncio.run(send_one(settings))
    assert str(caught.value) == (
        f"127.0.0.1:{server.port}: TLS failed: the server's certificate is not trusted "
        "(unable to get local issuer certificate); if the server uses a private certificate "
        "authority, set [smtp] ca_file"
    )
    assert handler.messages == []
    assert not any(c.startswith("MAIL") for c in handler.commands)


def test_validate_certs_false_accepts_an_unknown_authority(certificates: Certificates) -> None:
    handler = RecordingHandler()
    with SmtpServer(handler, tls="starttls", certificates=certificates) as server:
        settings = smtp_settings(server, security="starttls", validate_certs=False)
        asyncio.run(send_one(settings))
    assert len(handler.messages) == 1


def test_connections_of_a_transport_share_one_tls_context(certificates: Certificates) -> None:
    # Loading the system's authorities per connection cost ~10 ms of CPU each (RESULTS.md §1).
    handler = RecordingHandler()
    with SmtpServer(handler, tls="starttls", certificates=certificates) as server:
        settings = smtp_settings(server, security="starttls", ca_file=str(certificates.ca_file))
        transport = SmtpTransport(settings, Credentials())
        first, second = transport.connection(), transport.connection()
        assert first.context is not None
        assert first.context is second.context
        assert first.context.verify_mode == ssl.CERT_REQUIRED
        assert first.context.check_hostname

        async def both() -> None:
            for connection in (first, second):
                await connection.open()
                await connection.send(SENDER, "kari@example.org", MESSAGE)
                await connection.close()

        asyncio.run(both())
    assert len(handler.messages) == 2


@pytest.mark.parametrize("content", [None, b"not a certificate"])
def test_unusable_ca_file_is_a_config_error(tmp_path: Path, content: bytes | None) -> None:
    ca_file = tmp_path / "ca.pem"
    if content is not None:
        ca_file.write_bytes(content)
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), ca_file=str(ca_file))
    with pytest.raises(ConfigError) as caught:
        SmtpTransport(settings, Credentials()).connection()
    assert str(caught.value).startswith(f"[smtp] ca_file: '{ca_file}' cannot be used: ")
    assert "\n" not in str(caught.value)


def test_plain_smtp_has_no_tls_context() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=25, security="none", ca_file="/nonexistent")
    assert SmtpTransport(settings, Credentials()).connection().context is None


def test_stripped_starttls_is_an_error_not_plain_text() -> None:
    # A server (or an attacker in between) that does not offer STARTTLS.
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        settings = smtp_settings(server, security="starttls")
        with pytest.raises(ConnectionFailure) as caught:
            asyncio.run(send_one(settings))
    assert str(caught.value) == (
        f"127.0.0.1:{server.port}: the server does not offer STARTTLS; refusing to send in "
        'plain text ([smtp] security = "starttls"; use "tls" for port 465)'
    )
    assert handler.commands == []


def test_wrong_password_is_login_refused_without_the_password(
    certificates: Certificates,
) -> None:
    handler = RecordingHandler(users={"ola": "riktig"})
    with SmtpServer(handler, tls="starttls", certificates=certificates, auth=True) as server:
        settings = smtp_settings(
            server, security="starttls", username="ola", ca_file=str(certificates.ca_file)
        )
        with pytest.raises(LoginRefused) as caught:
            asyncio.run(send_one(settings, Credentials("ola", "feil-passord-123")))
    message = str(caught.value)
    assert message == (
        f"127.0.0.1:{server.port}: the server refused the login for 'ola': 535 5.7.8 "
        "Authentication credentials invalid; check the username and INVITER_SMTP_PASSWORD "
        "(or the OAuth token)"
    )
    assert "feil-passord-123" not in message
    assert caught.value.exit_code == 3
    assert handler.messages == []


def test_xoauth2_with_a_token_from_the_environment(certificates: Certificates) -> None:
    handler = RecordingHandler(tokens={"bibliotek@example.org": "ya29.token"})
    with SmtpServer(handler, tls="tls", certificates=certificates, auth=True) as server:
        settings = smtp_settings(
            server,
            security="tls",
            auth="xoauth2",
            username="bibliotek@example.org",
            ca_file=str(certificates.ca_file),
        )
        credentials = resolve_credentials(
            settings, {"INVITER_SMTP_OAUTH_TOKEN": "ya29.token"}, None
        )
        asyncio.run(send_one(settings, credentials))
        assert "ya29" not in repr(credentials)
        wrong = resolve_credentials(settings, {"INVITER_SMTP_OAUTH_TOKEN": "expired"}, None)
        with pytest.raises(LoginRefused) as caught:
            asyncio.run(send_one(settings, wrong))
    assert [login[1:] for login in handler.logins] == [("XOAUTH2", "bibliotek@example.org")]
    assert "expired" not in str(caught.value)
    assert len(handler.messages) == 1


def test_xoauth2_token_command_runs_without_a_shell(
    certificates: Certificates, tmp_path: Path
) -> None:
    script = tmp_path / "token script.py"
    script.write_text("import sys; print('tok-' + sys.argv[1])\n", encoding="utf-8")
    handler = RecordingHandler(tokens={"bibliotek@example.org": "tok-$HOME;x"})
    with SmtpServer(handler, tls="tls", certificates=certificates, auth=True) as server:
        settings = smtp_settings(
            server,
            security="tls",
            auth="xoauth2",
            username="bibliotek@example.org",
            ca_file=str(certificates.ca_file),
            # Quoted path with a space; "$HOME;x" reaches the program literally (no shell).
            oauth_token_command=f"{sys.executable} '{script}' '$HOME;x'",
        )
        asyncio.run(send_one(settings, resolve_credentials(settings, {}, None)))
    assert len(handler.messages) == 1


def test_failing_token_command_is_reported_without_its_output(tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text(
        "import sys; print('secret-token'); print('no refresh token', file=sys.stderr); "
        "sys.exit(4)\n",
        encoding="utf-8",
    )
    settings = SmtpSettings(
        auth="xoauth2", username="u@example.org", oauth_token_command=f"{sys.executable} {script}"
    )
    with pytest.raises(ConfigError) as caught:
        resolve_credentials(settings, {}, None)
    assert str(caught.value) == (
        f"[smtp] oauth_token_command: '{sys.executable}' exited with status 4: no refresh token"
    )


def test_password_sources() -> None:
    settings = SmtpSettings(username="ola")
    assert resolve_credentials(settings, {"INVITER_SMTP_PASSWORD": "pw"}, None).password == "pw"
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "typed"

    assert resolve_credentials(settings, {}, prompt).password == "typed"
    assert asked == ["Password for ola at localhost"]
    with pytest.raises(InputError) as caught:
        resolve_credentials(settings, {}, None)
    assert str(caught.value) == (
        "[smtp] username is 'ola' but no password is available: set INVITER_SMTP_PASSWORD "
        "(there is no terminal to ask on)"
    )
    assert caught.value.exit_code == 2
    assert resolve_credentials(SmtpSettings(), {}, None) == Credentials()
    with pytest.raises(ConfigError):
        resolve_credentials(SmtpSettings(auth="xoauth2", username="u@example.org"), {}, None)


def test_unreachable_server() -> None:
    port = free_port()
    settings = SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=2.0)
    with pytest.raises(ConnectionFailure) as caught:
        asyncio.run(send_one(settings))
    assert str(caught.value).startswith(f"127.0.0.1:{port}: cannot connect: ")
    assert str(caught.value).endswith("; check [smtp] host and port")


@pytest.mark.parametrize(
    ("answer", "stage", "permanent"),
    [
        ("550 5.1.1 User unknown", "RCPT", True),
        ("451 4.7.1 Greylisted, try again", "RCPT", False),
        ("452 4.5.3 Too many recipients", "RCPT", False),
    ],
)
def test_recipient_refusals_are_classified(answer: str, stage: str, permanent: bool) -> None:
    handler = RecordingHandler()
    handler.refuse("kari@example.org", answer)
    with SmtpServer(handler) as server:

        async def run() -> None:
            connection = SmtpConnection(smtp_settings(server), Credentials())
            await connection.open()
            with pytest.raises(DeliveryError) as caught:
                await connection.send(SENDER, "kari@example.org", MESSAGE)
            assert caught.value.code == int(answer[:3])
            assert caught.value.response == answer[4:]
            assert caught.value.stage == stage
            assert caught.value.permanent is permanent
            # The envelope was reset: the same connection carries the next message.
            await connection.send(SENDER, "per@example.org", MESSAGE)
            await connection.close()

        asyncio.run(run())
    assert [m.recipients for m in handler.messages] == [("per@example.org",)]


def test_data_421_closes_and_throttles() -> None:
    handler = RecordingHandler()
    handler.refuse_data("kari@example.org", "421 4.3.2 Service shutting down", times=1)
    with SmtpServer(handler) as server, pytest.raises(DeliveryError) as caught:
        asyncio.run(send_one(smtp_settings(server)))
    error = caught.value
    assert (error.code, error.stage, error.closes, error.throttles) == (421, "DATA", True, True)


def test_drop_after_data_is_uncertain_and_was_delivered() -> None:
    handler = RecordingHandler()
    handler.drop_after_data("kari@example.org")
    with SmtpServer(handler) as server, pytest.raises(ConnectionDropped) as caught:
        asyncio.run(send_one(smtp_settings(server)))
    dropped = caught.value
    assert dropped.uncertain is True
    assert str(dropped) == "the server closed the connection during DATA"
    assert len(handler.messages) == 1  # it did arrive: the client cannot know


def test_stall_after_data_is_uncertain() -> None:
    handler = RecordingHandler(delay=1.0)
    with SmtpServer(handler) as server, pytest.raises(ConnectionDropped) as caught:
        asyncio.run(send_one(smtp_settings(server, timeout=0.3)))
    dropped = caught.value
    assert dropped.uncertain is True
    assert str(dropped) == "the server stalled the connection during DATA"


def test_outbox_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    outbox = OutboxTransport(blocker / "outbox")
    with pytest.raises(InputError) as caught:
        outbox.prepare()
    assert str(caught.value).startswith(f"{blocker / 'outbox'}: cannot make the outbox Maildir: ")
