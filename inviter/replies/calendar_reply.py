"""Read calendar replies (METHOD:REPLY, COUNTER) as real clients write them: pure functions.

The calendar is parsed by icalendar (``Calendar.from_ical``) after calendar_adapter.py has made
its text readable (imip.md 17); Exchange's Windows zone names and ``MAILTO:`` are read here,
after parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Timezone
from icalendar.cal import Component as IcalComponent
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from inviter.addresses import normalize_email
from inviter.replies.calendar_adapter import CalendarError, ReplyCalendar, parse_calendar
from inviter.text import with_lines
from inviter.translation import _

_DATE_TIME = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")
_PARTSTATS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED", "NEEDS-ACTION"})
ANSWER_METHODS = frozenset({"REPLY", "COUNTER"})
# RFC 5545 §3.8.7.4: SEQUENCE is an INTEGER, which §3.3.8 bounds to a signed 32-bit value.
MAX_SEQUENCE = 2**31 - 1


@dataclass(frozen=True)
class Answer:
    """One attendee's answer to one event, as one calendar reply states it."""

    method: str  # REPLY or COUNTER
    uid: str
    email: str
    name: str
    partstat: str
    sequence: int
    dtstamp: datetime  # aware, UTC
    delegated_to: str = ""
    delegated_from: str = ""
    comment: str = ""
    guests: int = 0
    proposed_start: datetime | None = None
    proposed_end: datetime | None = None


@dataclass(frozen=True)
class Reading:
    """What one calendar part says: its METHOD and the answers in it, or why it says none."""

    method: str
    answers: tuple[Answer, ...] = ()
    problem: str = ""


def address_of(value: str) -> str:
    """Return the normalised address of a cal-address (``mailto:``/``MAILTO:`` stripped)."""
    text = value.strip().strip('"')
    if text[:7].lower() == "mailto:":
        text = text[7:]
    return normalize_email(text.strip("<> "))


def _all(component: IcalComponent, name: str) -> list[Any]:
    """Return every property called ``name`` (icalendar gives one, or a list of several)."""
    found = component.get(name)
    if found is None:
        return []
    return list(found) if isinstance(found, list) else [found]


def _text(prop: Any) -> str:
    """Return a property's value as written (TEXT still escaped), or ""."""
    if prop is None:
        return ""
    raw = prop.to_ical() if hasattr(prop, "to_ical") else prop
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _param(prop: Any, key: str) -> str:
    """Return a parameter's value as text (icalendar has decoded RFC 6868), or ""."""
    value = getattr(prop, "params", {}).get(key, "")
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _zone(tzid: str, calendar: ReplyCalendar) -> tzinfo:
    """Find the zone a TZID names: IANA, a Windows name (Exchange), or the VTIMEZONE given."""
    name = tzid.strip().strip('"').strip("/")
    for candidate in (name, WINDOWS_TO_OLSON.get(name, "")):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                pass
    for text in calendar.zones:
        try:
            block = Timezone.from_ical(text)
            if not isinstance(block, Timezone):
                continue
            if _text(block.get("TZID")).strip().strip('"') != tzid.strip().strip('"'):
                continue
            zone = block.to_tz()
        except Exception as exc:  # icalendar raises many kinds on odd VTIMEZONEs
            raise CalendarError(
                _("VTIMEZONE {tzid} cannot be used: {error}").format(tzid=repr(tzid), error=exc)
            ) from None
        if isinstance(zone, tzinfo):
            return zone
    raise CalendarError(
        _("TZID {tzid} is neither a known zone nor defined by a VTIMEZONE").format(tzid=repr(tzid))
    )


def _not_a_time(name: str, value: str) -> str:
    return _("{name}: {value} is not a date-time").format(name=name, value=repr(value))


def parse_time(name: str, prop: Any, calendar: ReplyCalendar) -> datetime:
    """Return a DATE-TIME property as an aware UTC datetime (floating time is taken as UTC).

    Read from the text as written, not icalendar's value: Exchange's Windows zone names and a
    VTIMEZONE icalendar does not resolve are looked up here (``_zone``).
    """
    value = _text(prop).strip()
    match = _DATE_TIME.match(value)
    if not match:
        raise CalendarError(_not_a_time(name, value))
    day, clock, utc = match.groups()
    try:
        moment = datetime.strptime(day + (clock or "000000"), "%Y%m%d%H%M%S")
    except ValueError:
        raise CalendarError(_not_a_time(name, value)) from None
    tzid = _param(prop, "TZID")
    if utc or not tzid:
        return moment.replace(tzinfo=UTC)
    zone = _zone(tzid, calendar)
    try:
        return moment.replace(tzinfo=zone).astimezone(UTC)
    except (OverflowError, ValueError):
        # Year 1 or 9999 in a zone east or west of UTC leaves datetime's range.
        raise CalendarError(
            _("{name}: {value} is out of range").format(name=name, value=repr(value))
        ) from None


def _sequence(event: IcalComponent) -> int:
    """Read SEQUENCE (Exchange may give only its own X- copy); 0 when absent.

    A value that is not an INTEGER within its range makes the reply unreadable rather than
    zero: a reply claiming version 10^30 is not an answer to any version sent.
    """
    text = _text(event.get("SEQUENCE")) or _text(event.get("X-MICROSOFT-CDO-APPT-SEQUENCE"))
    text = text.strip()
    if not text:
        return 0
    if not text.isascii() or not text.isdigit() or len(text) > 10 or int(text) > MAX_SEQUENCE:
        raise CalendarError(
            _("SEQUENCE {value} is not a number from 0 to {largest}").format(
                value=repr(text[:40]), largest=MAX_SEQUENCE
            )
        )
    return int(text)


def _delegation(prop: Any, key: str) -> str:
    """Return the first address of DELEGATED-TO or DELEGATED-FROM, or ""."""
    value = _param(prop, key)
    try:
        return address_of(value.split(",")[0]) if value else ""
    except ValueError:
        return ""


def _guests(prop: Any) -> int:
    """Read a guest count: Google's X-NUM-GUESTS (Nextcloud writes it too)."""
    for key in ("X-NUM-GUESTS", "X-GUESTS"):
        text = _param(prop, key).strip()
        if text.isdigit():
            return min(int(text), 1000)
    return 0


def _clean(text: str) -> str:
    """Unescape a TEXT value (RFC 5545 §3.3.11) and drop control characters."""
    text = re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)
    return with_lines(text).strip()


def _comment(event: IcalComponent, email: str, calendar: ReplyCalendar) -> str:
    """Find the attendee's note: COMMENT (Google, Apple); Exchange puts it in DESCRIPTION."""
    for prop in _all(event, "COMMENT"):
        commenter = _param(prop, "X-COMMENTER")
        try:
            if commenter and address_of(commenter) != email:
                continue
        except ValueError:
            pass
        return _clean(_text(prop))
    if "MICROSOFT" in _text(calendar.calendar.get("PRODID")).upper():
        return _clean(_text(event.get("DESCRIPTION")))
    return ""


def read_event(
    event: IcalComponent, method: str, calendar: ReplyCalendar, fallback_stamp: datetime
) -> list[Answer]:
    """Return the answers one VEVENT carries (one per answering ATTENDEE)."""
    uid = _text(event.get("UID")).strip()
    if not uid:
        raise CalendarError(_("VEVENT without UID"))
    name = "DTSTAMP" if "DTSTAMP" in event else "X-MICROSOFT-CDO-REPLYTIME"
    stamp = parse_time(name, event[name], calendar) if name in event else fallback_stamp
    sequence = _sequence(event)
    proposed_start = proposed_end = None
    if method == "COUNTER":
        start, end = event.get("DTSTART"), event.get("DTEND")
        proposed_start = parse_time("DTSTART", start, calendar) if start is not None else None
        proposed_end = parse_time("DTEND", end, calendar) if end is not None else None
    attendees = _all(event, "ATTENDEE")
    if not attendees:
        raise CalendarError(
            _("{method} without ATTENDEE (UID {uid})").format(method=method, uid=uid)
        )
    answers = []
    for prop in attendees:
        value = _text(prop)
        try:
            email = address_of(value)
        except ValueError as exc:
            raise CalendarError(f"ATTENDEE {value[:80]!r}: {exc}") from None
        partstat = (_param(prop, "PARTSTAT") or "NEEDS-ACTION").strip().upper()
        if partstat not in _PARTSTATS:
            partstat = "NEEDS-ACTION"  # RFC 5545 §3.2.12: unknown values are NEEDS-ACTION
        delegated_to = _delegation(prop, "DELEGATED-TO") if partstat == "DELEGATED" else ""
        answers.append(
            Answer(
                method=method,
                uid=uid,
                email=email,
                name=" ".join(_clean(_param(prop, "CN")).split())[:200],
                partstat=partstat,
                sequence=sequence,
                dtstamp=stamp,
                delegated_to=delegated_to,
                delegated_from=_delegation(prop, "DELEGATED-FROM"),
                # Google writes the note typed beside the buttons as a parameter of the
                # attendee's own line; other clients use COMMENT (or Exchange DESCRIPTION).
                comment=(
                    _clean(_param(prop, "X-RESPONSE-COMMENT")) or _comment(event, email, calendar)
                )[:2000],
                guests=_guests(prop),
                proposed_start=proposed_start,
                proposed_end=proposed_end,
            )
        )
    return answers


def read_calendar(
    raw: bytes,
    *,
    charset: str | None = None,
    content_method: str | None = None,
    fallback_stamp: datetime,
) -> Reading:
    """Read one calendar part: METHOD from the object, else from the Content-Type (imip.md 16)."""
    calendar = parse_calendar(raw, charset)
    method = (_text(calendar.calendar.get("METHOD")) or content_method or "").strip().upper()
    if method not in ANSWER_METHODS:
        problem = (
            _("calendar with METHOD:{method}, not a reply").format(method=method)
            if method
            else _("calendar with no METHOD, not a reply")
        )
        return Reading(method=method, problem=problem)
    answers: list[Answer] = []
    seen: set[tuple[str, str]] = set()
    # The master event first: a RECURRENCE-ID override repeats the same attendee's answer.
    children = [c for c in calendar.calendar.subcomponents if c.name == "VEVENT"]
    events = sorted(children, key=lambda e: "RECURRENCE-ID" in e)
    if not events:
        return Reading(
            method=method, problem=_("METHOD:{method} without VEVENT").format(method=method)
        )
    for event in events:
        for answer in read_event(event, method, calendar, fallback_stamp):
            if (answer.uid, answer.email) not in seen:
                seen.add((answer.uid, answer.email))
                answers.append(answer)
    return Reading(method=method, answers=tuple(answers))
