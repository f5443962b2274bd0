"""Replies Outlook saved as .msg files (OLE); their winmail.dat parts are read by tnef.py.

Outlook saves a received reply as a .msg holding MAPI properties instead of the calendar text
(MS-OXOCAL: the message class says the answer, PidLidGlobalObjectId holds the UID); a reply
Outlook received as iMIP without converting it keeps its .ics as an attachment. Outlook in RTF
mode wraps everything in application/ms-tnef (imip.md 16).
"""

from __future__ import annotations

import email.utils
import logging
from datetime import UTC, datetime
from typing import Any

import extract_msg

from inviter.addresses import normalize_email
from inviter.replies.calendar_reply import Answer
from inviter.replies.mail_files import read_mime
from inviter.replies.mail_reading import MailReading, is_calendar_attachment, read_calendar_bytes
from inviter.replies.tnef import read_tnef
from inviter.translation import _

# MS-OXOCAL 2.2.1.27: a UID that Outlook did not make is kept after this marker.
_VCAL_UID = b"vCal-Uid\x01\x00\x00\x00"
# The message class names the answer (MS-OXOCAL 2.2.6.1); TNEF carries the older names.
_RESPONSE_CLASSES = {
    "ipm.schedule.meeting.resp.pos": "ACCEPTED",
    "ipm.schedule.meeting.resp.neg": "DECLINED",
    "ipm.schedule.meeting.resp.tent": "TENTATIVE",
    "ipm.microsoft schedule.mtgrespp": "ACCEPTED",
    "ipm.microsoft schedule.mtgrespn": "DECLINED",
    "ipm.microsoft schedule.mtgrespa": "TENTATIVE",
}
_MAX_DEPTH = 5

# extract-msg and olefile log every oddity of a file at WARNING; the import reports its own.
logging.getLogger("extract_msg").setLevel(logging.ERROR)
logging.getLogger("olefile").setLevel(logging.ERROR)


def uid_from_global_object_id(data: bytes) -> str:
    """Return the iCalendar UID kept in a PidLidGlobalObjectId (MS-OXOCAL 2.2.1.27)."""
    at = data.find(_VCAL_UID)
    if at >= 0:
        text = data[at + len(_VCAL_UID) :].split(b"\x00", 1)[0]
        return text.decode("utf-8", "replace").strip()
    return data.hex().upper()  # Outlook's own id: it matches no UID of ours, and says so


def _aware(value: Any) -> datetime | None:
    """Return a datetime from extract-msg as aware UTC, or None."""
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


# PidTagSentRepresentingSmtpAddress, PidTagSenderSmtpAddress, PidTagSentRepresentingEmailAddress,
# PidTagSenderEmailAddress (MS-OXOMSG 2.2.1): the represented sender first (a delegate answering).
_SENDER_STREAMS = ("__substg1.0_5D02", "__substg1.0_5D01", "__substg1.0_0065", "__substg1.0_0C1F")


def _sender_addresses(msg: Any) -> list[str]:
    """Return the sender's addresses as the .msg records them, the represented sender first."""
    texts = [str(msg.getStringStream(stream) or "") for stream in _SENDER_STREAMS]
    texts.append(email.utils.parseaddr(str(msg.sender or ""))[1])
    found = []
    for text in texts:
        if "@" in text:
            try:
                found.append(normalize_email(text))
            except ValueError:
                continue
    return list(dict.fromkeys(found))


def _sender(msg: Any) -> str:
    """Return who answered: the represented sender (a delegate answering), else the sender."""
    found = _sender_addresses(msg)
    if not found:
        _name, address = email.utils.parseaddr(str(msg.sender or ""))
        return normalize_email(address)  # raises ValueError saying what is wrong with it
    return found[0]


def _meeting_response(msg: Any, reading: MailReading, now: datetime) -> None:
    """Turn an Outlook meeting response (MAPI properties, no calendar text) into an answer."""
    partstat = _RESPONSE_CLASSES.get(str(msg.classType or "").lower())
    if partstat is None:
        return
    reading.has_calendar = True
    goid = msg.globalObjectID
    raw_goid = bytes(goid.toBytes()) if goid is not None else b""
    if not raw_goid:
        reading.problems.append(
            _("Outlook {kind} without a meeting id (GlobalObjectId)").format(kind=msg.classType)
        )
        return
    try:
        attendee = _sender(msg)
    except ValueError as exc:
        reading.problems.append(
            _("Outlook {kind}: the sender's address: {error}").format(kind=msg.classType, error=exc)
        )
        return
    counter = bool(getattr(msg, "appointmentCounterProposal", False))
    name, _address = email.utils.parseaddr(str(msg.sender or ""))
    stamp = _aware(msg.attendeeCriticalChange) or _aware(msg.date) or now
    reading.answers.append(
        Answer(
            method="COUNTER" if counter else "REPLY",
            uid=uid_from_global_object_id(raw_goid),
            email=attendee,
            name=name[:200],
            partstat=partstat,
            # PidLidAppointmentSequence is a PT_LONG: signed, so never trust it below 0.
            sequence=max(0, int(msg.appointmentSequence or 0)),
            dtstamp=stamp,
            comment=str(msg.body or "").strip()[:2000],
            proposed_start=_aware(msg.appointmentProposedStartWhole) if counter else None,
            proposed_end=_aware(msg.appointmentProposedEndWhole) if counter else None,
        )
    )


def _read_msg_object(msg: Any, reading: MailReading, now: datetime, depth: int) -> None:
    """Read one opened .msg: a meeting response's properties, then its attachments."""
    stamp = _aware(getattr(msg, "date", None)) or now
    if hasattr(msg, "globalObjectID"):
        _meeting_response(msg, reading, now)
    for attachment in msg.attachments:
        data = attachment.data
        name = str(attachment.longFilename or attachment.shortFilename or "").lower()
        mime = str(getattr(attachment, "mimetype", "") or "").lower()
        label = _("attachment {name}").format(name=name or _("(no name)"))
        if isinstance(data, bytes):
            if is_calendar_attachment(name, mime, data):
                read_calendar_bytes(
                    data, reading, label=label, charset=None, method=None, stamp=stamp
                )
            elif name == "winmail.dat":
                read_tnef(data, reading, label=label, stamp=stamp)
            elif mime == "message/rfc822" or name.endswith(".eml"):
                inner = read_mime(data, now)
                reading.answers.extend(inner.answers)
                reading.problems.extend(inner.problems)
                reading.has_calendar |= inner.has_calendar
                reading.auto_reply |= inner.auto_reply
        elif data is not None and hasattr(data, "attachments") and depth < _MAX_DEPTH:
            _read_msg_object(data, reading, now, depth + 1)  # a forwarded message (embedded)


def read_msg(raw: bytes, now: datetime) -> MailReading:
    """Read an Outlook .msg file given as bytes."""
    reading = MailReading()
    try:
        msg = extract_msg.openMsg(raw, strict=False)
    except Exception as exc:  # extract-msg and olefile raise many kinds on a damaged file
        reading.problems.append(_("not a readable Outlook .msg file: {error}").format(error=exc))
        return reading
    try:
        reading.message_id = str(getattr(msg, "messageId", "") or "")
        reading.subject = str(getattr(msg, "subject", "") or "")
        senders = _sender_addresses(msg)
        reading.senders = frozenset(senders)
        reading.sender = senders[0] if senders else ""
        reading.received = _aware(getattr(msg, "receivedTime", None))
        _read_msg_object(msg, reading, now, 0)
    except Exception as exc:  # a property stream that is cut short or of the wrong type
        reading.problems.append(_("Outlook .msg cannot be read: {error}").format(error=exc))
    finally:
        msg.close()
    return reading
