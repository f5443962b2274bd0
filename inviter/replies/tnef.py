"""winmail.dat (application/ms-tnef), in which Outlook in RTF mode wraps a reply (imip.md 16)."""

from __future__ import annotations

import logging
import struct
from datetime import datetime

import tnefparse

from inviter.replies.mail_reading import MailReading, is_calendar_attachment, read_calendar_bytes

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
        reading.problems.append(f"{label} cannot be decoded: {exc}")
        return
    found = False
    for name, body in attachments:
        if body and is_calendar_attachment(name, "", body):
            found = True
            read_calendar_bytes(
                body, reading, label=f"{label} {name or 'attachment'}", charset=None,
                method=None, stamp=stamp,
            )  # fmt: skip
    if not found:
        what = f"an Outlook {kind} message" if kind else "Outlook rich text"
        reading.has_calendar = True
        reading.problems.append(
            f"{label} holds {what} without a calendar part; open it in Outlook and record "
            "the answer with 'inviter rsvp set'"
        )
