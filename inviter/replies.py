"""Read calendar replies (METHOD:REPLY, COUNTER) as real clients write them: pure functions.

imip.md 17: clients bend RFC 5545 in known ways (Exchange leaves out ORGANIZER and writes Windows
zone names and ``MAILTO:``; Thunderbird's lines arrive LF-only; folding splits UTF-8 characters),
so this module reads content lines itself instead of asking a strict parser to forgive them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Timezone
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from inviter.addresses import normalize_email

# RFC 5545 §3.1: a line break followed by one space or tab is a fold. Unfolding the bytes before
# decoding joins a UTF-8 character that a client split across the fold (imip.md 7, 17).
_FOLD = re.compile(rb"\r?\n[ \t]")
_LINE_END = re.compile(r"\r\n|\n|\r")
_DATE_TIME = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")
_PARTSTATS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED", "NEEDS-ACTION"})
ANSWER_METHODS = frozenset({"REPLY", "COUNTER"})
# The most properties a calendar part may hold: a reply has a few dozen; a bigger one is hostile.
MAX_LINES = 20_000
# RFC 5545 §3.8.7.4: SEQUENCE is an INTEGER, which §3.3.8 bounds to a signed 32-bit value.
MAX_SEQUENCE = 2**31 - 1


class CalendarError(ValueError):
    """A calendar part cannot be read; the message says where and why."""


@dataclass
class Property:
    """One content line: NAME;PARAM=value:value (names upper-cased, parameters decoded)."""

    name: str
    params: dict[str, str]
    value: str


@dataclass
class Component:
    """A BEGIN/END block with its properties and sub-components."""

    name: str
    properties: list[Property] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)

    def first(self, name: str) -> Property | None:
        """Return the first property called ``name``, or None."""
        return next((p for p in self.properties if p.name == name), None)

    def value(self, name: str) -> str:
        """Return the first value of ``name`` or ""."""
        prop = self.first(name)
        return prop.value if prop else ""

    def all(self, name: str) -> list[Property]:
        """Return every property called ``name``."""
        return [p for p in self.properties if p.name == name]

    def children(self, name: str) -> list[Component]:
        """Return the direct sub-components called ``name``."""
        return [c for c in self.components if c.name == name]


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


def unfold(raw: bytes) -> bytes:
    """Join folded lines at the byte level (RFC 5545 §3.1), before any decoding."""
    return _FOLD.sub(b"", raw)


def decode_text(raw: bytes, charset: str | None) -> str:
    """Decode calendar bytes: the declared charset, then UTF-8, then Windows-1252.

    RFC 5545 says UTF-8, but Outlook has sent Windows-1252 with a charset parameter saying so,
    and some gateways label UTF-8 as ISO-8859-1; UTF-8 that decodes cleanly wins over a label
    of Latin-1 or ASCII.
    """
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    declared = (charset or "").strip().strip('"').lower()
    candidates = []
    if declared and declared not in {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}:
        candidates.append(declared)
    candidates += ["utf-8", declared or "cp1252", "cp1252"]
    for name in candidates:
        try:
            return raw.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("latin-1")


def _unescape_param(value: str) -> str:
    """Decode RFC 6868 caret escapes (^n, ^', ^^) in a parameter value."""
    if "^" not in value:
        return value
    return re.sub(r"\^([n'^])", lambda m: {"n": "\n", "'": '"', "^": "^"}[m.group(1)], value)


def parse_line(line: str, number: int) -> Property:
    """Split one unfolded content line into name, parameters and value (RFC 5545 §3.1)."""
    match = re.match(r"[A-Za-z0-9-]+", line)
    if not match:
        raise CalendarError(f"line {number}: not a content line: {line[:60]!r}")
    name = match.group().upper()
    pos = match.end()
    params: dict[str, str] = {}
    while pos < len(line) and line[pos] == ";":
        key_match = re.match(r"[A-Za-z0-9-]+", line[pos + 1 :])
        if not key_match:
            raise CalendarError(f"line {number}: {name}: bad parameter at column {pos + 2}")
        key = key_match.group().upper()
        pos += 1 + key_match.end()
        if pos >= len(line) or line[pos] != "=":
            # A parameter without a value ("ATTENDEE;RSVP:…") seen from old Lotus Notes.
            params[key] = ""
            continue
        pos += 1
        values = []
        while True:
            if pos < len(line) and line[pos] == '"':
                end = line.find('"', pos + 1)
                if end < 0:
                    raise CalendarError(f"line {number}: {name}: unclosed quote in {key}")
                values.append(line[pos + 1 : end])
                pos = end + 1
            else:
                end_match = re.match(r'[^";:,]*', line[pos:])
                assert end_match is not None
                value = end_match.group()
                pos += end_match.end()
                if value.lower() == "mailto" and line[pos : pos + 1] == ":":
                    # Google writes COMMENT;X-COMMENTER=mailto:addr:text, the address unquoted.
                    rest = re.match(r'[^";:,]*', line[pos + 1 :])
                    assert rest is not None
                    value += ":" + rest.group()
                    pos += 1 + rest.end()
                values.append(value)
            if pos < len(line) and line[pos] == ",":
                pos += 1
                continue
            break
        params[key] = ",".join(_unescape_param(v) for v in values)
    if pos >= len(line) or line[pos] != ":":
        raise CalendarError(f"line {number}: {name}: no ':' before the value")
    return Property(name=name, params=params, value=line[pos + 1 :])


def parse_calendar(raw: bytes, charset: str | None = None) -> Component:
    """Parse calendar bytes into the outermost VCALENDAR; raise CalendarError naming the line."""
    text = decode_text(unfold(raw), charset)
    root = Component(name="")
    stack = [root]
    number = last = 0
    for number, line in enumerate(_LINE_END.split(text), start=1):
        if number > MAX_LINES:
            raise CalendarError(f"more than {MAX_LINES} lines: not a reply")
        if not line.strip():
            continue
        last = number
        prop = parse_line(line.strip("\ufeff"), number)
        if prop.name == "BEGIN":
            component = Component(name=prop.value.strip().upper())
            stack[-1].components.append(component)
            stack.append(component)
        elif prop.name == "END":
            if len(stack) == 1 or stack[-1].name != prop.value.strip().upper():
                raise CalendarError(f"line {number}: END:{prop.value} does not close a BEGIN")
            stack.pop()
        elif len(stack) > 1:
            stack[-1].properties.append(prop)
    calendars = root.children("VCALENDAR")
    if not calendars:
        raise CalendarError("no BEGIN:VCALENDAR")
    if len(stack) > 1 and stack[1] is calendars[0]:
        # Truncated: a reply cut short in transit; what was read may still hold the answer, but
        # half a calendar is not evidence to record.
        raise CalendarError(f"line {last}: ends inside {stack[-1].name} (no END)")
    return calendars[0]


def address_of(value: str) -> str:
    """Return the normalised address of a cal-address (``mailto:``/``MAILTO:`` stripped)."""
    text = value.strip().strip('"')
    if text[:7].lower() == "mailto:":
        text = text[7:]
    return normalize_email(text.strip("<> "))


def _zone(tzid: str, calendar: Component) -> tzinfo:
    """Find the zone a TZID names: IANA, a Windows name (Exchange), or the VTIMEZONE given."""
    name = tzid.strip().strip('"').strip("/")
    for candidate in (name, WINDOWS_TO_OLSON.get(name, "")):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                pass
    for block in calendar.children("VTIMEZONE"):
        if block.value("TZID").strip().strip('"') == tzid.strip().strip('"'):
            try:
                parsed = Timezone.from_ical(_serialize(block))
                zone = parsed.to_tz() if isinstance(parsed, Timezone) else None
            except Exception as exc:  # icalendar raises many kinds on odd VTIMEZONEs
                raise CalendarError(f"VTIMEZONE {tzid!r} cannot be used: {exc}") from None
            if isinstance(zone, tzinfo):
                return zone
    raise CalendarError(f"TZID {tzid!r} is neither a known zone nor defined by a VTIMEZONE")


def _serialize(component: Component) -> str:
    """Write a component back as text (only to hand a VTIMEZONE to icalendar)."""
    lines = [f"BEGIN:{component.name}"]
    for prop in component.properties:
        params = "".join(f";{k}={v}" for k, v in prop.params.items())
        lines.append(f"{prop.name}{params}:{prop.value}")
    lines += [_serialize(c) for c in component.components]
    lines.append(f"END:{component.name}")
    return "\r\n".join(lines)


def parse_time(prop: Property, calendar: Component) -> datetime:
    """Return a DATE-TIME property as an aware UTC datetime (floating time is taken as UTC)."""
    match = _DATE_TIME.match(prop.value.strip())
    if not match:
        raise CalendarError(f"{prop.name}: {prop.value!r} is not a date-time")
    day, clock, utc = match.groups()
    try:
        moment = datetime.strptime(day + (clock or "000000"), "%Y%m%d%H%M%S")
    except ValueError:
        raise CalendarError(f"{prop.name}: {prop.value!r} is not a date-time") from None
    if utc or not prop.params.get("TZID"):
        return moment.replace(tzinfo=UTC)
    zone = _zone(prop.params["TZID"], calendar)
    try:
        return moment.replace(tzinfo=zone).astimezone(UTC)
    except (OverflowError, ValueError):
        # Year 1 or 9999 in a zone east or west of UTC leaves datetime's range.
        raise CalendarError(f"{prop.name}: {prop.value!r} is out of range") from None


def _sequence(event: Component) -> int:
    """Read SEQUENCE (Exchange may give only its own X- copy); 0 when absent.

    A value that is not an INTEGER within its range makes the reply unreadable rather than
    zero: a reply claiming version 10^30 is not an answer to any version sent.
    """
    text = (event.value("SEQUENCE") or event.value("X-MICROSOFT-CDO-APPT-SEQUENCE")).strip()
    if not text:
        return 0
    if not text.isascii() or not text.isdigit() or len(text) > 10 or int(text) > MAX_SEQUENCE:
        raise CalendarError(f"SEQUENCE {text[:40]!r} is not a number from 0 to {MAX_SEQUENCE}")
    return int(text)


def _delegation(prop: Property, key: str) -> str:
    """Return the first address of DELEGATED-TO or DELEGATED-FROM, or ""."""
    try:
        return address_of(prop.params[key].split(",")[0]) if prop.params.get(key) else ""
    except ValueError:
        return ""


def _guests(params: dict[str, str]) -> int:
    """Read a guest count: Google's X-NUM-GUESTS (Nextcloud writes it too)."""
    for key in ("X-NUM-GUESTS", "X-GUESTS"):
        text = params.get(key, "").strip()
        if text.isdigit():
            return min(int(text), 1000)
    return 0


def _clean(text: str) -> str:
    """Unescape a TEXT value (RFC 5545 §3.3.11) and drop control characters."""
    text = re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text).strip()


def _comment(event: Component, email: str, calendar: Component) -> str:
    """Find the attendee's note: COMMENT (Google, Apple); Exchange puts it in DESCRIPTION."""
    for prop in event.all("COMMENT"):
        commenter = prop.params.get("X-COMMENTER", "")
        try:
            if commenter and address_of(commenter) != email:
                continue
        except ValueError:
            pass
        return _clean(prop.value)
    if "MICROSOFT" in calendar.value("PRODID").upper():
        return _clean(event.value("DESCRIPTION"))
    return ""


def read_event(
    event: Component, method: str, calendar: Component, fallback_stamp: datetime
) -> list[Answer]:
    """Return the answers one VEVENT carries (one per answering ATTENDEE)."""
    uid = event.value("UID").strip()
    if not uid:
        raise CalendarError("VEVENT without UID")
    stamp_prop = event.first("DTSTAMP") or event.first("X-MICROSOFT-CDO-REPLYTIME")
    stamp = parse_time(stamp_prop, calendar) if stamp_prop else fallback_stamp
    sequence = _sequence(event)
    proposed_start = proposed_end = None
    if method == "COUNTER":
        start, end = event.first("DTSTART"), event.first("DTEND")
        proposed_start = parse_time(start, calendar) if start else None
        proposed_end = parse_time(end, calendar) if end else None
    attendees = event.all("ATTENDEE")
    if not attendees:
        raise CalendarError(f"{method} without ATTENDEE (UID {uid})")
    answers = []
    for prop in attendees:
        try:
            email = address_of(prop.value)
        except ValueError as exc:
            raise CalendarError(f"ATTENDEE {prop.value[:80]!r}: {exc}") from None
        partstat = prop.params.get("PARTSTAT", "NEEDS-ACTION").strip().upper()
        if partstat not in _PARTSTATS:
            partstat = "NEEDS-ACTION"  # RFC 5545 §3.2.12: unknown values are NEEDS-ACTION
        delegated_to = _delegation(prop, "DELEGATED-TO") if partstat == "DELEGATED" else ""
        answers.append(
            Answer(
                method=method,
                uid=uid,
                email=email,
                name=" ".join(_clean(prop.params.get("CN", "")).split())[:200],
                partstat=partstat,
                sequence=sequence,
                dtstamp=stamp,
                delegated_to=delegated_to,
                delegated_from=_delegation(prop, "DELEGATED-FROM"),
                # Google writes the note typed beside the buttons as a parameter of the
                # attendee's own line; other clients use COMMENT (or Exchange DESCRIPTION).
                comment=(
                    _clean(prop.params.get("X-RESPONSE-COMMENT", ""))
                    or _comment(event, email, calendar)
                )[:2000],
                guests=_guests(prop.params),
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
    method = (calendar.value("METHOD") or content_method or "").strip().upper()
    if method not in ANSWER_METHODS:
        shown = f"METHOD:{method}" if method else "no METHOD"
        return Reading(method=method, problem=f"calendar with {shown}, not a reply")
    answers: list[Answer] = []
    seen: set[tuple[str, str]] = set()
    # The master event first: a RECURRENCE-ID override repeats the same attendee's answer.
    events = sorted(calendar.children("VEVENT"), key=lambda e: e.first("RECURRENCE-ID") is not None)
    if not events:
        return Reading(method=method, problem=f"METHOD:{method} without VEVENT")
    for event in events:
        for answer in read_event(event, method, calendar, fallback_stamp):
            if (answer.uid, answer.email) not in seen:
                seen.add((answer.uid, answer.email))
                answers.append(answer)
    return Reading(method=method, answers=tuple(answers))
