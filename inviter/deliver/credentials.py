"""Mail server logins (SMTP and IMAP): a password or an OAuth 2 token (XOAUTH2).

The password comes from INVITER_<SECTION>_PASSWORD or a prompt, the token from
INVITER_<SECTION>_OAUTH_TOKEN, the section's oauth_token_command, or the Microsoft 365 sign-in
``inviter login`` keeps (sign_in.py) (SPEC: never from inviter.toml or the database).

Resolved once, before anything is sent, so a missing password is bad input (exit 2) and not a
half-finished run. Secrets never appear in a repr, an error message or a log line.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from inviter.config import MailServerSettings
from inviter.errors import ConfigError, InputError
from inviter.translation import _

PasswordPrompt = Callable[[str], str]

# Hosts where a plain-text login never leaves the machine.
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})

# An OAuth access token lives about an hour (Microsoft 365, Google); a long, rate-limited send
# must fetch a fresh one for connections opened later.
TOKEN_MAX_AGE = 600.0


@dataclass(frozen=True)
class Credentials:
    """A username and a password, or a source of OAuth tokens. Never printed."""

    username: str = ""
    password: str | None = field(default=None, repr=False)
    token: Callable[[], str] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        kind = "xoauth2" if self.token else "password" if self.password is not None else "none"
        return f"Credentials(username={self.username!r}, auth={kind})"


class TokenCommand:
    """Run the configured token command (no shell) and keep its token for a while."""

    def __init__(
        self,
        command: str,
        *,
        section: str = "smtp",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.where = f"[{section}] oauth_token_command"
        try:
            self.argv = shlex.split(command)
        except ValueError as exc:
            raise ConfigError(
                _("{key}: cannot be split: {reason}").format(key=self.where, reason=exc)
            ) from None
        if not self.argv:
            raise ConfigError(_("{key}: is empty").format(key=self.where))
        self._clock = clock
        self._token: str | None = None
        self._at = 0.0

    def __call__(self) -> str:
        """Return a token, running the command when the kept one is old."""
        if self._token is None or self._clock() - self._at > TOKEN_MAX_AGE:
            self._token = self._run()
            self._at = self._clock()
        return self._token

    def _run(self) -> str:
        name = self.argv[0]
        try:
            done = subprocess.run(
                self.argv, capture_output=True, text=True, timeout=120, check=False
            )
        except FileNotFoundError:
            raise ConfigError(
                _("{key}: '{command}' not found").format(key=self.where, command=name)
            ) from None
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(
                _("{key}: '{command}' failed: {reason}").format(
                    key=self.where, command=name, reason=exc
                )
            ) from None
        if done.returncode != 0:
            # stderr is shown, stdout (which would hold a token) never.
            why = (done.stderr.strip().splitlines() or [""])[-1][:200]
            if why:
                text = _("{key}: '{command}' exited with status {status}: {reason}")
            else:
                text = _("{key}: '{command}' exited with status {status}")
            raise ConfigError(
                text.format(key=self.where, command=name, status=done.returncode, reason=why)
            )
        token = done.stdout.strip()
        if not token or any(c.isspace() for c in token):
            raise ConfigError(
                _("{key}: '{command}' printed no token (one line expected)").format(
                    key=self.where, command=name
                )
            )
        return token


def resolve_credentials(
    server: MailServerSettings,
    env: Mapping[str, str],
    prompt: PasswordPrompt | None,
    *,
    section: str = "smtp",
) -> Credentials:
    """Find the password or token before anything is sent; raise InputError/ConfigError."""
    prefix = f"INVITER_{section.upper()}"
    if server.username and server.security == "none" and server.host not in LOOPBACK:
        # A login without TLS hands the password to anyone on the path (RFC 8314 §3).
        raise ConfigError(
            _(
                '[{section}] security = "none" would send the password for {username} '
                'unencrypted to {host}; set security = "starttls" or "tls"'
            ).format(section=section, username=server.username, host=server.host)
        )
    if server.auth == "xoauth2":
        if not server.username:
            raise ConfigError(
                _('[{section}] username: is required with auth = "xoauth2"').format(section=section)
            )
        if env.get(f"{prefix}_OAUTH_TOKEN"):
            fixed = env[f"{prefix}_OAUTH_TOKEN"].strip()
            return Credentials(username=server.username, token=lambda: fixed)
        if server.oauth_token_command:
            source = TokenCommand(server.oauth_token_command, section=section)
            source()  # fail now, before anything is sent, if the command does not work
            return Credentials(username=server.username, token=source)
        if server.client_id or server.tenant:
            # Loaded only for a Microsoft 365 sign-in: MSAL and requests cost start-up time
            # every other run would pay for nothing (issue 19).
            from inviter.deliver.sign_in import SignIn

            sign_in = SignIn(server, section=section)
            username = server.username

            def fresh() -> str:
                return sign_in.token(username)

            fresh()  # fail now, before anything is sent, if the sign-in cannot be renewed
            return Credentials(username=server.username, token=fresh)
        raise ConfigError(
            _(
                '[{section}] auth = "xoauth2" needs a token: set [{section}] tenant and '
                "client_id and run 'inviter login' (Microsoft 365), or set [{section}] "
                "oauth_token_command or {variable}"
            ).format(section=section, variable=f"{prefix}_OAUTH_TOKEN")
        )
    if not server.username:
        return Credentials()
    if f"{prefix}_PASSWORD" in env:
        return Credentials(username=server.username, password=env[f"{prefix}_PASSWORD"])
    if prompt is None:
        raise InputError(
            _(
                "[{section}] username is '{username}' but no password is available: "
                "set {variable} (there is no terminal to ask on)"
            ).format(section=section, username=server.username, variable=f"{prefix}_PASSWORD")
        )
    return Credentials(
        username=server.username,
        password=prompt(
            _("Password for {username} at {host}").format(
                username=server.username, host=server.host
            )
        ),
    )
