"""A reply's calendar made readable for icalendar: the adapter before ``Calendar.from_ical``.

imip.md 17: clients bend RFC 5545 in known ways. Lines are unfolded at the byte level
(Thunderbird's folds split UTF-8 characters), decoded from the declared charset, UTF-8 or
Windows-1252 (Outlook), their ends normalised (LF-only), nesting checked (a reply cut short in
transit is refused, naming the line), each line's parameters re-quoted where a client wrote them
unquoted (Google's ``X-COMMENTER=mailto:addr``, Lotus Notes' bare ``RSVP``), and only the lines
a reply is read for are handed to icalendar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from icalendar import Calendar

from inviter.translation import _

# RFC 5545 §3.1: a line break followed by one space or tab is a fold. Unfolding the bytes before
# decoding joins a UTF-8 character that a client split across the fold (imip.md 7, 17).
_FOLD = re.compile(rb"\r?\n[ \t]")
_LINE_END = re.compile(r"\r\n|\n|\r")
_NAME = re.compile(r"[A-Za-z0-9-]+")
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


class CalendarError(ValueError):
    """A calendar part cannot be read; the message says where and why."""


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
