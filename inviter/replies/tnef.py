"""winmail.dat (application/ms-tnef), in which Outlook in RTF mode wraps a reply (imip.md 16)."""

from __future__ import annotations

import logging
import struct
from datetime import datetime

import tnefparse

from inviter.replies.mail_reading import MailReading, is_calendar_attachment, read_calendar_bytes
from inviter.translation import _

# tnefparse logs every oddity of a file at WARNING; the import reports its own.
logging.getLogger("tnefparse").setLevel(logging.ERROR)


# What tnefparse 1.4 raises on a damaged or cut-short file, found by feeding it random bytes
# (tests/test_hostile.py keeps doing so): its own ValueError and assert, struct.error on a short
# field, TypeError and UnboundLocalError from code paths a truncated attribute reaches, and
# UnicodeDecodeError from a name. Anything else is a fault of inviter's and is not hidden.
DAMAGED = (
    ValueError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    UnboundLocalError,
    AssertionError,
    OverflowError,
)


def read_tnef(data: bytes, reading: MailReading, *, label: str, stamp: datetime) -> None:
    """Read a winmail.dat: its calendar attachments, or a note for review if it holds none.

    Every call adds to ``reading`` at least one answer or one problem starting with ``label``.
    """
    try:
        tnef = tnefparse.TNEF(data, do_checksum=False)
        attachments = [
            (str(a.long_filename() or "").lower(), a.data if isinstance(a.data, bytes) else b"")
            for a in tnef.attachments
        ]
        kind = next(
            (str(o.data) for o in tnef.msgprops if o.name == tnefparse.TNEF.ATTMESSAGECLASS), ""
        )
    except DAMAGED as exc:  # UnicodeDecodeError is a ValueError
        reading.problems.append(
            _("{part} cannot be decoded: {error}").format(part=label, error=exc)
        )
        return
    found = False
    for name, body in attachments:
        if body and is_calendar_attachment(name, "", body):
            found = True
            shown = name or _("attachment")
            read_calendar_bytes(
                body, reading, label=f"{label} {shown}", charset=None, method=None, stamp=stamp
            )
    if not found:
        reading.has_calendar = True
        if kind:
            problem = _(
                "{part} holds an Outlook {kind} message without a calendar part; open it in "
                "Outlook and record the answer with 'inviter rsvp set'"
            ).format(part=label, kind=kind)
        else:
            problem = _(
                "{part} holds Outlook rich text without a calendar part; open it in Outlook and "
                "record the answer with 'inviter rsvp set'"
            ).format(part=label)
        reading.problems.append(problem)
