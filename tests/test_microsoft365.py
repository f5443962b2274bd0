"""Microsoft 365 sign-in for real (issue 17): MSAL against an OAuth 2 provider on loopback over
HTTPS (tests/oauth_provider.py), aiosmtpd and Dovecot checking the tokens they are given.

``inviter login`` runs at a pseudo-terminal, as staff run it; the test plays the person at the
browser by approving the code it printed. Then ``send`` logs in with XOAUTH2 using a token
MSAL renewed silently, a revoked sign-in is exit 3 saying to log in again, ``logout`` forgets
it, and no token is ever in inviter.toml, the database, the output or a process's arguments.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from inviter.deliver.token_store import state_dir
from tests.conftest import Invoke, require_tool
from tests.dovecot import USER, Dovecot, find_dovecot
from tests.oauth_provider import CLIENT_ID, TENANT, OAuthServer
from tests.replies_helpers import prepare, sample
from tests.smtpd import RecordingHandler, SmtpServer
from tests.test_imap import configure

ORGANIZER = "bibliotek@example.org"
MEETING = "temamote-tromso"


@pytest.fixture
def oauth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OAuthServer]:
    """The provider; MSAL trusts its CA as a county's machine trusts Microsoft's, and the
    sign-in is kept in a file under the test's own state folder (no desktop keyring here)."""
    with OAuthServer(tmp_path, user=ORGANIZER) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
        yield server


def signin_env(oauth: OAuthServer, section: str = "SMTP") -> dict[str, str]:
    return {
        f"INVITER_{section}_AUTH": "xoauth2",
        f"INVITER_{section}_USERNAME": ORGANIZER,
        f"INVITER_{section}_TENANT": TENANT,
        f"INVITER_{section}_CLIENT_ID": CLIENT_ID,
        f"INVITER_{section}_AUTHORITY": oauth.authority,
    }


def login(project: Path, oauth: OAuthServer, env: dict[str, str]) -> str:
    """Run ``inviter login`` at a terminal; approve its code; return everything it printed."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "inviter", "login"],
        cwd=str(project),
        env={**os.environ, **env},
        encoding="utf-8",
        timeout=60,
    )
    child.expect(r"open (\S+) in a browser and enter the code (\w+)")
    shown = str(child.before) + str(child.after)
    assert child.match is not None
    assert child.match.group(1) == f"{oauth.authority}/{TENANT}/devicelogin"
    # While it waits, nothing secret is in its arguments (the process list).
    argv = Path(f"/proc/{child.pid}/cmdline").read_bytes().split(b"\0")
    assert argv[-2:] == [b"login", b""] or argv[-1] == b"login"
    oauth.provider.approve(child.match.group(2))
    child.expect(pexpect.EOF)
    child.close()
    shown += str(child.before)
    assert child.exitstatus == 0, shown
    return shown


def kept_file() -> Path:
    [found] = list(state_dir().glob("signin-*.json"))
    return found


def an_hour_later() -> None:
    """Make the kept access token expired, as it is an hour after login (MSAL's cache format:
    AccessToken entries with expires_on in seconds since the epoch)."""
    kept = kept_file()
    cache = json.loads(kept.read_text())
    for entry in cache["AccessToken"].values():
        entry["expires_on"] = entry["extended_expires_on"] = str(int(time.time()) - 1)
    kept.write_text(json.dumps(cache))


def secrets_of(oauth: OAuthServer) -> set[str]:
    return oauth.provider.access_tokens | oauth.provider.refresh_tokens


def test_login_then_send_with_a_silently_renewed_token(
    project: Path, invoke: Invoke, oauth: OAuthServer
) -> None:
    env = signin_env(oauth)
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    shown = login(project, oauth, env)
    assert f"Signed in as {ORGANIZER}" in shown
    # Only device-code requests: MSAL polls until the code is approved (RFC 8628 §3.5), once
    # or more, depending on when the person at the browser approves it.
    polls = oauth.provider.grant_types()
    assert polls
    assert set(polls) == {"urn:ietf:params:oauth:grant-type:device_code"}
    kept = kept_file()
    assert kept.stat().st_mode & 0o777 == 0o600  # readable by this user alone
    assert kept.parent.stat().st_mode & 0o077 == 0
    first_refresh = next(iter(oauth.provider.refresh_tokens))
    assert first_refresh in kept.read_text()
    an_hour_later()

    handler = RecordingHandler(
        token_check=lambda user, token: user == ORGANIZER and oauth.provider.active(token)
    )
    with SmtpServer(handler) as server:
        env |= {"INVITER_SEND_TRANSPORT": "smtp", "INVITER_SMTP_HOST": "127.0.0.1",
                "INVITER_SMTP_PORT": str(server.port), "INVITER_SMTP_SECURITY": "none"}  # fmt: skip
        checked = invoke("check", env=env)
        assert checked.exit_code == 0, checked.output
        assert f"  logged in as {ORGANIZER} (OAuth 2 token, XOAUTH2)" in checked.stdout
        result = invoke("send", "--meeting", MEETING, "--force", env=env)
    assert result.exit_code == 0, result.output
    assert handler.messages, "nothing was sent"
    assert {mechanism for _n, mechanism, _u in handler.logins} == {"XOAUTH2"}
    # The access token from login had expired: MSAL renewed it once, asking no one, and every
    # connection of the run used the new one.
    assert oauth.provider.grant_types()[len(polls) :] == ["refresh_token"]
    assert len(handler.logins) == 1 + 3  # check's, then one per connection (concurrency 3)
    assert first_refresh not in kept.read_text()  # the rotated refresh token was kept

    # No token anywhere a person or another program could read it.
    everything = secrets_of(oauth)
    for path in (project / "inviter.toml", project / "inviter.db"):
        data = path.read_bytes()
        assert not any(secret.encode() in data for secret in everything), path
    assert not any(secret in shown + checked.output + result.output for secret in everything)


def test_a_refused_renewal_says_to_log_in_again(
    project: Path, invoke: Invoke, oauth: OAuthServer
) -> None:
    env = signin_env(oauth)
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    login(project, oauth, env)
    oauth.provider.revoke()  # a password change, or IT revoked the sessions
    handler = RecordingHandler(token_check=lambda _user, token: oauth.provider.active(token))
    with SmtpServer(handler) as server:
        result = invoke(
            "send",
            "--meeting",
            MEETING,
            "--force",
            env={**env, "INVITER_SEND_TRANSPORT": "smtp", "INVITER_SMTP_HOST": "127.0.0.1",
                 "INVITER_SMTP_PORT": str(server.port)},
        )  # fmt: skip
    assert result.exit_code == 3, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: Microsoft 365 refused to renew the sign-in of {ORGANIZER}")
    assert "invalid_grant" in line
    assert line.endswith("run 'inviter login' again")
    assert handler.messages == []  # nothing was sent


def test_logout_forgets_the_sign_in(project: Path, invoke: Invoke, oauth: OAuthServer) -> None:
    env = signin_env(oauth)
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    login(project, oauth, env)
    assert kept_file().exists()
    result = invoke("logout", env=env)
    assert result.exit_code == 0, result.output
    assert "Signed out" in result.output
    assert list(state_dir().glob("signin-*.json")) == []
    again = invoke("logout", env=env)
    assert again.output == "There was no sign-in to forget.\n"
    smtp = {**env, "INVITER_SEND_TRANSPORT": "smtp"}
    result = invoke("send", "--meeting", MEETING, "--force", env=smtp)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: not signed in to Microsoft 365 as {ORGANIZER}: run 'inviter login' first\n"
    )


def test_login_without_a_tenant_is_one_line(invoke: Invoke, oauth: OAuthServer) -> None:
    result = invoke("login", env={"INVITER_SMTP_AUTH": "xoauth2"})
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: inviter.toml: [smtp] tenant and client_id: are needed")


def test_an_unknown_app_is_refused_in_one_line(invoke: Invoke, oauth: OAuthServer) -> None:
    env = signin_env(oauth) | {"INVITER_SMTP_CLIENT_ID": "not-the-registered-app"}
    result = invoke("login", env=env)
    assert result.exit_code == 3
    assert result.stderr == (
        "Error: Microsoft 365 refused to start a sign-in: unauthorized_client: AADSTS700016\n"
    )


def test_an_untrusted_authority_certificate_is_exit_3(
    invoke: Invoke, oauth: OAuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")  # the test CA is no longer trusted
    result = invoke("login", env=signin_env(oauth))
    assert result.exit_code == 3
    assert re.fullmatch(
        rf"Error: {re.escape(oauth.authority)}/{TENANT}: the certificate is not trusted \(.+\)\n",
        result.stderr,
    )


def test_rsvp_fetch_signs_in_to_dovecot_with_the_same_sign_in(
    project: Path, invoke: Invoke, oauth: OAuthServer
) -> None:
    binary = require_tool(find_dovecot(), "Dovecot (Debian dovecot-imapd)")
    dovecot = Dovecot(binary, introspection=(oauth.introspection_url, oauth.ca_file))
    try:
        oauth.provider.user = USER  # the mailbox that signs in is Dovecot's one user
        prepare(project)
        configure(project, dovecot, security="starttls", ca_file=str(dovecot.ca_path))
        env = signin_env(oauth, "IMAP") | {"INVITER_IMAP_USERNAME": USER}
        login(project, oauth, env)
        an_hour_later()
        dovecot.deliver([sample("outlook-accepted.eml")])
        result = invoke("rsvp", "fetch", env=env)
        assert (result.exit_code, result.stderr) == (0, ""), result.output
        assert result.stdout == "Read 1 message: 1 answer recorded.\n"
        # Dovecot asked the provider, over HTTPS, about the renewed token inviter gave it.
        assert oauth.provider.grant_types()[-1] == "refresh_token"
        assert oauth.provider.introspected
        assert all(oauth.provider.active(t) for t in oauth.provider.introspected)
        assert not any(s in result.output for s in secrets_of(oauth))
    finally:
        dovecot.stop()
