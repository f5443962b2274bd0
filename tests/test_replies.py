"""The reply parser on the shapes real clients send (imip.md 16–18), and on hostile input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inviter.replies.attribution import attribute
from inviter.replies.calendar_adapter import CalendarError, parse_calendar, unfold
from inviter.replies.calendar_reply import Answer, read_calendar
from inviter.replies.mail_files import read_mime
from tests.replies_helpers import UID, build_tnef, sample, tnef_mail

NOW = datetime(2022, 10, 20, 12, 0, tzinfo=UTC)


def answers(name: str) -> list[Answer]:
    """The answers a sample message is recorded with: one attendee's (and a delegation pair)."""
    reading = read_mime(sample(name), NOW)
    assert reading.problems == []
    return [a for part in attribute(reading.answers, reading.senders) for a in part.answers]


def test_outlook_exchange_reply_without_organizer() -> None:
    # No ORGANIZER, Windows zone name, MAILTO: in capitals, X-MICROSOFT-CDO-*, "Godtatt:",
    # base64 calendar beside a quoted-printable Latin-1 text part.
    [answer] = answers("outlook-accepted.eml")
    assert answer == Answer(
        method="REPLY",
        uid=UID,
        email="hilde.marie.bjornevik@tromso.example.org",
        name="Hilde Marie Bjørnevik",
        partstat="ACCEPTED",
        sequence=0,
        dtstamp=datetime(2022, 10, 3, 7, 45, 12, tzinfo=UTC),
        comment="Jeg kommer gjerne, og tar med en kollega.",
    )


def test_gmail_reply_with_valarm_guests_and_comment_sent_twice() -> None:
    # Google sends the calendar inline and as invite.ics: one answer, not two.
    [answer] = answers("gmail-accepted.eml")
    assert (answer.email, answer.partstat, answer.guests) == (
        "emma.clarke@uit.example.org",
        "ACCEPTED",
        1,
    )
    assert answer.comment == "Looking forward to it, bringing a colleague."


def test_gmail_counter_proposes_a_new_time() -> None:
    [answer] = answers("gmail-counter.eml")
    assert answer.method == "COUNTER"
    assert answer.proposed_start == datetime(2022, 11, 9, 10, 0, tzinfo=UTC)
    assert answer.proposed_end == datetime(2022, 11, 9, 15, 0, tzinfo=UTC)
    assert answer.comment == "Kan vi starte en time senere? Ferja går 08.15."


def test_apple_calendar_attachment_quoted_printable() -> None:
    [answer] = answers("apple-declined.eml")
    assert (answer.email, answer.name, answer.partstat) == (
        "biret.anne.ziina@balsfjord.example.org",
        "Biret Ánne Žiiná",
        "DECLINED",
    )


def test_thunderbird_lf_only_and_fold_inside_a_utf8_character() -> None:
    raw = sample("thunderbird-tentative.eml")
    assert b"\r\n" not in raw
    assert b"R\xc3\n \xa5dgiver" in raw  # the fold splits "å" at the byte level
    [answer] = answers("thunderbird-tentative.eml")
    assert answer.name == "Anne-Grethe Fylling (Rådgiver, bibliotekutvikling, fylkesbiblioteket)"
    assert answer.partstat == "TENTATIVE"


def test_delegation_records_the_delegator_with_the_delegate() -> None:
    # The delegate's NEEDS-ACTION is not an answer: only explicit ones count.
    [answer] = answers("delegated.eml")
    assert (answer.email, answer.partstat, answer.delegated_to) == (
        "liisa.raappana@nordreisa.example.org",
        "DELEGATED",
        "mikko.raappana@nordreisa.example.org",
    )


def test_forwarded_message_rfc822_is_walked() -> None:
    [answer] = answers("forwarded-rfc822.eml")
    assert (answer.email, answer.name) == ("ordforer@karlsoy.example.org", "Ordfører i Karlsøy")


@pytest.mark.parametrize(("name", "auto"), [("plain-accepted.eml", False), ("autoreply.eml", True)])
def test_mail_without_calendar_has_no_answer(name: str, auto: bool) -> None:
    reading = read_mime(sample(name), NOW)
    assert (reading.answers, reading.problems, reading.has_calendar) == ([], [], False)
    assert reading.auto_reply is auto


def test_truncated_calendar_is_a_problem_naming_the_line() -> None:
    reading = read_mime(sample("truncated-calendar.eml"), NOW)
    assert reading.answers == []
    assert reading.problems == [
        "part 1 (text/calendar) cannot be read: line 5: ends inside VEVENT (no END)"
    ]


def test_tnef_with_calendar_attachment_is_decoded() -> None:
    ics = (
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:" + UID + "\r\n"
        "DTSTAMP:20221012T060000Z\r\nATTENDEE;PARTSTAT=ACCEPTED:MAILTO:ASLAK.CUDDI@LYNGEN.EXAMPLE.ORG\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    blob = build_tnef("IPM.Microsoft Schedule.MtgRespP", [("meeting.ics", ics)])
    reading = read_mime(tnef_mail(blob, message_id="<tnef-ics@lyngen.example.org>"), NOW)
    assert [(a.email, a.partstat) for a in reading.answers] == [
        ("aslak.cuddi@lyngen.example.org", "ACCEPTED")
    ]


def test_tnef_without_calendar_is_reported_for_review() -> None:
    blob = build_tnef("IPM.Microsoft Schedule.MtgRespP")
    reading = read_mime(tnef_mail(blob, message_id="<tnef@lyngen.example.org>"), NOW)
    assert reading.answers == []
    assert reading.problems == [
        "part 3 (application/ms-tnef) winmail.dat holds an Outlook IPM.Microsoft "
        "Schedule.MtgRespP message without a calendar part; open it in Outlook and record "
        "the answer with 'inviter rsvp set'"
    ]


def reply(*lines: str, method: str = "REPLY") -> bytes:
    body = ["BEGIN:VCALENDAR", f"METHOD:{method}", *lines, "END:VCALENDAR", ""]
    return "\r\n".join(body).encode()


def event(*lines: str) -> list[str]:
    return ["BEGIN:VEVENT", f"UID:{UID}", *lines, "END:VEVENT"]


def test_unfold_is_byte_level() -> None:
    assert unfold(b"CN=\xc3\r\n \xa5\nX:\n\tY") == b"CN=\xc3\xa5\nX:Y"


def test_counter_in_a_windows_zone_is_converted_to_utc() -> None:
    raw = reply(
        *event(
            "DTSTAMP:20221001T100000Z",
            "DTSTART;TZID=W. Europe Standard Time:20220815T110000",  # summer: UTC+2
            'DTEND;TZID="W. Europe Standard Time":20221115T110000',  # winter: UTC+1
            "ATTENDEE;PARTSTAT=TENTATIVE:mailto:a@example.org",
        ),
        method="COUNTER",
    )
    [answer] = read_calendar(raw, fallback_stamp=NOW).answers
    assert answer.proposed_start == datetime(2022, 8, 15, 9, 0, tzinfo=UTC)
    assert answer.proposed_end == datetime(2022, 11, 15, 10, 0, tzinfo=UTC)


def test_unknown_tzid_uses_the_vtimezone_given() -> None:
    raw = reply(
        "BEGIN:VTIMEZONE",
        "TZID:Customized Time Zone",
        "BEGIN:STANDARD",
        "DTSTART:16010101T030000",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:16010101T020000",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
        *event(
            "DTSTAMP;TZID=Customized Time Zone:20221109T100000",
            "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.org",
        ),
    )
    [answer] = read_calendar(raw, fallback_stamp=NOW).answers
    assert answer.dtstamp == datetime(2022, 11, 9, 9, 0, tzinfo=UTC)


def test_unknown_tzid_without_vtimezone_is_an_error() -> None:
    raw = reply(
        *event("DTSTAMP;TZID=Mars/Olympus:20221109T100000", "ATTENDEE:mailto:a@example.org")
    )
    with pytest.raises(CalendarError, match="TZID 'Mars/Olympus' is neither a known zone"):
        read_calendar(raw, fallback_stamp=NOW)


def test_missing_dtstamp_falls_back_and_sequence_is_read() -> None:
    raw = reply(*event("SEQUENCE:3", "ATTENDEE;PARTSTAT=DECLINED:mailto:a@example.org"))
    [answer] = read_calendar(raw, fallback_stamp=NOW).answers
    assert (answer.dtstamp, answer.sequence) == (NOW, 3)


def test_method_from_content_type_when_the_object_has_none() -> None:
    raw = (
        b"BEGIN:VCALENDAR\r\n"
        + b"\r\n".join(s.encode() for s in event("ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.org"))
        + b"\r\nEND:VCALENDAR\r\n"
    )
    assert read_calendar(raw, fallback_stamp=NOW).problem == "calendar with no METHOD, not a reply"
    reading = read_calendar(raw, content_method="reply", fallback_stamp=NOW)
    assert [a.partstat for a in reading.answers] == ["ACCEPTED"]


def test_a_request_is_not_a_reply() -> None:
    raw = reply(*event("ATTENDEE:mailto:a@example.org"), method="REQUEST")
    assert (
        read_calendar(raw, fallback_stamp=NOW).problem
        == "calendar with METHOD:REQUEST, not a reply"
    )


def test_windows_1252_calendar_is_decoded() -> None:
    raw = reply(*event("ATTENDEE;CN=Bjørn Ås;PARTSTAT=ACCEPTED:mailto:b@example.org")).decode()
    [answer] = read_calendar(raw.encode("cp1252"), fallback_stamp=NOW).answers
    assert answer.name == "Bjørn Ås"


def test_hostile_names_lose_control_characters_and_keep_text() -> None:
    raw = reply(
        *event("ATTENDEE;CN=\"<b>Eve</b>^n^'X^'\";PARTSTAT=ACCEPTED:mailto:eve@example.org")
    )
    [answer] = read_calendar(raw, fallback_stamp=NOW).answers
    # RFC 6868: ^n is a newline (it cannot stay in a name), ^' a double quote.
    assert answer.name == '<b>Eve</b> "X"'


def test_bad_attendee_address_is_an_error_naming_it() -> None:
    raw = reply(*event("ATTENDEE;PARTSTAT=ACCEPTED:mailto:not an address"))
    with pytest.raises(CalendarError, match="ATTENDEE 'mailto:not an address'"):
        read_calendar(raw, fallback_stamp=NOW)


def test_a_huge_calendar_is_refused() -> None:
    raw = reply(*event(*(["X-JUNK:x"] * 25_000), "ATTENDEE:mailto:a@example.org"))
    with pytest.raises(CalendarError, match="more than 20000 lines"):
        parse_calendar(raw)


def test_echoed_attendees_needing_action_do_not_count() -> None:
    raw = reply(
        *event(
            "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:b@example.org",
            "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.org",
        )
    )
    [part] = attribute(read_calendar(raw, fallback_stamp=NOW).answers, frozenset())
    assert ([a.email for a in part.answers], part.ignored) == (
        ["a@example.org"],
        ("b@example.org",),
    )
    assert not part.verified  # nobody sent it: no From given
