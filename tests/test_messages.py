"""The e-mail message: the MIME tree, 7-bit encodings, RFC 2047 headers, header injection."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re
from email.header import decode_header, make_header
from email.message import EmailMessage, MIMEPart
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inviter.compose.calendar import build_cancel, build_request, serialize
from inviter.compose.message import _encode_words, build_message, new_message_id
from inviter.compose.templates import Templates
from inviter.domain import Kind, Meeting, Organizer, Recipient
from inviter.errors import InputError, TemplateError
from inviter.store.models import Contact
from tests.invitations_support import (
    ATTENDEE_EMAIL,
    ATTENDEE_NAME,
    BIBLIOTEKSJEFMOTE,
    MESSAGE_ID,
    NOW,
    ORGANIZER,
    REGIONMOTE_NORD_TROMS,
    ROOT,
    TEMAMOTE_TROMSO,
    UID,
    icaljs,
)

TEMPLATES = Templates(ROOT / "templates")
ELLE = Recipient(email=ATTENDEE_EMAIL, name=ATTENDEE_NAME, role="biblioteksjef")


def build(
    meeting: Meeting = TEMAMOTE_TROMSO,
    recipient: Recipient = ELLE,
    *,
    kind: Kind = "request",
    sequence: int = 0,
    organizer: Organizer = ORGANIZER,
    message_id: str = MESSAGE_ID,
) -> bytes:
    return build_message(
        meeting,
        organizer,
        recipient,
        kind=kind,
        uid=UID,
        sequence=sequence,
        now=NOW,
        message_id=message_id,
        templates=TEMPLATES,
    )


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def tree(part: MIMEPart) -> str | list[Any]:
    if part.is_multipart():
        return [part.get_content_type(), [tree(child) for child in part.iter_parts()]]
    return part.get_content_type()


def parts(message: EmailMessage) -> dict[str, EmailMessage]:
    return {part.get_content_type(): part for part in message.walk()}


# ---------------------------------------------------------------- the tree (imip.md 12, 13)


@pytest.mark.parametrize("kind", ["request", "reminder", "cancel"])
def test_exact_mime_tree(kind: Kind) -> None:
    message = parse(build(kind=kind))
    assert tree(message) == [
        "multipart/mixed",
        [
            ["multipart/alternative", ["text/plain", "text/html", "text/calendar"]],
            "application/ics",
        ],
    ]
    method = "CANCEL" if kind == "cancel" else "REQUEST"
    found = parts(message)
    calendar = found["text/calendar"]
    assert calendar.get_param("method") == method
    assert calendar.get_content_charset() == "utf-8"
    assert calendar.get_content_disposition() is None  # inline
    attachment = found["application/ics"]
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invitation.ics"
    assert attachment.get_param("name") == "invitation.ics"


def test_raw_content_types_are_exactly_as_clients_expect() -> None:
    data = build()
    assert b'\r\nContent-Type: text/calendar; charset="UTF-8"; method=REQUEST\r\n' in data
    assert b'\r\nContent-Type: application/ics; name="invitation.ics"\r\n' in data
    assert b'\r\nContent-Disposition: attachment; filename="invitation.ics"\r\n' in data
    cancel = build(kind="cancel", sequence=1)
    assert b'\r\nContent-Type: text/calendar; charset="UTF-8"; method=CANCEL\r\n' in cancel


@pytest.mark.parametrize("kind", ["request", "reminder", "cancel"])
def test_method_on_content_type_equals_method_inside(kind: Kind) -> None:
    found = parts(parse(build(kind=kind, sequence=1)))
    for name in ("text/calendar", "application/ics"):
        inside = found[name].get_payload(decode=True)
        expected = "CANCEL" if kind == "cancel" else "REQUEST"
        assert f"\r\nMETHOD:{expected}\r\n".encode() in inside
    assert found["text/calendar"].get_param("method") == (
        "CANCEL" if kind == "cancel" else "REQUEST"
    )


def test_both_calendar_parts_are_the_pure_builders_output() -> None:
    found = parts(parse(build(REGIONMOTE_NORD_TROMS)))
    expected = serialize(
        build_request(
            REGIONMOTE_NORD_TROMS,
            ORGANIZER,
            ATTENDEE_EMAIL,
            ATTENDEE_NAME,
            uid=UID,
            sequence=0,
            now=NOW,
        )
    )
    assert found["text/calendar"].get_payload(decode=True) == expected
    assert found["application/ics"].get_payload(decode=True) == expected


def test_reminder_carries_the_same_calendar_as_the_request() -> None:
    request = parts(parse(build(sequence=2)))["text/calendar"].get_payload(decode=True)
    reminder = parse(build(kind="reminder", sequence=2))
    assert parts(reminder)["text/calendar"].get_payload(decode=True) == request
    assert reminder["Subject"] == "Påminnelse om Temamøte: Litteratur og kultur, 9. november 2022"


def test_cancel_carries_the_cancel_calendar() -> None:
    message = parse(build(kind="cancel", sequence=1))
    expected = serialize(
        build_cancel(
            TEMAMOTE_TROMSO, ORGANIZER, ATTENDEE_EMAIL, ATTENDEE_NAME, uid=UID, sequence=1, now=NOW
        )
    )
    assert parts(message)["text/calendar"].get_payload(decode=True) == expected
    assert message["Subject"] == "Avlysning av Temamøte: Litteratur og kultur, 9. november 2022"


# ---------------------------------------------------------------- 7 bit (imip.md 14)


@pytest.mark.parametrize("meeting", [TEMAMOTE_TROMSO, REGIONMOTE_NORD_TROMS, BIBLIOTEKSJEFMOTE])
@pytest.mark.parametrize("language", ["nb", "en"])
def test_whole_message_is_7bit_with_crlf_and_short_lines(meeting: Meeting, language: str) -> None:
    data = build(meeting, dataclasses.replace(ELLE, language=language))
    assert data.isascii()
    assert b"\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    message = parse(data)
    encodings = {
        part.get_content_type(): part["Content-Transfer-Encoding"]
        for part in message.walk()
        if not part.is_multipart()
    }
    assert encodings == {
        "text/plain": "quoted-printable",
        "text/html": "quoted-printable",
        "text/calendar": "base64",
        "application/ics": "base64",
    }
    assert b"8bit" not in data.lower()


def test_text_parts_decode_to_utf8_with_letters_intact() -> None:
    found = parts(parse(build(recipient=Recipient(email="a@example.org", name="Áilu Čađŋšŧž"))))
    text = found["text/plain"].get_content().replace("\r\n", "\n")
    assert text.startswith("Hei, Áilu Čađŋšŧž\n")
    assert "onsdag 9. november 2022 kl. 10.00–15.00" in text
    assert "Áilu Čađŋšŧž" in found["text/html"].get_content()


# ---------------------------------------------------------------- headers (imip.md 3, 15)


def test_headers_from_to_date_message_id() -> None:
    message = parse(build())
    assert message["From"] == '"Troms fylkeskommune, fylkesbiblioteket" <bibliotek@example.org>'
    assert message["To"] == f"{ATTENDEE_NAME} <{ATTENDEE_EMAIL}>"
    assert [a.addr_spec for a in message["To"].addresses] == [ATTENDEE_EMAIL]
    assert message["Message-ID"] == MESSAGE_ID
    assert message["MIME-Version"] == "1.0"
    assert parsedate_to_datetime(message["Date"]) == NOW
    assert message["Subject"] == "Invitasjon til Temamøte: Litteratur og kultur, 9. november 2022"


def test_organizer_in_calendar_equals_from() -> None:
    message = parse(build())
    calendar = parts(message)["text/calendar"].get_payload(decode=True)
    assert isinstance(calendar, bytes)
    organizer = icaljs(calendar)["organizer"]["value"]
    assert organizer == f"mailto:{message['From'].addresses[0].addr_spec}"


def test_sami_names_round_trip_through_rfc2047_in_from_to_and_subject() -> None:
    organizer = Organizer(
        name="Romssa fylkagielda, Girjerájus – Čađŋšŧž", email="girji@example.org"
    )
    recipient = Recipient(email="maret@example.org", name="Máret Ŋuorra-Čuđđi Šŧž")
    meeting = dataclasses.replace(TEMAMOTE_TROMSO, title="Ođđa áigi: Čoahkkin ŋ š ŧ ž æøå")
    data = build(meeting, recipient, organizer=organizer)
    head = data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"=?utf-8?" in head
    for letters in ("Máret", "Čađ", "Ođđa"):
        assert letters.encode() not in head
    # RFC 2047 §6.2: white space between adjacent encoded words is dropped when decoding.
    # email.header follows that; Python 3.11's address parser keeps a space there, so the
    # round trip is checked with the former.
    decoded = {
        name: str(make_header(decode_header(value)))
        for name, value in re.findall(
            r"^([A-Za-z-]+): (.*?)\r\n(?! )", head.decode().replace("\r\n ", " ") + "\r\n", re.M
        )
    }
    assert decoded["From"] == f"{organizer.name} <girji@example.org>"
    assert decoded["To"] == f"{recipient.name} <maret@example.org>"
    assert decoded["Subject"] == f"Invitasjon til {meeting.title}, 9. november 2022"
    message = parse(data)
    assert message["To"].addresses[0].display_name == recipient.name
    assert message["Subject"] == decoded["Subject"]


# ---------------------------------------------------------------- header injection


@pytest.mark.parametrize(
    "name",
    [
        "Ann\r\nBcc: evil@example.org",
        "Ann\nBcc: evil@example.org",
        "=?UTF-8?Q?=0A?=Bcc: evil@example.org",
        "=?utf-8?b?QW5uCkJjYzogZXZpbEBleGFtcGxlLm9yZw==?=",
        "Ann\u2028Bcc: evil@example.org",
        "Ann\u0085Bcc: evil@example.org",
        "Ann\x00\x1bBcc: evil@example.org",
    ],
)
def test_hostile_names_cannot_inject_a_header(name: str) -> None:
    data = build(recipient=Recipient(email="ann@example.org", name=name))
    head = data.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"(?im)^bcc:", head)
    message = parse(data)
    assert message["Bcc"] is None
    assert [a.addr_spec for a in message["To"].addresses] == ["ann@example.org"]
    assert set(message.keys()) == {
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
        "Content-Type",
    }
    display = message["To"].addresses[0].display_name
    assert "\n" not in display
    assert "\r" not in display
    assert "=?" not in display
    if "Bcc" in name:
        assert "Bcc: evil@example.org" in display  # shown as text, harmless


@pytest.mark.parametrize(
    "address",
    [
        "ann@example.org, evil@example.org",
        "ann@example.org\r\nBcc: evil@example.org",
        "Ann <ann@example.org>",
        "ann@example.org>",
        "not-an-address",
    ],
)
def test_recipient_address_that_is_not_one_plain_address_is_refused(address: str) -> None:
    with pytest.raises(InputError):
        build(recipient=Recipient(email=address, name="Ann"))


def test_subject_with_a_line_break_is_a_template_error() -> None:
    meeting = dataclasses.replace(TEMAMOTE_TROMSO, title="Møte\r\nBcc: evil@example.org")
    with pytest.raises(TemplateError) as caught:
        build(meeting)
    assert str(caught.value) == (
        "templates/temamote/nb/subject.txt: the subject must be one line of text, "
        "but it contains a carriage return (CR)"
    )


def test_bad_message_id_is_refused() -> None:
    with pytest.raises(InputError, match="Message-ID"):
        build(message_id="<abc@example.org>\r\nBcc: evil@example.org")
    with pytest.raises(InputError, match="Message-ID"):
        build(message_id="abc@example.org")


# ---------------------------------------------------------------- HTML escaping


def test_script_in_a_name_is_escaped_in_html_only() -> None:
    name = "Ann <script>alert(1)</script> & Co"
    found = parts(parse(build(recipient=Recipient(email="ann@example.org", name=name))))
    html = found["text/html"].get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "<script" not in html
    text = found["text/plain"].get_content()
    assert f"Hei, {name}\r\n" in text


def test_html_part_is_simple_and_accessible() -> None:
    html = parts(parse(build(REGIONMOTE_NORD_TROMS)))["text/html"].get_content()
    assert '<html lang="nb">' in html
    assert "<h1 " in html
    assert "<h2 " in html
    for banned in ("<script", "<img", "<style", "<link", "<iframe", "<form"):
        assert banned not in html
    url = REGIONMOTE_NORD_TROMS.online_url
    assert f'<a href="{url}"' in html


# ---------------------------------------------------------------- languages and identity


def test_english_recipient_gets_english_texts() -> None:
    message = parse(build(BIBLIOTEKSJEFMOTE, dataclasses.replace(ELLE, language="en")))
    assert message["Subject"] == (
        "Invitation to Biblioteksjefmøtet for Troms fylke, 11–12 October 2022"
    )
    found = parts(message)
    assert "Tuesday 11 October, 10:00 – Wednesday 12 October 2022, 15:00" in (
        found["text/plain"].get_content()
    )
    assert '<html lang="en">' in found["text/html"].get_content()


def test_unknown_language_falls_back_to_bokmal() -> None:
    message = parse(build(recipient=dataclasses.replace(ELLE, language="se")))
    assert message["Subject"].startswith("Invitasjon til ")


def test_same_input_same_bytes_and_boundaries_follow_the_message_id() -> None:
    assert build() == build()
    other = build(message_id="<ffff@example.org>")
    assert other != build()
    boundaries = re.findall(rb'boundary="([^"]+)"', other)
    assert len(set(boundaries)) == 2
    assert all(b.startswith(b"=_") for b in boundaries)


def test_new_message_id_is_random_under_the_organizer_domain() -> None:
    ids = {new_message_id(ORGANIZER) for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"<[0-9a-f]{32}@example\.org>", i) for i in ids)


def test_recipient_from_contact() -> None:
    contact = Contact(
        email="ann@example.org",
        name="Ann Lie",
        role="biblioteksjef",
        municipality="Senja",
        region="Midt-Troms",
        organization="Senja bibliotek",
        title="Leder",
        phone="1",
        language="en",
    )
    assert Recipient.from_contact(contact) == Recipient(
        email="ann@example.org",
        name="Ann Lie",
        language="en",
        role="biblioteksjef",
        municipality="Senja",
        region="Midt-Troms",
        organization="Senja bibliotek",
        title="Leder",
    )


@settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(["To", "From", "Subject"]),
    value=st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029"),
        min_size=1,
        max_size=120,
    ).filter(lambda text: not text.isascii()),
)
def test_encoded_words_decode_back_exactly_and_keep_to_the_lengths(field: str, value: str) -> None:
    # RFC 2047 §2 (a word at most 75), §5 (whole characters, the phrase's safe set), RFC 5322
    # §2.1.1 (lines at most 78 with "Field: " in front of the first).
    folded = _encode_words(field, value)
    assert folded.isascii()
    lines = f"{field}: {folded}".split("\r\n")
    assert all(len(line) <= 78 for line in lines), lines
    assert all(line.startswith(" ") for line in lines[1:])
    words = folded.replace("\r\n ", " ").split(" ")
    for word in words:
        assert len(word) <= 75
        assert re.fullmatch(r"=\?utf-8\?q\?[A-Za-z0-9!*+/=_-]*\?=", word), word
        # Each word decodes alone: no multi-octet character is split between two words.
        [(raw, charset)] = decode_header(word)
        raw.decode(charset)
    assert str(make_header(decode_header(folded.replace("\r\n ", " ")))) == value
