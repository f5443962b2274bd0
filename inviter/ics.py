"""Build the calendar objects of an invitation: METHOD:REQUEST and METHOD:CANCEL.

The builders are pure: time, UID and SEQUENCE come in as arguments, the same input gives the same
bytes. The text is written here rather than by icalendar, because what clients accept depends on
details icalendar decides otherwise (imip.md 5 and 8): CN in plain double quotes, and a rule-based
VTIMEZONE instead of the RDATE list of ``add_missing_timezones()``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from inviter.addresses import unsafe_reason
from inviter.config import Meeting, Organizer
from inviter.errors import InputError

PRODID = "-//inviter//Calendar invitations//EN"
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_FOLD_OCTETS = 75  # RFC 5545 §3.1: lines SHOULD NOT be longer than 75 octets, CRLF excluded
# Controls have no place in TEXT (RFC 5545 §3.3.11 TSAFE-CHAR); tab is WSP and allowed.
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_PARAM_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
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
) -> bytes:
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
) -> bytes:
    """Return the METHOD:CANCEL calendar for one attendee (RFC 5546 §3.2.5); pass SEQUENCE+1."""
    return _build("CANCEL", meeting, organizer, attendee_email, attendee_name, uid, sequence, now)


def _build(
    method: str,
    meeting: Meeting,
    organizer: Organizer,
    attendee_email: str,
    attendee_name: str,
    uid: str,
    sequence: int,
    now: datetime,
) -> bytes:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if sequence < 0:
        raise ValueError("SEQUENCE must not be negative")
    for what, value in (("UID", uid), ("organizer", organizer.email), ("attendee", attendee_email)):
        reason = unsafe_reason(value) or ("contains a space" if " " in value else None)
        if not value or reason:
            raise InputError(f"calendar {what} '{value!r}': {reason or 'is empty'}")
    zone = timezone_rules(meeting.timezone, meeting.start.year, meeting.end.year)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        # imip.md 1: without METHOD Outlook shows "not supported calendar message".
        f"METHOD:{method}",
    ]
    if zone is not None:
        lines += zone.lines()
    lines += [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_utc(now)}",
        f"SEQUENCE:{sequence}",
        _when("DTSTART", meeting.start_at, zone),
        _when("DTEND", meeting.end_at, zone),
        f"SUMMARY:{escape_text(meeting.title)}",
    ]
    location = event_location(meeting)
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    description = event_description(meeting)
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    if meeting.online_url:
        # imip.md 9 and RFC 7986 §5.11: URI values are written as they are, not TEXT-escaped.
        lines.append(f"URL:{meeting.online_url}")
        lines.append(f"CONFERENCE;VALUE=URI;FEATURE=VIDEO:{meeting.online_url}")
    lines += [
        f"STATUS:{'CANCELLED' if method == 'CANCEL' else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        # imip.md 3: a bare address after mailto:, equal to From; replies go there.
        f"ORGANIZER{_cn(organizer.name)}:mailto:{organizer.email}",
        # imip.md 4: RSVP=TRUE or Thunderbird shows no buttons; a CANCEL asks for no reply.
        f"ATTENDEE{_cn(attendee_name)};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;"
        f"PARTSTAT=NEEDS-ACTION{';RSVP=TRUE' if method == 'REQUEST' else ''}"
        f":mailto:{attendee_email}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return b"".join(fold_line(line) for line in lines)


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


# ---------------------------------------------------------------- values and lines


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks."""
    value = _TEXT_CONTROLS.sub("", value)
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return _LINE_BREAKS.sub("\\\\n", value)


def quote_cn(name: str) -> str:
    """Return a CN parameter value in double quotes, never holding a quote or a line break.

    imip.md 5: icalendar writes ``"`` as RFC 6868 ``^'``, which some parsers show literally, so
    a quote becomes a typographic one instead (“ and ” in turn). A caret is left alone, except
    before ``n``, ``'`` or ``^``, where an RFC 6868 parser (ical.js, Thunderbird) would read an
    escape: there it is written ``^^`` (§3), which such a parser reads back as one caret.
    """
    name = " ".join(_PARAM_UNSAFE.sub(" ", name).split())
    name = _CARET_ESCAPE.sub("^^", name)
    parts = name.split('"')
    out = parts[0]
    for index, part in enumerate(parts[1:]):
        out += ("“" if index % 2 == 0 else "”") + part
    return f'"{out}"'


def _cn(name: str) -> str:
    quoted = quote_cn(name)
    return "" if quoted == '""' else f";CN={quoted}"


def fold_line(line: str) -> bytes:
    """Return one content line folded at 75 octets, never inside a UTF-8 sequence, with CRLF.

    imip.md 7: each physical line must decode as UTF-8 on its own.
    """
    data = line.encode("utf-8")
    if len(data) <= _FOLD_OCTETS:
        return data + b"\r\n"
    pieces = []
    start, limit = 0, _FOLD_OCTETS
    while len(data) - start > limit:
        cut = start + limit
        while data[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: cut before its lead
            cut -= 1
        pieces.append(data[start:cut])
        start, limit = cut, _FOLD_OCTETS - 1  # the leading space counts (RFC 5545 §3.1)
    pieces.append(data[start:])
    return b"\r\n ".join(pieces) + b"\r\n"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _when(name: str, moment: datetime, zone: ZoneRules | None) -> str:
    if zone is None:
        return f"{name}:{_utc(moment)}"
    return f"{name};TZID={zone.tzid}:{moment.strftime('%Y%m%dT%H%M%S')}"


def _offset(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


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

    def lines(self) -> list[str]:
        """Return the STANDARD or DAYLIGHT sub-component."""
        kind = "DAYLIGHT" if self.offset_to > self.offset_from else "STANDARD"
        start = datetime.combine(self.day_in(1970), self.at)
        return [
            f"BEGIN:{kind}",
            f"DTSTART:{start.strftime('%Y%m%dT%H%M%S')}",
            f"TZOFFSETFROM:{_offset(self.offset_from)}",
            f"TZOFFSETTO:{_offset(self.offset_to)}",
            f"TZNAME:{escape_text(self.name)}",
            f"RRULE:FREQ=YEARLY;BYMONTH={self.month};BYDAY={self.nth}{_WEEKDAYS[self.weekday]}",
            f"END:{kind}",
        ]


@dataclass(frozen=True)
class ZoneRules:
    """A time zone as a VTIMEZONE: a fixed offset, or two yearly rules."""

    tzid: str
    fixed: timedelta | None
    fixed_name: str
    rules: tuple[YearlyRule, ...]

    def lines(self) -> list[str]:
        """Return the VTIMEZONE component."""
        lines = ["BEGIN:VTIMEZONE", f"TZID:{self.tzid}"]
        if self.fixed is not None:
            offset = _offset(self.fixed)
            lines += [
                "BEGIN:STANDARD",
                "DTSTART:19700101T000000",
                f"TZOFFSETFROM:{offset}",
                f"TZOFFSETTO:{offset}",
                f"TZNAME:{escape_text(self.fixed_name)}",
                "END:STANDARD",
            ]
        for rule in sorted(self.rules, key=lambda r: r.offset_to <= r.offset_from):
            lines += rule.lines()
        return [*lines, "END:VTIMEZONE"]


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
