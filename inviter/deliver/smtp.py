"""An SMTP submission server through aiosmtplib: TLS, login, and each answer made an outcome.

aiosmtplib's exceptions are turned here, once, into transport.py's outcomes (sending.md, "How
aiosmtplib reports them"). Passwords and tokens never appear in an error, a log line or a repr.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiosmtplib

from inviter.config import SmtpSettings
from inviter.deliver.credentials import Credentials
from inviter.deliver.tls import client_context
from inviter.deliver.transport import (
    Accepted,
    ConnectionDropped,
    DeliveryError,
    LoginRefused,
)
from inviter.errors import ConfigError, ConnectionFailure
from inviter.translation import _


@dataclass(frozen=True)
class ServerOffers:
    """What an SMTP server offers, as ``inviter check`` reports it."""

    size_limit: int | None  # bytes (RFC 1870 SIZE); None when the server names no limit
    pipelining: bool
    smtputf8: bool
    eight_bit: bool
    auth: tuple[str, ...]  # the AUTH mechanisms of the last EHLO (after TLS)
    tls: str | None  # the TLS version of the connection, None in plain text


class SmtpTransport:
    """An SMTP submission server: TLS as set, certificates checked, one login per connection."""

    name = "smtp"
    max_connections: int | None = None

    def __init__(self, settings: SmtpSettings, credentials: Credentials) -> None:
        self.settings = settings
        self.credentials = credentials
        self._context: ssl.SSLContext | None = None

    def describe(self) -> str:
        """Name the server and how the connection is protected."""
        return f"{self.settings.host}:{self.settings.port} ({self.settings.security})"

    def connection(self) -> SmtpConnection:
        """Return a new, unopened SMTP connection; raise ConfigError for a bad ca_file."""
        if self._context is None and self.settings.security != "none":
            self._context = client_context(self.settings, "smtp")  # once for every connection
        return SmtpConnection(self.settings, self.credentials, self._context)


class SmtpConnection:
    """One aiosmtplib connection that sends many messages."""

    def __init__(
        self,
        settings: SmtpSettings,
        credentials: Credentials,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        if context is None and settings.security != "none":
            context = client_context(settings, "smtp")
        self.context = context
        self._smtp: aiosmtplib.SMTP | None = None

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        token_source = self.credentials.token
        oauth: Callable[[], Awaitable[str]] | None = None
        if token_source is not None:

            async def oauth_token() -> str:
                return token_source()

            oauth = oauth_token
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            # sending.md: start_tls=None silently stays in plain text when an attacker strips
            # STARTTLS from the EHLO answer; True makes its absence an error.
            use_tls=s.security == "tls",
            start_tls=s.security == "starttls",
            tls_context=self.context,  # certificates and host name checked (inviter/tls.py)
            timeout=s.timeout,  # per read/write, not per message (sending.md)
            username=self.credentials.username or None,
            password=self.credentials.password,
            oauth_token_generator=oauth,
        )

    async def open(self) -> None:
        """Connect, set up TLS and log in once; raise ConnectionFailure saying what failed."""
        self._smtp = smtp = self._client()
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            where = f"{self.settings.host}:{self.settings.port}"
            raise _connect_failure(exc, where, self.credentials.username) from None
        except ConfigError as exc:
            # A fresh OAuth token was needed for this connection and could not be had.
            smtp.close()
            raise LoginRefused(str(exc)) from None

    async def offers(self) -> ServerOffers:
        """What the open connection's server said it offers (EHLO, RFC 5321 §4.1.1.1)."""
        smtp = self._smtp
        if smtp is None:
            raise ConnectionDropped(_("not connected"), uncertain=False)
        if smtp.last_ehlo_response is None:
            # Without TLS or a login to do, aiosmtplib leaves EHLO for the first command.
            try:
                await smtp.ehlo()
            except (aiosmtplib.SMTPException, OSError) as exc:
                raise ConnectionFailure(f"EHLO: {_strip(exc)}") from None
        extensions = {name.lower(): value for name, value in smtp.esmtp_extensions.items()}
        size = extensions.get("size", "").strip()
        tls = None
        transport = getattr(smtp, "transport", None)
        if transport is not None and (ssl_object := transport.get_extra_info("ssl_object")):
            tls = str(ssl_object.version())
        return ServerOffers(
            size_limit=int(size) if size.isdigit() and int(size) > 0 else None,
            pipelining="pipelining" in extensions,
            smtputf8="smtputf8" in extensions,
            eight_bit="8bitmime" in extensions,
            auth=tuple(method.upper() for method in smtp.server_auth_methods),
            tls=tls,
        )

    async def send(self, sender: str, recipient: str, data: bytes) -> Accepted:
        """Send one message to one explicit recipient; raise DeliveryError/ConnectionDropped."""
        smtp = self._smtp
        if smtp is None or not smtp.is_connected:
            raise ConnectionDropped(_("not connected"), uncertain=False)
        stage = "MAIL"
        try:
            # MAIL, RCPT, DATA one by one so that a drop can be placed: before DATA nothing
            # was delivered; during DATA the server may have the message (sending.md). With
            # one explicit recipient, sendmail's "every RCPT refused" (SMTPRecipientsRefused)
            # is rcpt()'s SMTPRecipientRefused here, and carries the server's code the same way.
            await smtp.mail(sender)
            stage = "RCPT"
            await smtp.rcpt(recipient)
            stage = "DATA"
            # aiosmtplib makes the line ends CRLF and adds the last one itself (wire_bytes is
            # for the outbox copy): doing it here too cost the loop ~30 µs a message.
            response = await smtp.data(data)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset(exc.code)
            raise DeliveryError(exc.code, exc.message, stage=stage) from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as exc:
            self._drop()
            if isinstance(exc, aiosmtplib.SMTPTimeoutError):
                why = _("the server stalled the connection during {stage}")
            else:
                why = _("the server closed the connection during {stage}")
            raise ConnectionDropped(why.format(stage=stage), uncertain=stage == "DATA") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            self._drop()
            raise ConnectionDropped(f"{stage}: {_strip(exc)}", uncertain=stage == "DATA") from None
        return Accepted(response.code, response.message)

    async def _reset(self, code: int) -> None:
        """Clear the envelope after a refusal so the connection can carry the next message."""
        smtp = self._smtp
        if smtp is None or not smtp.is_connected or code == 421:
            self._drop()
            return
        try:
            await smtp.rset()
        except (aiosmtplib.SMTPException, OSError):
            self._drop()

    def abort(self) -> None:
        """Drop the connection at once, without QUIT."""
        self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()

    async def close(self) -> None:
        """Send QUIT if still connected; never raise."""
        smtp = self._smtp
        self._smtp = None
        if smtp is None:
            return
        try:
            if smtp.is_connected:
                await smtp.quit(timeout=5)
        except (aiosmtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()


def _connect_failure(exc: BaseException, where: str, username: str) -> ConnectionFailure:
    """Say in one line why a connection could not be opened (never with a secret in it)."""
    tls = _tls_error(exc)
    if tls is not None:
        # Implicit TLS reports this inside SMTPConnectError, STARTTLS as a bare SSLError.
        return ConnectionFailure(
            _(
                "{server}: TLS failed: {reason}; if the server uses a private certificate "
                "authority, set [smtp] ca_file"
            ).format(server=where, reason=tls)
        )
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        # The server's own answer stays as it said it, inside the translated sentence.
        return LoginRefused(
            _(
                "{server}: the server refused the login for '{username}': {answer}; "
                "check the username and INVITER_SMTP_PASSWORD (or the OAuth token)"
            ).format(server=where, username=username, answer=f"{exc.code} {exc.message}")
        )
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError):
        return ConnectionFailure(
            _("{server}: the server refused the connection: {answer}").format(
                server=where, answer=f"{exc.code} {exc.message}"
            )
        )
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPConnectTimeoutError):
        return ConnectionFailure(
            _("{server}: cannot connect: {reason}; check [smtp] host and port").format(
                server=where, reason=_strip(exc)
            )
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return ConnectionFailure(
            _("{server}: the server answered {answer}").format(
                server=where, answer=f"{exc.code} {exc.message}"
            )
        )
    if "AUTH EXTENSION IS NOT SUPPORTED" in str(exc).upper():
        # aiosmtplib's text goes on "Try connecting via TLS (or STARTTLS)", which misleads on a
        # server that offers no login at all (RFC 4954: no AUTH in its EHLO answer).
        return ConnectionFailure(
            _(
                "{server}: the server offers no login (no AUTH in its EHLO answer), so "
                "'{username}' cannot log in; remove [smtp] username for a server that needs "
                'none, or use security = "starttls" or "tls" if it offers AUTH only over TLS'
            ).format(server=where, username=username)
        )
    if "STARTTLS" in str(exc).upper():
        return ConnectionFailure(
            _(
                "{server}: the server does not offer STARTTLS; refusing to send in plain text "
                '([smtp] security = "starttls"; use "tls" for port 465)'
            ).format(server=where)
        )
    if isinstance(exc, OSError) and not isinstance(exc, aiosmtplib.SMTPException):
        return ConnectionFailure(
            _("{server}: cannot connect: {reason}").format(server=where, reason=exc.strerror or exc)
        )
    return ConnectionFailure(f"{where}: {_strip(exc)}")


def _tls_error(exc: BaseException | None) -> str | None:
    """Return the TLS reason behind an error (following its causes), or None."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return _("the server's certificate is not trusted ({reason})").format(
                reason=exc.verify_message or exc.reason
            )
        if isinstance(exc, ssl.SSLError):
            return str(exc.reason or exc)
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _strip(exc: BaseException) -> str:
    """Return an exception's message on one line."""
    return " ".join(str(exc).split())
