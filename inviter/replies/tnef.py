"""winmail.dat (application/ms-tnef), in which Outlook in RTF mode wraps a reply (imip.md 16)."""

from __future__ import annotations

import logging
from datetime import datetime

import tnefparse

from inviter.replies.mail_reading import MailReading, is_calendar_attachment, read_calendar_bytes

# tnefparse logs every oddity of a file at WARNING; the import reports its own.
logging.getLogger("tnefparse").setLevel(logging.ERROR)


def read_tnef(data: bytes, reading: MailReading, *, label: str, stamp: datetime) -> None:
    """Read a winmail.dat: its calendar attachments, or a note for review if it holds none."""
    try:
        tnef = tnefparse.TNEF(data, do_checksum=False)
    except Exception as exc:  # tnefparse raises ValueError, IndexError, struct.error…
        reading.problems.append(f"{label} cannot be decoded: {exc}")
        return
    found = False
    for attachment in tnef.attachments:
        body = attachment.data if isinstance(attachment.data, bytes) else b""
        name = str(attachment.long_filename() or "").lower()
        if body and is_calendar_attachment(name, "", body):
            found = True
            read_calendar_bytes(
                body, reading, label=f"{label} {name or 'attachment'}", charset=None,
                method=None, stamp=stamp,
            )  # fmt: skip
    if not found:
        kind = next(
            (str(o.data) for o in tnef.msgprops if o.name == tnefparse.TNEF.ATTMESSAGECLASS), ""
        )
        what = f"an Outlook {kind} message" if kind else "Outlook rich text"
        reading.has_calendar = True
        reading.problems.append(
            f"{label} holds {what} without a calendar part; open it in Outlook and record "
            "the answer with 'inviter rsvp set'"
        )
