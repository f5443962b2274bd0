"""Dates, times and words in Norwegian Bokmål for the printed lists and the programme report.

Not the C library's locale: nb_NO may not be installed, and the output must not depend on it.
Times follow Språkrådet's advice: ``kl. 10.00``, a period between hours and minutes.
"""

from __future__ import annotations

from datetime import datetime

from inviter.config import Meeting

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)

UNKNOWN_REGION_LABEL = "Ukjent region"


def long_date(moment: datetime) -> str:
    """Return e.g. ``onsdag 9. november 2022``."""
    return f"{WEEKDAYS[moment.weekday()]} {moment.day}. {MONTHS[moment.month - 1]} {moment.year}"


def short_date(moment: datetime) -> str:
    """Return e.g. ``9. nov. 2022`` (mai, juni, juli are short already)."""
    month = MONTHS[moment.month - 1]
    return f"{moment.day}. {month if len(month) <= 4 else month[:3] + '.'} {moment.year}"


def clock(moment: datetime) -> str:
    """Return e.g. ``10.00``."""
    return f"{moment:%H.%M}"


def meeting_when(meeting: Meeting) -> str:
    """Return the meeting's date and time on its own clock: ``onsdag 9. … kl. 10.00–15.00``."""
    start, end = meeting.start, meeting.end
    if start.date() == end.date():
        text = f"{long_date(start)} kl. {clock(start)}–{clock(end)}"
    else:
        text = f"{long_date(start)} kl. {clock(start)} – {long_date(end)} kl. {clock(end)}"
    # The programme is in Norway; a meeting elsewhere says whose clock it is.
    return text if meeting.timezone == "Europe/Oslo" else f"{text} ({meeting.timezone})"


def meeting_place(meeting: Meeting) -> str:
    """Return where the meeting is: the location, or that it is held by video link."""
    return meeting.location or ("Digitalt møte" if meeting.online_url else "Sted ikke satt")


def stamp(moment: datetime) -> str:
    """Return when a document was made, e.g. ``1. november 2026 kl. 12.00``."""
    return f"{moment.day}. {MONTHS[moment.month - 1]} {moment.year} kl. {clock(moment)}"


def region_label(region: str) -> str:
    """Return the region as shown to a reader (an empty one is unknown)."""
    return region or UNKNOWN_REGION_LABEL
