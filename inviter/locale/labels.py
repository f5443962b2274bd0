"""Dates, times, places and regions as staff read them on the lists, the report and
``contacts show``, in the language of the run (SPEC, "Language").

Dates and times come from ``inviter.locale.dates``, the same writing as in the invitations, so a
list and the invitation it belongs to say the meeting's time alike.
"""

from __future__ import annotations

from datetime import datetime

from inviter.domain import Meeting
from inviter.locale.dates import format_date, format_time, format_when, month_name
from inviter.translation import _, current_language


def long_date(moment: datetime) -> str:
    """Return e.g. ``onsdag 9. november 2022`` or ``Wednesday 9 November 2022``."""
    return format_date(moment.date(), current_language())


def short_date(moment: datetime) -> str:
    """Return e.g. ``9. nov. 2022`` (mai, juni, juli are short already) or ``9 Nov 2022``."""
    if current_language() == "en":
        return f"{moment.day} {month_name(moment.month, 'en')[:3]} {moment.year}"
    month = month_name(moment.month)
    return f"{moment.day}. {month if len(month) <= 4 else month[:3] + '.'} {moment.year}"


def meeting_when(meeting: Meeting) -> str:
    """Return the meeting's date and time on its own clock: ``onsdag 9. … kl. 10.00–15.00``
    (Bokmål) or ``Wednesday 9 November 2022, 10:00–15:00`` (English)."""
    text = format_when(meeting.start, meeting.end, current_language())
    # The programme is in Norway; a meeting elsewhere says whose clock it is.
    return text if meeting.timezone == "Europe/Oslo" else f"{text} ({meeting.timezone})"


def meeting_place(meeting: Meeting) -> str:
    """Return where the meeting is: the location, or that it is held by video link."""
    if meeting.location:
        return meeting.location
    return _("Online meeting") if meeting.online_url else _("Place not set")


def stamp(moment: datetime) -> str:
    """Return when a document was made: ``1. november 2026 kl. 12.00`` or
    ``1 November 2026 at 12:00``."""
    language = current_language()
    return _("{date} at {time}").format(
        date=format_date(moment.date(), language, weekday=False),
        time=format_time(moment, language),
    )


def region_label(region: str) -> str:
    """Return the region as shown to a reader (an empty one is unknown)."""
    return region or _("Unknown region")


def format_number(value: float, decimals: int = 0) -> str:
    """``33,554,432`` and ``33.6`` in English, ``33 554 432`` and ``33,6`` in Bokmål (a
    non-breaking space between thousands, Språkrådet's rule, so a number never breaks)."""
    text = f"{value:,.{decimals}f}"
    if current_language() == "nb":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text
