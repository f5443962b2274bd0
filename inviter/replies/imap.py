"""Fetch replies from the organizer's mailbox over IMAP (RFC 3501), leaving it as it was.

Messages are read with BODY.PEEK[] in a folder opened with EXAMINE (read-only), so no flag
changes; only with ``move_to`` set is the folder opened read-write, to move handled replies.
What was read is remembered per folder as UIDVALIDITY + the highest UID handled (ImapMark).
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import ssl
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from inviter.config import Settings
from inviter.deliver.credentials import LOOPBACK, resolve_credentials
from inviter.deliver.tls import client_context
from inviter.errors import ConfigError, ConnectionFailure
from inviter.replies.mail_files import MailItem
from inviter.replies.recording import ImportReport, ReplyRecorder
from inviter.store.database import Database
from inviter.store.models import ImapMark
from inviter.translation import _

FETCH_BATCH = 50
# RFC 3501 §9: UIDs and UIDVALIDITY are nz-number, at most 4,294,967,295.
_MAX_NUMBER = 2**32 - 1
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def encode_mailbox(name: str) -> str:
    """Encode a folder name in IMAP's modified UTF-7 (RFC 3501 §5.1.3) and quote it."""
    out, pending = [], ""

    def flush() -> None:
        nonlocal pending
        if pending:
            import base64

            data = base64.b64encode(pending.encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + data.replace("/", ",") + "-")
            pending = ""

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending += char
    flush()
    text = "".join(out)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def connect(
    settings: Settings,
    *,
    env: Mapping[str, str] | None = None,
    password_prompt: Callable[[str], str] | None = None,
    warnings: list[str] | None = None,
) -> imaplib.IMAP4:
    """Open, secure and log in; ConnectionFailure (exit 3) when refused or unreachable."""
    imap = settings.imap
    env = os.environ if env is None else env
    if not imap.host:
        raise ConfigError(
            _("{file}: [imap] host: is required for rsvp fetch").format(
                file=settings.config_path.name
            )
        )
    if not imap.username:
        raise ConfigError(
            _("{file}: [imap] username: is required").format(file=settings.config_path.name)
        )
    where = f"{imap.host}:{imap.port}"
    notes = warnings if warnings is not None else []
    if imap.security == "none":
        if imap.host in LOOPBACK:
            note = _(
                "{server}: security = none: the login and the replies cross the network unencrypted"
            )
        else:
            note = _(
                "{server}: security = none: the login and the replies cross the network "
                "unencrypted (set security = tls or starttls)"
            )
        notes.append(note.format(server=where))
    if not imap.validate_certs:
        notes.append(
            _("{server}: validate_certs = false: the server's identity is not checked").format(
                server=where
            )
        )
    credentials = resolve_credentials(imap, env, password_prompt, section="imap")
    client: imaplib.IMAP4 | None = None
    try:
        if imap.security == "tls":
            client = imaplib.IMAP4_SSL(
                imap.host, imap.port, ssl_context=client_context(imap, "imap"), timeout=imap.timeout
            )
        else:
            client = imaplib.IMAP4(imap.host, imap.port, timeout=imap.timeout)
            if imap.security == "starttls":
                if "STARTTLS" not in client.capabilities:
                    raise ConnectionFailure(
                        _("{server}: the server does not offer STARTTLS").format(server=where)
                    )
                client.starttls(ssl_context=client_context(imap, "imap"))
        if credentials.token is not None:
            blob = f"user={imap.username}\x01auth=Bearer {credentials.token()}\x01\x01".encode()
            client.authenticate("XOAUTH2", _xoauth2(blob))
        elif (secret := credentials.password or "").isascii() and imap.username.isascii():
            client.login(imap.username, secret)
        else:
            # LOGIN takes ASCII only in imaplib; SASL PLAIN carries UTF-8 (RFC 4616).
            plain = b"\0" + imap.username.encode() + b"\0" + secret.encode()
            client.authenticate("PLAIN", lambda _challenge: plain)
        # imaplib keeps the greeting's capabilities; MOVE and UIDPLUS are announced after login.
        _status, listed = client.capability()
        if listed and isinstance(listed[-1], bytes):
            client.capabilities = tuple(listed[-1].decode().upper().split())
    except ConnectionFailure:
        _close(client)
        raise
    except ssl.SSLError as exc:
        _close(client)
        raise ConnectionFailure(
            _("{server}: TLS failed: {reason}").format(server=where, reason=exc.reason or exc)
        ) from None
    except (TimeoutError, OSError) as exc:
        _close(client)
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ConnectionFailure(
            _("{server}: cannot connect: {reason}").format(server=where, reason=reason)
        ) from None
    except imaplib.IMAP4.error as exc:
        _close(client)
        # The server's words only: imaplib never echoes the password into its errors.
        raise ConnectionFailure(
            _("{server}: login refused for '{username}': {reason}").format(
                server=where, username=imap.username, reason=_text(exc)
            )
        ) from None
    return client


def _xoauth2(blob: bytes) -> Callable[[bytes], bytes]:
    """Answer XOAUTH2's challenges: the token first, then an empty line.

    A refused token comes back as a second challenge holding a JSON error; the client must
    answer it with an empty response before the server sends NO (RFC 7628 §3.2.3, Google's
    and Microsoft's XOAUTH2 pages). Sending the token again would repeat the secret and is not
    what the server expects.
    """
    answers = iter([blob])
    return lambda _challenge: next(answers, b"")


def _text(exc: BaseException) -> str:
    """Return an imaplib error's server text, without the b'' wrapping."""
    text = str(exc)
    match = re.fullmatch(r"\[?b?'(.*)'\]?", text)
    return match.group(1) if match else text


def _close(client: imaplib.IMAP4 | None) -> None:
    """Log out quietly (the connection may already be gone)."""
    if client is None:
        return
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        client.logout()


def _check(result: tuple[str, list[object]], what: str) -> list[object]:
    """Raise ConnectionFailure when a command's status is not OK."""
    status, data = result
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ConnectionFailure(
            _("IMAP {command} failed: {detail}").format(command=what, detail=detail)
        )
    return data


def _number(text: bytes | str, what: str) -> int:
    """Read an nz-number the server sent; junk is the server's fault, not a traceback."""
    value = text.decode("ascii", "replace") if isinstance(text, bytes) else text
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= _MAX_NUMBER:
        raise ConnectionFailure(
            _("IMAP server sent {what} {value}, not a number").format(
                what=what, value=repr(value[:40])
            )
        )
    return int(value)


def _internaldate(head: bytes) -> datetime | None:
    """Return the INTERNALDATE of a FETCH answer (when the server received the message)."""
    match = _INTERNALDATE.search(head)
    if not match:
        return None
    try:
        # RFC 3501 date-time: "03-Dec-2026 10:00:00 +0100"; month names are English.
        moment = datetime.strptime(match.group(1).decode("ascii"), "%d-%b-%Y %H:%M:%S %z")
    except (UnicodeDecodeError, ValueError):
        return None
    return moment.astimezone(UTC)


def _fetch(client: imaplib.IMAP4, uids: Sequence[int], folder: str) -> dict[int, MailItem]:
    """Return the messages of some UIDs, keyed by the UID each answer names.

    Read with BODY.PEEK[] (no \\Seen). A message expunged between SEARCH and FETCH (staff
    deleting it in Outlook at that moment) is simply absent: never pair answers by position.
    """
    data = _check(
        client.uid("FETCH", ",".join(map(str, uids)), "(UID INTERNALDATE BODY.PEEK[])"), "FETCH"
    )
    found: dict[int, MailItem] = {}
    for entry in data:
        if isinstance(entry, tuple) and len(entry) == 2:
            match = re.search(rb"UID (\d+)", entry[0])
            if match:
                uid = _number(match.group(1), "UID")
                found[uid] = MailItem(
                    f"imap {folder} UID {uid}",  # stored as it is: Reply.source
                    bytes(entry[1]),
                    received=_internaldate(entry[0]),
                    label=_("imap {folder} UID {uid}").format(folder=folder, uid=uid),
                )
    return found


def _move(client: imaplib.IMAP4, uids: Sequence[int], target: str) -> None:
    """Move messages: MOVE (RFC 6851) where offered, else COPY + \\Deleted + EXPUNGE."""
    uid_set = ",".join(map(str, uids))
    if "MOVE" in client.capabilities:
        _check(client.uid("MOVE", uid_set, target), "MOVE")
        return
    _check(client.uid("COPY", uid_set, target), "COPY")
    _check(client.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
    if "UIDPLUS" in client.capabilities:
        _check(client.uid("EXPUNGE", uid_set), "UID EXPUNGE")
    else:
        _check(client.expunge(), "EXPUNGE")


def fetch_replies(
    settings: Settings,
    db: Database,
    *,
    password_prompt: Callable[[str], str] | None = None,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Record new replies from the [imap] folder; move handled ones if move_to is set."""
    imap = settings.imap
    warnings: list[str] = []
    client = connect(settings, env=env, password_prompt=password_prompt, warnings=warnings)
    recorder = ReplyRecorder(db, now=now, all_plain=False, organizer=settings.organizer.email)
    recorder.report.warnings.extend(warnings)
    mailbox_key = f"{imap.username}@{imap.host}:{imap.port}/{imap.folder}"
    try:
        try:
            status, _data = client.select(encode_mailbox(imap.folder), readonly=not imap.move_to)
        except imaplib.IMAP4.error as exc:
            raise ConnectionFailure(
                _("IMAP folder '{folder}': {reason}").format(folder=imap.folder, reason=_text(exc))
            ) from None
        if status != "OK":
            raise ConnectionFailure(
                _("IMAP folder '{folder}' cannot be opened").format(folder=imap.folder)
            )
        if imap.move_to and _missing(client, imap.move_to):
            _check(client.create(encode_mailbox(imap.move_to)), "CREATE")
        validity_data = client.response("UIDVALIDITY")[1]
        if not validity_data or not isinstance(validity_data[0], bytes | str):
            raise ConnectionFailure(
                _("IMAP folder '{folder}': the server sent no UIDVALIDITY").format(
                    folder=imap.folder
                )
            )
        validity = _number(validity_data[0], "UIDVALIDITY")
        with db.reading() as session:
            mark = session.scalar(select(ImapMark).where(ImapMark.mailbox == mailbox_key))
            last = mark.last_uid if mark and mark.uidvalidity == validity else 0
        found = _check(client.uid("SEARCH", "UID", f"{last + 1}:*"), "SEARCH")
        listed = found[0] if found and isinstance(found[0], bytes) else b""
        # "n:*" always matches the newest message, even below n (RFC 3501 §6.4.8).
        uids = sorted(u for u in (_number(t, "UID") for t in listed.split()) if u > last)
        for start in range(0, len(uids), FETCH_BATCH):
            chunk = uids[start : start + FETCH_BATCH]
            messages = sorted(_fetch(client, chunk, imap.folder).items())
            outcomes = recorder.record([item for _uid, item in messages])
            handled = [
                uid for (uid, _item), o in zip(messages, outcomes, strict=True) if o == "reply"
            ]
            # Past the whole chunk: a message listed for review is not read again next time.
            _remember(db, mailbox_key, validity, chunk[-1])
            if imap.move_to and handled:
                _move(client, handled, encode_mailbox(imap.move_to))
                recorder.report.moved += len(handled)
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise ConnectionFailure(
            _("{server}: connection lost: {error}").format(
                server=f"{imap.host}:{imap.port}", error=exc
            )
        ) from None
    except imaplib.IMAP4.error as exc:
        # A BAD or NO answer imaplib raises itself (RFC 3501 §7.1): the server's words.
        raise ConnectionFailure(
            _("{server}: the server refused: {reason}").format(
                server=f"{imap.host}:{imap.port}", reason=_text(exc)
            )
        ) from None
    finally:
        _close(client)
    return recorder.report


def _missing(client: imaplib.IMAP4, folder: str) -> bool:
    """True when a folder does not exist yet (it is then created for move_to)."""
    status, data = client.list('""', encode_mailbox(folder))
    return status != "OK" or not [d for d in data if d]


def _remember(db: Database, mailbox: str, validity: int, last_uid: int) -> None:
    """Store how far the folder has been read."""
    with db.session() as session:
        mark = session.scalar(select(ImapMark).where(ImapMark.mailbox == mailbox))
        if mark is None:
            session.add(ImapMark(mailbox=mailbox, uidvalidity=validity, last_uid=last_uid))
        else:
            mark.uidvalidity, mark.last_uid = validity, last_uid
