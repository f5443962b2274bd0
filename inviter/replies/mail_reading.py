"""What one message holds for inviter, and how one calendar part of it is read.

The innermost layer of reading mail, shared by the MIME reader (mailbox.py), winmail.dat
(tnef.py) and Outlook's .msg files (outlook.py): each of those may hold the others, so none of
them may be what the others import for these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from inviter.replies.bounces import DeliveryReport
from inviter.replies.calendar_adapter import CalendarError
from inviter.replies.calendar_reply import Answer, read_calendar
from inviter.translation import _

CALENDAR_TYPES = frozenset(
    {"text/calendar", "application/ics", "text/x-vcalendar", "application/x-ics", "text/vcalendar"}
)


@dataclass
class MailReading:
    """What one message holds: its answers, or the reasons it holds none."""

    message_id: str = ""
    subject: str = ""
    answers: list[Answer] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    has_calendar: bool = False
    auto_reply: bool = False
    references: tuple[str, ...] = ()
    # Who sent it: the addresses of From, Sender and Reply-To (SPEC: an answer counts when its
    # attendee is one of them), the From address to show, and when it reached the mailbox.
    senders: frozenset[str] = frozenset()
    sender: str = ""
    received: datetime | None = None
    report: DeliveryReport | None = None  # a delivery report (bounce or delay), if it is one


def is_calendar_attachment(name: str, mime: str, data: bytes) -> bool:
    """True for an attachment that is a calendar, by type, name or content."""
    return (
        mime in CALENDAR_TYPES
        or name.endswith((".ics", ".vcs"))
        or data.lstrip()[:15].upper() == b"BEGIN:VCALENDAR"
    )


def read_calendar_bytes(
    data: bytes,
    reading: MailReading,
    *,
    label: str,
    charset: str | None,
    method: str | None,
    stamp: datetime,
) -> None:
    """Read one calendar part into ``reading``: its answers, or the problem with it."""
    reading.has_calendar = True
    try:
        result = read_calendar(data, charset=charset, content_method=method, fallback_stamp=stamp)
    except CalendarError as exc:
        reading.problems.append(_("{part} cannot be read: {error}").format(part=label, error=exc))
        return
    if result.problem:
        reading.problems.append(f"{label}: {result.problem}")
    reading.answers.extend(result.answers)
