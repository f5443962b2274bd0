"""Read calendar replies (METHOD:REPLY, COUNTER) as real clients write them: pure functions.

The calendar is parsed by icalendar (``Calendar.from_ical``). imip.md 17: clients bend RFC 5545
in known ways, so a small adapter prepares the text first: lines are unfolded at the byte level
(Thunderbird's folds split UTF-8 characters), decoded from the declared charset, UTF-8 or
Windows-1252 (Outlook), their ends normalised (LF-only), nesting checked (a reply cut short in
transit is refused, naming the line), and each line's parameters re-quoted where a client wrote
them unquoted (Google's ``X-COMMENTER=mailto:addr``, Lotus Notes' bare ``RSVP``). Exchange's
Windows zone names and ``MAILTO:`` are read after parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Timezone
from icalendar.cal import Component as IcalComponent
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from inviter.addresses import normalize_email
from inviter.text import with_lines
from inviter.translation import _

# RFC 5545 §3.1: a line break followed by one space or tab is a fold. Unfolding the bytes before
# decoding joins a UTF-8 character that a client split across the fold (imip.md 7, 17).
_FOLD = re.compile(rb"\r?\n[ \t]")
_LINE_END = re.compile(r"\r\n|\n|\r")
_NAME = re.compile(r"[A-Za-z0-9-]+")
_DATE_TIME = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")
_PARTSTATS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED", "NEEDS-ACTION"})
ANSWER_METHODS = frozenset({"REPLY", "COUNTER"})
# The most properties a calendar part may hold: a reply has a few dozen; a bigger one is hostile.
MAX_LINES = 20_000
# What a reply is read for: anything else is left out before icalendar parses (see _wanted).
_READ_BLOCKS = frozenset({"VCALENDAR", "VEVENT", "VTIMEZONE", "STANDARD", "DAYLIGHT"})
_CALENDAR_PROPERTIES = frozenset({"METHOD", "PRODID", "VERSION"})
_EVENT_PROPERTIES = frozenset(
    {
        "UID",
        "DTSTAMP",
        "SEQUENCE",
        "DTSTART",
        "DTEND",
        "ATTENDEE",
        "COMMENT",
        "DESCRIPTION",
        "RECURRENCE-ID",
        "X-MICROSOFT-CDO-REPLYTIME",
        "X-MICROSOFT-CDO-APPT-SEQUENCE",
    }
)
# RFC 5545 §3.8.7.4: SEQUENCE is an INTEGER, which §3.3.8 bounds to a signed 32-bit value.
MAX_SEQUENCE = 2**31 - 1


class CalendarError(ValueError):
    """A calendar part cannot be read; the message says where and why."""


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


def _requote(line: str, number: int) -> str:
    """Return one unfolded content line with every parameter value in double quotes.

    A strict reader splits ``COMMENT;X-COMMENTER=mailto:a@b:text`` (Google) at the wrong colon
    and refuses ``ATTENDEE;RSVP:mailto:…`` (old Lotus Notes); written back quoted, both parse.
    RFC 6868 escapes are left as they are, for icalendar to decode.
    """
    match = re.match(r"[A-Za-z0-9-]+", line)
    if not match:
        raise CalendarError(
            _("line {number}: not a content line: {text}").format(
                number=number, text=repr(line[:60])
            )
        )
    name = match.group().upper()
    pos = match.end()
    params: list[str] = []
    while pos < len(line) and line[pos] == ";":
        key_match = re.match(r"[A-Za-z0-9-]+", line[pos + 1 :])
        if not key_match:
            raise CalendarError(
                _("line {number}: {name}: bad parameter at column {column}").format(
                    number=number, name=name, column=pos + 2
                )
            )
        key = key_match.group().upper()
        pos += 1 + key_match.end()
        if pos >= len(line) or line[pos] != "=":
            params.append(f'{key}=""')  # a parameter without a value (Lotus Notes)
            continue
        pos += 1
        values = []
        while True:
            if pos < len(line) and line[pos] == '"':
                end = line.find('"', pos + 1)
                if end < 0:
                    raise CalendarError(
                        _("line {number}: {name}: unclosed quote in {key}").format(
                            number=number, name=name, key=key
                        )
                    )
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
        params.append(f"{key}=" + ",".join(f'"{v}"' for v in values))
    if pos >= len(line) or line[pos] != ":":
        raise CalendarError(
            _("line {number}: {name}: no ':' before the value").format(number=number, name=name)
        )
    return ";".join([name, *params]) + line[pos:]


def _wanted(open_blocks: list[str], head: str) -> bool:
    """True for a line the reader uses: icalendar's parsing costs ~50 µs a property, and a
    reply carries dozens it never needs (VALARM, X-ALT-DESC, SUMMARY…)."""
    if any(block not in _READ_BLOCKS for block in open_blocks):
        return False
    innermost = open_blocks[-1]
    if innermost in {"VTIMEZONE", "STANDARD", "DAYLIGHT"}:
        return True
    return head in (_EVENT_PROPERTIES if innermost == "VEVENT" else _CALENDAR_PROPERTIES)


@dataclass(frozen=True)
class ReplyCalendar:
    """A reply's calendar, and its VTIMEZONE blocks as text, parsed only if a TZID needs one:
    Exchange's and Google's TZIDs name known zones, and a block costs as much as the rest."""

    calendar: Calendar
    zones: tuple[str, ...] = ()


def parse_calendar(raw: bytes, charset: str | None = None) -> ReplyCalendar:
    """Parse calendar bytes into the outermost VCALENDAR; raise CalendarError naming the line."""
    text = decode_text(unfold(raw), charset)
    lines: list[str] = []
    zones: list[list[str]] = []
    open_blocks: list[str] = []
    seen_calendar = False
    number = last = 0
    for number, line in enumerate(_LINE_END.split(text), start=1):
        if number > MAX_LINES:
            raise CalendarError(_("more than {count} lines: not a reply").format(count=MAX_LINES))
        line = line.strip("\ufeff")
        if not line.strip():
            continue
        last = number
        name = _NAME.match(line)
        head = name.group().upper() if name else ""
        if head in {"BEGIN", "END"}:
            block = _requote(line, number).partition(":")[2].strip().upper()
            if head == "BEGIN":
                if not open_blocks and block != "VCALENDAR":
                    continue  # outside any calendar: not ours to read
                seen_calendar = True
                open_blocks.append(block)
                if open_blocks == ["VCALENDAR", "VTIMEZONE"]:
                    zones.append([])
            elif not open_blocks or open_blocks[-1] != block:
                raise CalendarError(
                    _("line {number}: END:{block} does not close a BEGIN").format(
                        number=number, block=block
                    )
                )
            else:
                open_blocks.pop()
            if not open_blocks:
                lines.append(f"END:{block}")
                break  # the first calendar is the reply; what follows is not read
            fixed = f"{head}:{block}"
        elif not open_blocks or not _wanted(open_blocks, head):
            continue  # never requoted: not read, so not worth the cost
        else:
            fixed = _requote(line, number)
        in_zone = open_blocks[:2] == ["VCALENDAR", "VTIMEZONE"]
        if in_zone or (head == "END" and fixed == "END:VTIMEZONE" and len(open_blocks) == 1):
            zones[-1].append(fixed)
        else:
            lines.append(fixed)
    if not seen_calendar:
        raise CalendarError(_("no BEGIN:VCALENDAR"))
    if open_blocks:
        # Truncated: a reply cut short in transit; what was read may still hold the answer, but
        # half a calendar is not evidence to record.
        raise CalendarError(
            _("line {number}: ends inside {block} (no END)").format(
                number=last, block=open_blocks[-1]
            )
        )
    try:
        calendar = Calendar.from_ical("\r\n".join(lines) + "\r\n")
    except Exception as exc:  # icalendar raises ValueError, KeyError, IndexError on odd input
        raise CalendarError(_("not iCalendar: {error}").format(error=exc)) from None
    return ReplyCalendar(calendar, tuple("\r\n".join(block) + "\r\n" for block in zones))


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
