"""The calendar objects: known-good files, independent parsers, escaping, folding, time zones."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inviter.compose.calendar import build_cancel, build_request, quote_cn, serialize
from inviter.compose.timezones import timezone_rules
from inviter.domain import Meeting
from inviter.errors import InputError
from tests.invitations_support import (
    ATTENDEE_EMAIL,
    ATTENDEE_NAME,
    BIBLIOTEKSJEFMOTE,
    ICS_DATA,
    NOW,
    ORGANIZER,
    REGIONMOTE_NORD_TROMS,
    TEMAMOTE_TROMSO,
    UID,
    content_lines,
    icaljs,
    libical_errors,
    normalized,
    physical_lines,
    vobject_event,
)

SAMI = "áčđŋšŧžÁČĐŊŠŦŽ"
NORWEGIAN = "æøåÆØÅ"


def request(
    meeting: Meeting = TEMAMOTE_TROMSO,
    name: str = ATTENDEE_NAME,
    email: str = ATTENDEE_EMAIL,
    sequence: int = 0,
) -> bytes:
    return serialize(
        build_request(meeting, ORGANIZER, email, name, uid=UID, sequence=sequence, now=NOW)
    )


# ---------------------------------------------------------------- known-good files


@pytest.mark.parametrize(
    ("filename", "build"),
    [
        ("temamote-tromso-request.ics", lambda: request()),
        ("regionmote-nord-troms-request.ics", lambda: request(REGIONMOTE_NORD_TROMS)),
        ("biblioteksjefmote-2022-request.ics", lambda: request(BIBLIOTEKSJEFMOTE, sequence=2)),
        (
            "temamote-tromso-cancel.ics",
            lambda: serialize(
                build_cancel(
                    TEMAMOTE_TROMSO,
                    ORGANIZER,
                    ATTENDEE_EMAIL,
                    ATTENDEE_NAME,
                    uid=UID,
                    sequence=1,
                    now=NOW,
                )
            ),
        ),
    ],
)
def test_calendar_means_what_the_known_good_file_says(
    filename: str, build: Callable[[], bytes]
) -> None:
    # Compared after normalising both, as khal's tests/utils.py does: the order of properties
    # and parameters, and where a line is folded, are the serialiser's to choose.
    assert normalized(build()) == normalized((ICS_DATA / filename).read_bytes())


def test_known_good_request_has_every_property_imip_asks_for() -> None:
    """imip.md 1-4: VERSION, PRODID, METHOD, and one VEVENT with its properties."""
    lines = content_lines((ICS_DATA / "temamote-tromso-request.ics").read_bytes())
    assert lines[:5] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//inviter//Calendar invitations//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:REQUEST",
    ]
    event = lines[lines.index("BEGIN:VEVENT") + 1 : lines.index("END:VEVENT")]
    assert event == [
        f"UID:{UID}",
        "DTSTAMP:20220815T093000Z",
        "SEQUENCE:0",
        "DTSTART;TZID=Europe/Oslo:20221109T100000",
        "DTEND;TZID=Europe/Oslo:20221109T150000",
        "SUMMARY:Temamøte: Litteratur og kultur",
        "LOCATION:Tromsø",
        "DESCRIPTION:Temamøte om handlingsplanens fokusområde litteratur og kultur: "
        "bibliotekets rolle som kulturarena.",
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        'ORGANIZER;CN="Troms fylkeskommune, fylkesbiblioteket":mailto:bibliotek@example.org',
        'ATTENDEE;CN="Elle Márjá Ŋávvu";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;'
        "PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:elle.marja.navvu@kafjord.example.org",
    ]
    assert lines.count("BEGIN:VEVENT") == 1
    assert not [line for line in lines if line.startswith(("BEGIN:VALARM", "X-WR-CALNAME"))]


# ---------------------------------------------------------------- time zones (imip.md 8)


def rule_parts(line: str) -> str:
    """An RRULE line with its parts in one order (RFC 5545 §3.3.10 leaves it free)."""
    if not line.startswith("RRULE:"):
        return line
    return "RRULE:" + ";".join(sorted(line.removeprefix("RRULE:").split(";")))


def test_vtimezone_is_rule_based_not_an_rdate_list() -> None:
    lines = [rule_parts(line) for line in content_lines(request())]
    zone = lines[lines.index("BEGIN:VTIMEZONE") : lines.index("END:VTIMEZONE") + 1]
    assert zone == [
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Oslo",
        "BEGIN:DAYLIGHT",
        "DTSTART:19700329T020000",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "TZNAME:CEST",
        "RRULE:BYDAY=-1SU;BYMONTH=3;FREQ=YEARLY",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "DTSTART:19701025T030000",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "TZNAME:CET",
        "RRULE:BYDAY=-1SU;BYMONTH=10;FREQ=YEARLY",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
    assert not [line for line in lines if line.startswith("RDATE")]


@pytest.mark.parametrize(
    ("meeting", "start", "end"),
    [
        # Winter: CET, UTC+1.
        (TEMAMOTE_TROMSO, "2022-11-09T09:00:00Z", "2022-11-09T14:00:00Z"),
        # Summer: CEST, UTC+2.
        (REGIONMOTE_NORD_TROMS, "2022-09-05T08:00:00Z", "2022-09-05T10:00:00Z"),
        # Two days, one event.
        (BIBLIOTEKSJEFMOTE, "2022-10-11T08:00:00Z", "2022-10-12T13:00:00Z"),
    ],
)
def test_icaljs_converts_through_the_embedded_vtimezone_to_the_right_instant(
    meeting: Meeting, start: str, end: str
) -> None:
    parsed = icaljs(request(meeting))
    assert parsed["timezones"] == ["Europe/Oslo"]
    assert parsed["start_tzid"] == "Europe/Oslo"
    assert (parsed["start"], parsed["end"]) == (start, end)
    assert parsed["events"] == 1
    assert parsed["dtstamp"] == "2022-08-15T09:30:00Z"


@pytest.mark.parametrize(
    ("zone", "local", "rrules"),
    [
        (
            "America/New_York",
            datetime(2023, 7, 4, 9),
            {"BYMONTH=3;BYDAY=2SU", "BYMONTH=11;BYDAY=1SU"},
        ),
        (
            "America/New_York",
            datetime(2023, 1, 10, 9),
            {"BYMONTH=3;BYDAY=2SU", "BYMONTH=11;BYDAY=1SU"},
        ),
        (
            "Australia/Sydney",
            datetime(2023, 1, 10, 9),
            {"BYMONTH=10;BYDAY=1SU", "BYMONTH=4;BYDAY=1SU"},
        ),
        (
            "Europe/London",
            datetime(2022, 6, 1, 9),
            {"BYMONTH=3;BYDAY=-1SU", "BYMONTH=10;BYDAY=-1SU"},
        ),
        ("Asia/Tokyo", datetime(2022, 6, 1, 9), set()),
    ],
)
def test_other_zones_get_rules_derived_from_zoneinfo(
    zone: str, local: datetime, rrules: set[str]
) -> None:
    meeting = dataclasses.replace(
        TEMAMOTE_TROMSO, timezone=zone, start=local, end=local.replace(hour=11)
    )
    data = request(meeting)
    lines = content_lines(data)
    found = {rule_parts(line) for line in lines if line.startswith("RRULE")}
    assert found == {rule_parts(f"RRULE:FREQ=YEARLY;{rule}") for rule in rrules}
    expected = meeting.start_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert icaljs(data)["start"] == expected


@pytest.mark.parametrize("zone", ["UTC", "Africa/Casablanca"])
def test_zones_without_yearly_rules_fall_back_to_utc_times(zone: str) -> None:
    meeting = dataclasses.replace(TEMAMOTE_TROMSO, timezone=zone)
    lines = content_lines(request(meeting))
    assert "BEGIN:VTIMEZONE" not in lines
    expected = meeting.start_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{expected}" in lines
    assert timezone_rules(zone, 2022, 2022) is None


# ---------------------------------------------------------------- independent checkers


@pytest.mark.parametrize(
    "filename",
    [
        "temamote-tromso-request.ics",
        "regionmote-nord-troms-request.ics",
        "biblioteksjefmote-2022-request.ics",
        "temamote-tromso-cancel.ics",
    ],
)
def test_libical_rfc5546_restriction_check_finds_nothing(filename: str, tmp_path: Path) -> None:
    assert libical_errors((ICS_DATA / filename).read_bytes(), tmp_path) == []


def test_libical_check_does_report_a_request_without_organizer(tmp_path: Path) -> None:
    """The checker itself works: an Outlook-style object without ORGANIZER fails (imip.md)."""
    lines = content_lines(request())
    broken = "".join(f"{line}\r\n" for line in lines if not line.startswith("ORGANIZER"))
    assert libical_errors(broken.encode(), tmp_path) == [
        "VEVENT: Failed iTIP restrictions for ORGANIZER property. "
        "Expected 1 instances of the property and got 0"
    ]


def test_icaljs_reads_organizer_attendee_and_method() -> None:
    parsed = icaljs(request(REGIONMOTE_NORD_TROMS))
    assert parsed["method"] == "REQUEST"
    assert parsed["organizer"] == {
        "value": "mailto:bibliotek@example.org",
        "params": {"cn": "Troms fylkeskommune, fylkesbiblioteket"},
    }
    assert parsed["attendees"] == [
        {
            "value": f"mailto:{ATTENDEE_EMAIL}",
            "params": {
                "cn": ATTENDEE_NAME,
                "cutype": "INDIVIDUAL",
                "role": "REQ-PARTICIPANT",
                "partstat": "NEEDS-ACTION",
                "rsvp": "TRUE",
            },
        }
    ]
    assert parsed["alarms"] == 0
    assert (parsed["status"], parsed["transp"]) == ("CONFIRMED", "OPAQUE")


def test_online_meeting_link_in_url_conference_location_and_description() -> None:
    """imip.md 9: CONFERENCE is ignored by Outlook, Apple and Thunderbird; the text has it."""
    url = REGIONMOTE_NORD_TROMS.online_url
    lines = content_lines(request(REGIONMOTE_NORD_TROMS))
    assert f"URL:{url}" in lines
    assert f"CONFERENCE;VALUE=URI;FEATURE=VIDEO:{url}" in lines
    parsed = icaljs(request(REGIONMOTE_NORD_TROMS))
    assert parsed["url"] == parsed["conference"] == url
    assert parsed["location"] == f"Digitalt møte (videolenke) – {url}"
    assert parsed["description"].endswith(f"\n\n{url}")


def test_uri_values_are_not_text_escaped() -> None:
    url = "https://meet.example.org/j/123,456;pwd=a\\b"
    meeting = dataclasses.replace(REGIONMOTE_NORD_TROMS, online_url=url)
    lines = content_lines(request(meeting))
    assert f"URL:{url}" in lines
    assert f"CONFERENCE;VALUE=URI;FEATURE=VIDEO:{url}" in lines
    assert icaljs(request(meeting))["url"] == url


def test_vobject_validates_request_and_cancel() -> None:
    event = vobject_event(request(BIBLIOTEKSJEFMOTE))
    assert event.summary.value == "Biblioteksjefmøtet for Troms fylke"
    assert event.dtstart.value.astimezone(UTC) == datetime(2022, 10, 11, 8, tzinfo=UTC)
    assert event.dtend.value.astimezone(UTC) == datetime(2022, 10, 12, 13, tzinfo=UTC)
    cancel = vobject_event((ICS_DATA / "temamote-tromso-cancel.ics").read_bytes())
    assert cancel.status.value == "CANCELLED"


# ---------------------------------------------------------------- updates (imip.md 10)


def test_update_is_a_full_request_with_same_uid_higher_sequence_and_new_dtstamp() -> None:
    moved = dataclasses.replace(
        TEMAMOTE_TROMSO, start=datetime(2022, 11, 10, 12), end=datetime(2022, 11, 10, 16)
    )
    later = datetime(2022, 9, 1, 7, 15, tzinfo=UTC)
    first = icaljs(request())
    update = icaljs(
        serialize(
            build_request(
                moved, ORGANIZER, ATTENDEE_EMAIL, ATTENDEE_NAME, uid=UID, sequence=1, now=later
            )
        )
    )
    assert update["method"] == "REQUEST"
    assert update["uid"] == first["uid"] == UID
    assert update["sequence"] == first["sequence"] + 1
    assert update["dtstamp"] == "2022-09-01T07:15:00Z" != first["dtstamp"]
    assert (update["start"], update["end"]) == ("2022-11-10T11:00:00Z", "2022-11-10T15:00:00Z")
    assert update["attendees"][0]["params"]["partstat"] == "NEEDS-ACTION"
    assert update["attendees"][0]["params"]["rsvp"] == "TRUE"
    for key in ("summary", "location", "description", "organizer", "status", "transp"):
        assert update[key] == first[key], key


# ---------------------------------------------------------------- cancellation (imip.md 11)


def test_cancel_keeps_uid_and_start_with_higher_sequence_and_no_rsvp() -> None:
    data = serialize(
        build_cancel(
            TEMAMOTE_TROMSO, ORGANIZER, ATTENDEE_EMAIL, ATTENDEE_NAME, uid=UID, sequence=3, now=NOW
        )
    )
    parsed = icaljs(data)
    assert (parsed["method"], parsed["status"]) == ("CANCEL", "CANCELLED")
    assert (parsed["uid"], parsed["sequence"]) == (UID, 3)
    assert parsed["start"] == "2022-11-09T09:00:00Z"
    assert "rsvp" not in parsed["attendees"][0]["params"]
    assert parsed["organizer"]["value"] == "mailto:bibliotek@example.org"


# ---------------------------------------------------------------- escaping (imip.md 5, 6)


def test_commas_semicolons_backslashes_and_newlines_are_escaped_in_text() -> None:
    meeting = dataclasses.replace(
        TEMAMOTE_TROMSO,
        title="Møte; del 1, om bøker\\film",
        location="Storgata 1, 9008 Tromsø; 2. etasje",
        description="Program:\n1. Velkommen, kaffe; boller\r\n2. Slutt\\ferdig",
    )
    lines = content_lines(request(meeting))
    assert "SUMMARY:Møte\\; del 1\\, om bøker\\\\film" in lines
    assert "LOCATION:Storgata 1\\, 9008 Tromsø\\; 2. etasje" in lines
    assert "DESCRIPTION:Program:\\n1. Velkommen\\, kaffe\\; boller\\n2. Slutt\\\\ferdig" in lines
    parsed = icaljs(request(meeting))
    assert parsed["summary"] == meeting.title
    assert parsed["location"] == meeting.location
    assert parsed["description"] == "Program:\n1. Velkommen, kaffe; boller\n2. Slutt\\ferdig"


def test_cn_with_quote_and_crlf_is_quoted_without_either() -> None:
    name = 'Ann "sjefen" Lie\r\nBcc: evil@example.org'
    lines = content_lines(request(name=name))
    attendee = next(line for line in lines if line.startswith("ATTENDEE"))
    assert attendee.startswith('ATTENDEE;CN="Ann “sjefen” Lie Bcc: evil@example.org";CUTYPE=')
    assert icaljs(request(name=name))["attendees"][0]["params"]["cn"] == (
        "Ann “sjefen” Lie Bcc: evil@example.org"
    )


def test_quote_cn_always_double_quotes() -> None:
    assert quote_cn("Ola, Nordmann; leder: bibliotek") == '"Ola, Nordmann; leder: bibliotek"'
    assert quote_cn('"a" "b"') == '"“a” “b”"'
    assert quote_cn("a\u2028b\x85c\td") == '"a b c d"'


@pytest.mark.parametrize(
    ("uid", "email"),
    [
        ("abc\r\nX-INJECTED:1@example.org", ATTENDEE_EMAIL),
        (UID, "a@example.org\r\nX:1"),
        ("", ATTENDEE_EMAIL),
    ],
)
def test_unsafe_uid_or_address_is_refused(uid: str, email: str) -> None:
    with pytest.raises(InputError):
        serialize(
            build_request(TEMAMOTE_TROMSO, ORGANIZER, email, "A", uid=uid, sequence=0, now=NOW)
        )


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        serialize(
            build_request(
                TEMAMOTE_TROMSO,
                ORGANIZER,
                ATTENDEE_EMAIL,
                "A",
                uid=UID,
                sequence=0,
                now=datetime(2022, 8, 15, 9, 30),
            )
        )


# ---------------------------------------------------------------- folding (imip.md 7)


@pytest.mark.parametrize("letter", list(SAMI + NORWEGIAN))
@pytest.mark.parametrize("shift", range(4))
def test_multibyte_letter_at_the_fold_point_is_never_split(letter: str, shift: int) -> None:
    # "SUMMARY:" is 8 octets; the letters start so that one straddles octet 75 for some shift.
    title = "x" * (65 + shift) + letter * 30 + "€𝄞" + letter * 40
    meeting = dataclasses.replace(TEMAMOTE_TROMSO, title=title)
    data = request(meeting)
    for line in physical_lines(data):
        assert len(line) <= 75
        line.decode("utf-8")  # each physical line decodes on its own
    assert f"SUMMARY:{title}" in content_lines(data)


def test_sami_name_at_fold_point_reads_back_in_icaljs() -> None:
    name = "Máret " + "Čađŋšŧž" * 12 + " Ánde"
    parsed = icaljs(request(name=name))
    assert parsed["attendees"][0]["params"]["cn"] == name


def test_long_lines_fold_at_75_octets_the_space_counted() -> None:
    title = "A" * 200
    data = request(dataclasses.replace(TEMAMOTE_TROMSO, title=title))
    assert all(len(line) <= 75 for line in physical_lines(data))  # RFC 5545 §3.1
    assert f"SUMMARY:{title}" in content_lines(data)


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list(SAMI + NORWEGIAN + "abc ,;:\\\"\n€𝄞^'")),
        min_size=1,
        max_size=300,
    )
)
def test_any_text_round_trips_through_icalendar(text: str) -> None:
    meeting = dataclasses.replace(TEMAMOTE_TROMSO, title=text, description=text)
    data = request(meeting)
    for line in physical_lines(data):
        assert len(line) <= 75
        line.decode("utf-8")
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == text
    if text.strip():
        assert str(event["DESCRIPTION"]) == text.strip()
    else:
        assert "DESCRIPTION" not in event


def test_known_good_files_have_crlf_and_short_lines() -> None:
    for path in sorted(Path(ICS_DATA).glob("*.ics")):
        for line in physical_lines(path.read_bytes()):
            assert len(line) <= 75, (path.name, line)
