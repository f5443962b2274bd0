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
from inviter.deliver.smtp import ServerOffers, SmtpTransport
from inviter.errors import ConnectionFailure
from inviter.locale.labels import format_number
from inviter.replies.imap import connect, encode_mailbox
from inviter.translation import _, ngettext


def _size(limit: int | None) -> str:
    if limit is None:
        return _("no size limit named")
    message = _("size limit {megabytes} MB ({bytes} bytes)")
    return message.format(megabytes=format_number(limit / 1_000_000, 1), bytes=format_number(limit))


def describe_offers(offers: ServerOffers) -> str:
    """One line of what an SMTP server offers."""
    parts = [
        _size(offers.size_limit),
        "PIPELINING" if offers.pipelining else _("no PIPELINING"),
        "SMTPUTF8" if offers.smtputf8 else _("no SMTPUTF8"),
    ]
    methods = " ".join(offers.auth) or _("none")
    message = _("offers: {offers}; login methods: {methods}")
    return message.format(offers=", ".join(parts), methods=methods)


def _security(security: str, tls: str | None, validate: bool) -> str:
    if security == "none":
        return _("plain text, no TLS (security = none)")
    how = "STARTTLS" if security == "starttls" else _("TLS from the first byte")
    checked = (
        _("certificate checked") if validate else _("certificate NOT checked (validate_certs)")
    )
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
    login = _("no login (no username)")
    if credentials.username:
        how = _("OAuth 2 token, XOAUTH2") if credentials.token else _("password")
        login = _("logged in as {user} ({how})").format(user=credentials.username, how=how)
    return [
        _("SMTP {host}:{port}: connected").format(host=smtp.host, port=smtp.port),
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
            message = _("{host}:{port}: [imap] folder '{folder}' cannot be opened: {answer}")
            raise ConnectionFailure(
                message.format(
                    host=imap.host, port=imap.port, folder=imap.folder, answer=answer or status
                )
            )
        messages = data[0].decode() if data and isinstance(data[0], bytes) else "?"
        count = int(messages) if messages.strip().isdigit() else 0
        folder = ngettext(
            "folder {folder}: {count} message", "folder {folder}: {count} messages", count
        ).format(folder=imap.folder, count=messages)
    except imaplib.IMAP4.error as exc:
        raise ConnectionFailure(f"{imap.host}:{imap.port}: {exc}") from None
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    how = _("password")
    if imap.auth == "xoauth2":
        how = _("OAuth 2 token, XOAUTH2")
    logged_in = _("logged in as {user} ({how}); {folder}")
    lines = [
        _("IMAP {host}:{port}: connected").format(host=imap.host, port=imap.port),
        f"  {_security(imap.security, tls, imap.validate_certs)}",
        "  " + logged_in.format(user=imap.username, how=how, folder=folder),
        "  " + _("offers: {capabilities}").format(capabilities=capabilities),
    ]
    return lines + ["  " + _("Warning: {message}").format(message=w) for w in warnings]
