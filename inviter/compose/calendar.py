"""Build the calendar objects of an invitation, METHOD:REQUEST and METHOD:CANCEL, with icalendar.

The builders are pure: time, UID and SEQUENCE come in as arguments, and they return an
``icalendar.Calendar`` that the library serialises (escaping TEXT, folding at 75 octets without
splitting a UTF-8 character, imip.md 6-7). Two things are decided here rather than left to its
defaults, each for a client that mishandles the alternative:

- the VTIMEZONE is derived from the zone's yearly rules and written as ``TimezoneStandard`` /
  ``TimezoneDaylight`` components with an RRULE, as khal does (khalendar/event.py), because the
  RDATE list of ``add_missing_timezones()`` makes Outlook shift events by an hour (imip.md 8);
- CN is always in double quotes, never holding ``"`` (written as “ ”), and a caret is escaped
  only where an RFC 6868 reader would otherwise read an escape (imip.md 5: ``^'`` and ``^^``
  show literally in readers without RFC 6868).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import (
    Calendar,
    Event,
    Parameters,
    vCalAddress,
)

from inviter.addresses import unsafe_reason
from inviter.compose.timezones import ZoneRules, timezone_rules
from inviter.domain import Meeting, Organizer
from inviter.errors import InputError
from inviter.text import one_line, with_lines
from inviter.translation import _

PRODID = "-//inviter//Calendar invitations//EN"
# Controls have no place in TEXT (RFC 5545 §3.3.11 TSAFE-CHAR); tab is WSP and allowed.
_CARET_ESCAPE = re.compile(r"\^(?=[n'^])")


# ---------------------------------------------------------------- the two builders


def build_request(
    meeting: Meeting,
    organizer: Organizer,
    attendee_email: str,
    attendee_name: str,
    *,
    uid: str,
    sequence: int,
    now: datetime,
) -> Calendar:
    """Return the METHOD:REQUEST calendar inviting one attendee (RFC 5546 §3.2.2)."""
    return _build("REQUEST", meeting, organizer, attendee_email, attendee_name, uid, sequence, now)


def build_cancel(
    meeting: Meeting,
    organizer: Organizer,
    attendee_email: str,
    attendee_name: str,
    *,
    uid: str,
    sequence: int,
    now: datetime,
) -> Calendar:
    """Return the METHOD:CANCEL calendar for one attendee (RFC 5546 §3.2.5); pass SEQUENCE+1."""
    return _build("CANCEL", meeting, organizer, attendee_email, attendee_name, uid, sequence, now)


def serialize(calendar: Calendar) -> bytes:
    """Return the calendar's bytes, properties in the order they were added (CRLF, folded)."""
    data: bytes = calendar.to_ical(sorted=False)
    return data


def _build(
    method: str,
    meeting: Meeting,
    organizer: Organizer,
    attendee_email: str,
    attendee_name: str,
    uid: str,
    sequence: int,
    now: datetime,
) -> Calendar:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if sequence < 0:
        raise ValueError("SEQUENCE must not be negative")
    for what, value in (
        ("UID", uid),
        (_("organizer"), organizer.email),
        (_("attendee"), attendee_email),
    ):
        reason = unsafe_reason(value) or (_("contains a space") if " " in value else None)
        if not value or reason:
            message = _("calendar {what} {value}: {reason}")
            raise InputError(
                message.format(what=what, value=f"'{value!r}'", reason=reason or _("is empty"))
            )
    zone = timezone_rules(meeting.timezone, meeting.start.year, meeting.end.year)
    cal = _calendar(method)
    if zone is not None:
        cal.add_component(zone.component())
    event = _event(meeting, organizer, uid, sequence, now, zone, cancelled=method == "CANCEL")
    # imip.md 4: RSVP=TRUE or Thunderbird shows no buttons; a CANCEL asks for no reply.
    attendee = {"CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION"}
    if method == "REQUEST":
        attendee["RSVP"] = "TRUE"
    event.add("attendee", _address(attendee_email, attendee_name, attendee))
    cal.add_component(event)
    return cal


def build_programme(
    entries: Sequence[ProgrammeEntry], organizer: Organizer, *, now: datetime
) -> Calendar:
    """Return the whole programme as one METHOD:PUBLISH calendar (RFC 5546 §3.2.1): every
    meeting with the UID and SEQUENCE its invitations carry, so that importing it into the
    organizer's own calendar shows the season without a second copy of any meeting."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    cal = _calendar("PUBLISH")
    zones: dict[str, ZoneRules] = {}
    for key in dict.fromkeys(entry.meeting.timezone for entry in entries):
        same = [e.meeting for e in entries if e.meeting.timezone == key]
        years = [year for m in same for year in (m.start.year, m.end.year)]
        rules = timezone_rules(key, min(years), max(years))
        if rules is not None:
            zones[key] = rules
            cal.add_component(rules.component())
    for entry in entries:
        zone = zones.get(entry.meeting.timezone)
        cal.add_component(
            _event(
                entry.meeting, organizer, entry.uid, entry.sequence, now, zone,
                cancelled=entry.cancelled,
            )
        )  # fmt: skip
    return cal


@dataclass(frozen=True)
class ProgrammeEntry:
    """One meeting of the programme calendar, with its calendar identity."""

    meeting: Meeting
    uid: str
    sequence: int
    cancelled: bool = False


def _calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    # imip.md 1: without METHOD Outlook shows "not supported calendar message".
    cal.add("method", method)
    return cal


def _event(
    meeting: Meeting,
    organizer: Organizer,
    uid: str,
    sequence: int,
    now: datetime,
    zone: ZoneRules | None,
    *,
    cancelled: bool,
) -> Event:
    """The VEVENT of a meeting, without attendees."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("sequence", sequence)
    _add_time(event, "dtstart", meeting.start_at, zone)
    _add_time(event, "dtend", meeting.end_at, zone)
    event.add("summary", clean_text(meeting.title))
    location = event_location(meeting)
    if location:
        event.add("location", clean_text(location))
    description = event_description(meeting)
    if description:
        event.add("description", clean_text(description))
    if meeting.online_url:
        # imip.md 9 and RFC 7986 §5.11: URI values are written as they are, not TEXT-escaped.
        event.add("url", meeting.online_url)
        event.add("conference", meeting.online_url, parameters={"VALUE": "URI", "FEATURE": "VIDEO"})
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    # imip.md 3: a bare address after mailto:, equal to From; replies go there.
    event.add("organizer", _address(organizer.email, organizer.name, {}))
    return event


def event_location(meeting: Meeting) -> str:
    """Return LOCATION: the place, and for an online meeting the link too (imip.md 9)."""
    if not meeting.online_url or meeting.online_url in meeting.location:
        return meeting.location
    # Outlook, Apple and Thunderbird ignore CONFERENCE; the link must be in the text as well.
    return f"{meeting.location} – {meeting.online_url}" if meeting.location else meeting.online_url


def event_description(meeting: Meeting) -> str:
    """Return DESCRIPTION: the meeting's description, and the video link on its own line."""
    text = meeting.description.strip()
    if meeting.online_url and meeting.online_url not in text:
        text = f"{text}\n\n{meeting.online_url}" if text else meeting.online_url
    return text


# ---------------------------------------------------------------- values


def clean_text(value: str) -> str:
    """Make a TEXT value safe before icalendar escapes it (RFC 5545 §3.3.11).

    Control characters go; every kind of line break (CR, U+0085, U+2028…) becomes LF, which
    icalendar writes as ``\\n``.
    """
    return with_lines(value)


def quote_cn(name: str) -> str:
    """Return a CN parameter value in double quotes, never holding a quote or a line break.

    imip.md 5: icalendar writes ``"`` as RFC 6868 ``^'``, which some parsers show literally, so
    a quote becomes a typographic one instead (“ and ” in turn). A caret is left alone, except
    before ``n``, ``'`` or ``^``, where an RFC 6868 parser (ical.js, Thunderbird) would read an
    escape: there it is written ``^^`` (§3), which such a parser reads back as one caret.
    """
    name = " ".join(one_line(name).split())
    name = _CARET_ESCAPE.sub("^^", name)
    parts = name.split('"')
    out = parts[0]
    for index, part in enumerate(parts[1:]):
        out += ("“" if index % 2 == 0 else "”") + part
    return f'"{out}"'


class _AddressParameters(Parameters):
    """ORGANIZER and ATTENDEE parameters, CN written by ``quote_cn`` (imip.md 5), the rest by
    icalendar, in the order they were given."""

    def to_ical(self, sorted: bool = True) -> bytes:  # icalendar's own signature
        rest = Parameters({k: v for k, v in self.items() if k != "CN"}).to_ical(sorted=sorted)
        cn = self.get("CN")
        if not cn or cn == '""':
            return bytes(rest)
        head = f"CN={cn}".encode()
        return head + (b";" + rest if rest else b"")


def _address(email: str, name: str, params: dict[str, str]) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    # CN is kept already quoted: _AddressParameters writes it as it is.
    address.params = _AddressParameters({"CN": quote_cn(name), **params})
    return address


def _add_time(event: Event, name: str, moment: datetime, zone: ZoneRules | None) -> None:
    if zone is None:
        event.add(name, moment.astimezone(UTC))
    else:
        # The wall-clock time with the TZID of the VTIMEZONE written beside it (imip.md 8).
        event.add(name, moment.replace(tzinfo=None), parameters={"TZID": zone.tzid})
