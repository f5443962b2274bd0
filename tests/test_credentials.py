"""Logins: the password only from the environment or a prompt, never in plain text on a network."""

from __future__ import annotations

from pathlib import Path

import pytest

from inviter.config import ImapSettings, SmtpSettings
from inviter.deliver.credentials import resolve_credentials
from inviter.errors import ConfigError, InputError

from .conftest import Invoke


def test_password_from_the_environment_and_never_in_repr() -> None:
    smtp = SmtpSettings(host="smtp.example.org", username="kari")
    found = resolve_credentials(smtp, {"INVITER_SMTP_PASSWORD": "hemmelig-Ø"}, None)
    assert found.password == "hemmelig-Ø"
    assert "hemmelig" not in repr(found)


def test_prompt_is_asked_only_without_the_variable() -> None:
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "fra-terminal"

    imap = ImapSettings(host="imap.example.org", username="svar")
    found = resolve_credentials(imap, {}, prompt, section="imap")
    assert (found.password, asked) == ("fra-terminal", ["Password for svar at imap.example.org"])
    with pytest.raises(InputError, match=r"set INVITER_IMAP_PASSWORD \(there is no terminal"):
        resolve_credentials(imap, {}, None, section="imap")


@pytest.mark.parametrize("host", ["smtp.example.org", "192.0.2.10"])
def test_no_password_in_plain_text_to_another_host(host: str) -> None:
    smtp = SmtpSettings(host=host, security="none", username="kari")
    with pytest.raises(ConfigError) as caught:
        resolve_credentials(smtp, {"INVITER_SMTP_PASSWORD": "x"}, None)
    assert str(caught.value) == (
        f'[smtp] security = "none" would send the password for kari unencrypted to {host}; '
        'set security = "starttls" or "tls"'
    )


def test_plain_text_is_fine_on_loopback_and_without_a_login() -> None:
    loopback = SmtpSettings(host="127.0.0.1", security="none", username="kari")
    assert resolve_credentials(loopback, {"INVITER_SMTP_PASSWORD": "x"}, None).password == "x"
    relay = SmtpSettings(host="relay.example.org", security="none")
    assert resolve_credentials(relay, {}, None).password is None


def test_send_refuses_a_plain_text_login_before_anything_happens(
    project: Path, invoke: Invoke
) -> None:
    config = project / "inviter.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('transport = "outbox"', 'transport = "smtp"')
    text = text.replace('host = "localhost"', 'host = "smtp.example.org"')
    text = text.replace('security = "starttls"', 'security = "none"')
    text = text.replace('username = ""', 'username = "kari"')
    config.write_text(text, encoding="utf-8")
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    result = invoke(  # --force: the shipped example's meeting is in 2022
        "send",
        "--meeting",
        "temamote-tromso",
        "--force",
        env={"INVITER_SMTP_PASSWORD": "s3cr3t-Æ"},
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        'Error: [smtp] security = "none" would send the password for kari unencrypted to '
        'smtp.example.org; set security = "starttls" or "tls"'
    )
    assert "s3cr3t" not in result.output
    status = invoke("status", "--meeting", "temamote-tromso", "--json")
    assert '"sent": 0' in status.stdout
