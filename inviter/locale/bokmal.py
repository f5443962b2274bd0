"""Words in Norwegian Bokmål for the printed lists and the programme report.

Dates and times come from inviter.dates, the same writing as in the invitations, so a list
and the invitation it belongs to say the meeting's time alike.
"""

from __future__ import annotations

from datetime import datetime

from inviter.domain import Meeting
from inviter.locale.dates import format_date, format_time, format_when, month_name

UNKNOWN_REGION_LABEL = "Ukjent region"


def long_date(moment: datetime) -> str:
    """Return e.g. ``onsdag 9. november 2022``."""
    return format_date(moment.date())


def short_date(moment: datetime) -> str:
    """Return e.g. ``9. nov. 2022`` (mai, juni, juli are short already)."""
    month = month_name(moment.month)
    return f"{moment.day}. {month if len(month) <= 4 else month[:3] + '.'} {moment.year}"


def meeting_when(meeting: Meeting) -> str:
    """Return the meeting's date and time on its own clock: ``onsdag 9. … kl. 10.00–15.00``."""
    text = format_when(meeting.start, meeting.end)
    # The programme is in Norway; a meeting elsewhere says whose clock it is.
    return text if meeting.timezone == "Europe/Oslo" else f"{text} ({meeting.timezone})"


def meeting_place(meeting: Meeting) -> str:
    """Return where the meeting is: the location, or that it is held by video link."""
    return meeting.location or ("Digitalt møte" if meeting.online_url else "Sted ikke satt")


def stamp(moment: datetime) -> str:
    """Return when a document was made, e.g. ``1. november 2026 kl. 12.00``."""
    return f"{format_date(moment.date(), weekday=False)} kl. {format_time(moment)}"


def region_label(region: str) -> str:
    """Return the region as shown to a reader (an empty one is unknown)."""
    return region or UNKNOWN_REGION_LABEL
