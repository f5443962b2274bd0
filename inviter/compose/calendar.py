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

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    Parameters,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
)

from inviter.addresses import unsafe_reason
from inviter.domain import Meeting, Organizer
from inviter.errors import InputError
from inviter.text import one_line, with_lines

PRODID = "-//inviter//Calendar invitations//EN"
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
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
    for what, value in (("UID", uid), ("organizer", organizer.email), ("attendee", attendee_email)):
        reason = unsafe_reason(value) or ("contains a space" if " " in value else None)
        if not value or reason:
            raise InputError(f"calendar {what} '{value!r}': {reason or 'is empty'}")
    zone = timezone_rules(meeting.timezone, meeting.start.year, meeting.end.year)
    cal = Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    # imip.md 1: without METHOD Outlook shows "not supported calendar message".
    cal.add("method", method)
    if zone is not None:
        cal.add_component(zone.component())
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
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    # imip.md 3: a bare address after mailto:, equal to From; replies go there.
    event.add("organizer", _address(organizer.email, organizer.name, {}))
    # imip.md 4: RSVP=TRUE or Thunderbird shows no buttons; a CANCEL asks for no reply.
    attendee = {"CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION"}
    if method == "REQUEST":
        attendee["RSVP"] = "TRUE"
    event.add("attendee", _address(attendee_email, attendee_name, attendee))
    cal.add_component(event)
    return cal


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


# ---------------------------------------------------------------- rule-based VTIMEZONE


@dataclass(frozen=True)
class YearlyRule:
    """One yearly change of offset: the nth (or last, -1) weekday of a month at a wall time."""

    month: int
    weekday: int  # Monday = 0
    nth: int
    at: time  # wall-clock time before the change (RFC 5545 §3.6.5: DTSTART is local time)
    offset_from: timedelta
    offset_to: timedelta
    name: str

    def day_in(self, year: int) -> date:
        """Return the date the rule falls on in ``year``."""
        if self.nth < 0:
            last = calendar.monthrange(year, self.month)[1]
            back = (date(year, self.month, last).weekday() - self.weekday) % 7
            return date(year, self.month, last - back)
        first = (self.weekday - date(year, self.month, 1).weekday()) % 7
        return date(year, self.month, 1 + first + 7 * (self.nth - 1))

    def component(self) -> TimezoneStandard | TimezoneDaylight:
        """Return the STANDARD or DAYLIGHT sub-component, its change as a yearly RRULE."""
        part = TimezoneDaylight() if self.offset_to > self.offset_from else TimezoneStandard()
        part.add("dtstart", datetime.combine(self.day_in(1970), self.at))
        part.add("tzoffsetfrom", self.offset_from)
        part.add("tzoffsetto", self.offset_to)
        part.add("tzname", clean_text(self.name))
        byday = f"{self.nth}{_WEEKDAYS[self.weekday]}"
        part.add("rrule", {"FREQ": "YEARLY", "BYMONTH": self.month, "BYDAY": byday})
        return part


@dataclass(frozen=True)
class ZoneRules:
    """A time zone as a VTIMEZONE: a fixed offset, or two yearly rules."""

    tzid: str
    fixed: timedelta | None
    fixed_name: str
    rules: tuple[YearlyRule, ...]

    def component(self) -> Timezone:
        """Return the VTIMEZONE component."""
        zone = Timezone()
        zone.add("tzid", self.tzid)
        if self.fixed is not None:
            standard = TimezoneStandard()
            standard.add("dtstart", datetime(1970, 1, 1))
            standard.add("tzoffsetfrom", self.fixed)
            standard.add("tzoffsetto", self.fixed)
            standard.add("tzname", clean_text(self.fixed_name))
            zone.add_component(standard)
        for rule in sorted(self.rules, key=lambda r: r.offset_to <= r.offset_from):
            zone.add_component(rule.component())
        return zone


@lru_cache(maxsize=64)
def timezone_rules(key: str, first_year: int, last_year: int) -> ZoneRules | None:
    """Return the zone's rules valid from ``first_year``-1 to ``last_year``+1, or None.

    imip.md 8: Outlook shifts events by an hour when the VTIMEZONE is a long RDATE list, so the
    zone is written from its yearly rules (RRULE). A zone whose changes follow no such rule in
    those years (or UTC itself) gets None: the caller writes UTC times instead.
    """
    zone = ZoneInfo(key)
    years = range(first_year - 1, last_year + 2)
    changes = {year: _changes(zone, year) for year in years}
    if all(not found for found in changes.values()):
        offset = datetime(first_year, 1, 1, tzinfo=zone).utcoffset() or timedelta(0)
        if offset == timedelta(0):
            return None
        name = datetime(first_year, 1, 1, tzinfo=zone).tzname() or key
        return ZoneRules(tzid=key, fixed=offset, fixed_name=name, rules=())
    sample = changes[first_year]
    if any(len(found) != 2 for found in changes.values()):
        return None
    rules = []
    for moment, before, after, name in sample:
        rule = _rule_for(moment, before, after, name, changes)
        if rule is None:
            return None
        rules.append(rule)
    return ZoneRules(tzid=key, fixed=None, fixed_name="", rules=tuple(rules))


_Change = tuple[datetime, timedelta, timedelta, str]


def _rule_for(
    moment: datetime,
    before: timedelta,
    after: timedelta,
    name: str,
    changes: dict[int, list[_Change]],
) -> YearlyRule | None:
    """Return the yearly rule that predicts this change in every year checked, or None."""
    local = (moment + before).replace(tzinfo=None)
    last = calendar.monthrange(local.year, local.month)[1]
    candidates = [-1] if local.day + 7 > last else []
    candidates.append((local.day - 1) // 7 + 1)
    for nth in candidates:
        rule = YearlyRule(
            month=local.month,
            weekday=local.weekday(),
            nth=nth,
            at=local.time(),
            offset_from=before,
            offset_to=after,
            name=name,
        )
        if all(_predicts(rule, found) for found in changes.values()):
            return rule
    return None


def _predicts(rule: YearlyRule, found: list[_Change]) -> bool:
    for moment, before, after, _name in found:
        if (before, after) == (rule.offset_from, rule.offset_to):
            local = (moment + before).replace(tzinfo=None)
            return local.date() == rule.day_in(local.year) and local.time() == rule.at
    return False


@lru_cache(maxsize=256)
def _changes_cached(key: str, year: int) -> tuple[_Change, ...]:
    return tuple(_scan(ZoneInfo(key), year))


def _changes(zone: ZoneInfo, year: int) -> list[_Change]:
    return list(_changes_cached(zone.key, year))


def _scan(zone: ZoneInfo, year: int) -> list[_Change]:
    """Find every change of UTC offset in a year: a daily scan, then bisection to the second."""
    found: list[_Change] = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    while moment < end:
        following = moment + timedelta(days=1)
        offset = following.astimezone(zone).utcoffset()
        if offset != previous:
            # Bisect on whole seconds: tz changes fall on whole seconds.
            low, high = int(moment.timestamp()), int(following.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if datetime.fromtimestamp(middle, zone).utcoffset() == previous:
                    low = middle
                else:
                    high = middle
            changed = datetime.fromtimestamp(high, UTC)
            if changed < end:
                after = changed.astimezone(zone)
                found.append(
                    (
                        changed,
                        previous or timedelta(0),
                        after.utcoffset() or timedelta(0),
                        after.tzname() or zone.key,
                    )
                )
            previous = offset
        moment = following
    return found
