"""Mail containers (.eml, mbox, Maildir, a folder of files) and the parts of a MIME message.

imip.md 16: walk every MIME part, forwarded message/rfc822 included; calendars come as
text/calendar, application/ics or text/x-vcalendar, inline or attached, and from Outlook in RTF
mode inside application/ms-tnef (winmail.dat).
"""

from __future__ import annotations

import email.header
import email.utils
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

from inviter.addresses import normalize_email
from inviter.replies.bounces import read_delivery_report
from inviter.replies.mail_reading import CALENDAR_TYPES, MailReading, read_calendar_bytes
from inviter.replies.tnef import read_tnef
from inviter.text import one_line
from inviter.translation import _

TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A reply is a few kilobytes; a message of more than this is not read (hostile or not a reply).
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
_MBOX_FROM = re.compile(rb"^>+From ")
# Python's email parser descends one level of recursion per nested multipart or message/rfc822,
# so ~1,000 nested parts (a 43 KB message) raise RecursionError. A reply holds a handful; any
# message declaring more containers than this is refused before parsing, whatever their depth.
MAX_CONTAINERS = 100
_CONTAINER = re.compile(rb"(?im)^content-type:\s*(?:multipart|message)/")
# Decoding RFC 2047 encoded words costs the square of the header's length (a 5 MB Subject
# takes minutes); RFC 5322 §2.1.1 lines are 998 characters, and no header we show or match
# needs more than a few of them.
MAX_HEADER_CHARS = 8192
# RFC 5322 §3.2.3 atext in the local part, a dotted LDH domain: valid as it stands.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


@dataclass(frozen=True)
class MailItem:
    """One message to read: where it came from (for people) and its raw bytes.

    ``where`` is stored with what the message holds (Reply.source, RawMessage.source) as it
    always was, in English; ``label`` says the same in the language staff read, when it differs
    (a message of an mbox, a UID in an IMAP folder), for the review list and the warnings.
    """

    where: str
    raw: bytes
    kind: str = "mime"  # "mime" (RFC 5322 bytes), "msg" (Outlook .msg) or "ics" (a bare calendar)
    received: datetime | None = None  # when the mailbox got it, if the mailbox says (IMAP)
    label: str = ""

    @property
    def shown(self) -> str:
        """Where the message came from, as staff read it."""
        return self.label or self.where


@dataclass(frozen=True)
class Unreadable:
    """A file or message that could not even be taken out of its container."""

    where: str
    reason: str


def iter_mail(path: Path) -> Iterator[MailItem | Unreadable]:
    """Yield every message under ``path``: a Maildir, a folder, an mbox, an .eml or a .msg."""
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            yield from _iter_maildir(path)
            return
        for child in sorted(path.iterdir()):
            if not child.name.startswith("."):
                yield from iter_mail(child)
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        yield Unreadable(str(path), _cannot_read(exc))
        return
    if head.startswith(OLE_MAGIC):
        yield from _read_whole(path, kind="msg")
    elif head.lstrip(b"\xef\xbb\xbf \t\r\n").upper().startswith(b"BEGIN:VC"):
        # A calendar saved from a message (the reply's invite.ics): no headers, no sender.
        yield from _read_whole(path, kind="ics")
    elif head.startswith(b"From "):
        yield from iter_mbox(path)
    else:
        yield from _read_whole(path, kind="mime")


def _read_whole(path: Path, *, kind: str) -> Iterator[MailItem | Unreadable]:
    """Yield one file as one message, refusing an oversized one."""
    try:
        size = path.stat().st_size
        if size > MAX_MESSAGE_BYTES:
            yield Unreadable(
                str(path), _("{size} bytes: too big for a reply, not read").format(size=size)
            )
            return
        yield MailItem(str(path), path.read_bytes(), kind)
    except OSError as exc:
        yield Unreadable(str(path), _cannot_read(exc))


def _cannot_read(exc: OSError) -> str:
    return _("cannot be read: {error}").format(error=exc.strerror)


def _iter_maildir(path: Path) -> Iterator[MailItem | Unreadable]:
    """Yield the messages of a Maildir (cur/ and new/; tmp/ holds deliveries in progress)."""
    for sub in ("cur", "new"):
        folder = path / sub
        if folder.is_dir():
            for child in sorted(folder.iterdir()):
                if child.is_file() and not child.name.startswith("."):
                    yield from _read_whole(child, kind="mime")


def iter_mbox(path: Path) -> Iterator[MailItem | Unreadable]:
    """Yield the messages of an mbox file one at a time, never holding the whole file.

    The "From " separator is recognised at the start of a line; ">From " lines are unquoted as
    mboxrd writes them (mboxo's quoting is ambiguous; the difference never touches a calendar).
    """
    index = 0
    lines: list[bytes] = []
    size = 0
    too_big = False

    def item() -> MailItem | Unreadable:
        where = f"{path}, message {index}"  # stored as it is: Reply.source
        label = _("{file}, message {number}").format(file=path, number=index)
        if too_big:
            return Unreadable(
                label,
                _("more than {size} bytes: too big for a reply").format(size=MAX_MESSAGE_BYTES),
            )
        # The blank line before the next "From " belongs to the separator, not the message.
        if lines and lines[-1] in {b"\n", b"\r\n"}:
            lines.pop()
        return MailItem(where, b"".join(lines), label=label)

    try:
        with path.open("rb") as handle:
            for line in handle:
                if line.startswith(b"From "):
                    if index:
                        yield item()
                    index += 1
                    lines, size, too_big = [], 0, False
                    continue
                if not index:
                    continue  # text before the first separator belongs to no message
                size += len(line)
                if size > MAX_MESSAGE_BYTES:
                    too_big, lines = True, []
                elif not too_big:
                    lines.append(line[1:] if _MBOX_FROM.match(line) else line)
            if index:
                yield item()
    except OSError as exc:
        yield Unreadable(str(path), _cannot_read(exc))


def parse_message(raw: bytes) -> Message:
    """Parse RFC 5322 bytes leniently (compat32 never raises on a malformed header)."""
    return BytesParser(policy=compat32).parsebytes(raw)


def _raw_header(message: Message, name: str) -> str:
    """Return a header's raw text cut to MAX_HEADER_CHARS, or ""."""
    value = message.get(name)
    return "" if value is None else str(value)[:MAX_HEADER_CHARS]


def _header(message: Message, name: str) -> str:
    """Return a header as text, encoded words decoded, control characters dropped."""
    value = _raw_header(message, name)
    if not value:
        return ""
    try:
        text = str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        text = str(value)
    return one_line(text)


def _parse_date(text: str) -> datetime | None:
    """Parse an RFC 5322 date as aware UTC, or None."""
    try:
        moment = email.utils.parsedate_to_datetime(text)
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def message_date(message: Message, default: datetime) -> datetime:
    """Return the Date header as an aware UTC datetime, or ``default``."""
    return _parse_date(_raw_header(message, "Date")) or default


def arrival(message: Message) -> datetime | None:
    """Return when the message reached the mailbox: the date of its topmost Received header.

    RFC 5321 §4.4: each server prepends a Received line ending in "; date", so the first one
    is written by the organizer's own server, beyond the sender's reach (unlike Date).
    """
    top = _raw_header(message, "Received")
    return _parse_date(top.rpartition(";")[2].strip()) if ";" in top else None


def _identity(address: str) -> str:
    """Return an address in the identity form ATTENDEE addresses are compared in.

    The plain ASCII shape every real sender has is lower-cased directly; anything else goes
    through the full check (email-validator costs a tenth of an import's time otherwise).
    """
    if _PLAIN_ADDRESS.fullmatch(address):
        return address.lower()
    return normalize_email(address)


def senders_of(message: Message) -> tuple[frozenset[str], str]:
    """Return the addresses of From, Sender and Reply-To, and the From address alone."""
    found: list[str] = []
    first = ""
    for name in ("From", "Sender", "Reply-To"):
        for _display, address in email.utils.getaddresses([_raw_header(message, name)]):
            try:
                normal = _identity(address)
            except ValueError:
                continue
            found.append(normal)
            if name == "From" and not first:
                first = normal
    return frozenset(found), first


def is_auto_reply(message: Message) -> bool:
    """True for an out-of-office or other automatic answer (RFC 3834 and common variants)."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto not in {"", "no"}
        or precedence in {"auto_reply", "bulk", "junk"}
        or message.get("X-Autoreply") is not None
        or message.get("X-Autorespond") is not None
    )


def read_mime(raw: bytes, now: datetime) -> MailReading:
    """Read a MIME message: every calendar part, forwarded messages and winmail.dat included."""
    containers = len(_CONTAINER.findall(raw))
    if containers > MAX_CONTAINERS:
        problem = _("{count} nested MIME parts (more than {limit}): not a reply").format(
            count=containers, limit=MAX_CONTAINERS
        )
        return MailReading(problems=[problem])
    message = parse_message(raw)
    refs = f"{_raw_header(message, 'In-Reply-To')} {_raw_header(message, 'References')}"
    senders, sender = senders_of(message)
    reading = MailReading(
        message_id=_header(message, "Message-ID"),
        subject=_header(message, "Subject"),
        auto_reply=is_auto_reply(message),
        references=tuple(re.findall(r"<[^<>\s]+>", refs)),
        senders=senders,
        sender=sender,
        received=arrival(message),
    )
    reading.report = read_delivery_report(message, auto_reply=reading.auto_reply)
    stamp = message_date(message, now)
    for number, part in enumerate(message.walk(), start=1):
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = (part.get_filename() or "").lower()
        label = _("part {number} ({type})").format(number=number, type=ctype)
        is_file_calendar = filename.endswith((".ics", ".vcs")) and ctype in {
            "application/octet-stream",
            "text/plain",
        }
        if ctype in CALENDAR_TYPES or is_file_calendar:
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                read_calendar_bytes(
                    data,
                    reading,
                    label=label,
                    charset=part.get_content_charset(),
                    method=str(part.get_param("method") or "") or None,
                    stamp=stamp,
                )
        elif ctype in TNEF_TYPES or filename == "winmail.dat":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                read_tnef(data, reading, label=f"{label} winmail.dat", stamp=stamp)
    # Google and Thunderbird send the same calendar inline and as an attachment.
    reading.answers = list(dict.fromkeys(reading.answers))
    return reading
