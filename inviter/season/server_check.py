"""``inviter check``: log in to the mail servers as ``send`` and ``rsvp fetch`` will, send nothing.

Each step that ``send`` would take is taken and told: the connection, TLS (STARTTLS or TLS from
the first byte) with the certificate checked, the login (password or OAuth 2 token), then what
the server offers (its size limit, PIPELINING, the login methods). A step that fails is a
ConnectionFailure (exit 3) carrying the server's own answer, from the same code ``send`` uses.
"""

from __future__ import annotations

import contextlib
import imaplib
from collections.abc import Callable, Mapping

from inviter.config import Settings
from inviter.deliver.credentials import resolve_credentials
from inviter.deliver.transport import ServerOffers, SmtpTransport
from inviter.errors import ConnectionFailure
from inviter.replies.imap import connect, encode_mailbox


def _size(limit: int | None) -> str:
    if limit is None:
        return "no size limit named"
    return f"size limit {limit / 1_000_000:.1f} MB ({limit:,} bytes)"


def describe_offers(offers: ServerOffers) -> str:
    """One line of what an SMTP server offers."""
    parts = [
        _size(offers.size_limit),
        "PIPELINING" if offers.pipelining else "no PIPELINING",
        "SMTPUTF8" if offers.smtputf8 else "no SMTPUTF8",
    ]
    methods = " ".join(offers.auth) or "none"
    return f"offers: {', '.join(parts)}; login methods: {methods}"


def _security(security: str, tls: str | None, validate: bool) -> str:
    if security == "none":
        return "plain text, no TLS (security = none)"
    how = "STARTTLS" if security == "starttls" else "TLS from the first byte"
    checked = "certificate checked" if validate else "certificate NOT checked (validate_certs)"
    return f"{how}, {tls or 'TLS'}, {checked}"


async def check_smtp(
    settings: Settings, env: Mapping[str, str], prompt: Callable[[str], str] | None
) -> list[str]:
    """Connect, secure and log in to [smtp]; return what was found, a line each."""
    smtp = settings.smtp
    credentials = resolve_credentials(smtp, env, prompt, section="smtp")
    connection = SmtpTransport(smtp, credentials).connection()
    await connection.open()  # ConnectionFailure with the server's answer, as in send
    try:
        offers = await connection.offers()
    finally:
        await connection.close()
    login = "no login (no username)"
    if credentials.username:
        how = "OAuth 2 token, XOAUTH2" if credentials.token else "password"
        login = f"logged in as {credentials.username} ({how})"
    return [
        f"SMTP {smtp.host}:{smtp.port}: connected",
        f"  {_security(smtp.security, offers.tls, smtp.validate_certs)}",
        f"  {login}",
        f"  {describe_offers(offers)}",
    ]


def check_imap(
    settings: Settings, env: Mapping[str, str], prompt: Callable[[str], str] | None
) -> list[str]:
    """Connect, secure and log in to [imap]; return what was found, a line each."""
    imap = settings.imap
    warnings: list[str] = []
    client = connect(settings, env=env, password_prompt=prompt, warnings=warnings)
    try:
        tls = None
        sock = getattr(client, "sock", None)
        if sock is not None and hasattr(sock, "version"):
            tls = sock.version()
        capabilities = " ".join(sorted(client.capabilities))
        status, data = client.select(encode_mailbox(imap.folder), readonly=True)
        if status != "OK":
            answer = data[0].decode(errors="replace") if data and isinstance(data[0], bytes) else ""
            raise ConnectionFailure(
                f"{imap.host}:{imap.port}: [imap] folder '{imap.folder}' cannot be opened: "
                f"{answer or status}"
            )
        messages = data[0].decode() if data and isinstance(data[0], bytes) else "?"
        folder = f"folder {imap.folder}: {messages} messages"
    except imaplib.IMAP4.error as exc:
        raise ConnectionFailure(f"{imap.host}:{imap.port}: {exc}") from None
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    how = "password"
    if imap.auth == "xoauth2":
        how = "OAuth 2 token, XOAUTH2"
    lines = [
        f"IMAP {imap.host}:{imap.port}: connected",
        f"  {_security(imap.security, tls, imap.validate_certs)}",
        f"  logged in as {imap.username} ({how}); {folder}",
        f"  offers: {capabilities}",
    ]
    return lines + [f"  Warning: {w}" for w in warnings]
