"""`inviter preview`: one invitation rendered exactly as it would be sent."""

from __future__ import annotations

import email
import email.policy
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from inviter.compose.message import build_message
from inviter.compose.templates import Templates
from inviter.config import load_settings
from inviter.contacts.audience import select_audience
from inviter.domain import Recipient
from inviter.store.database import Database
from inviter.store.models import REQUEST, SENT, Contact, Delivery, MeetingState
from tests.conftest import Invoke

SAMPLE_LINE = (
    "Sample recipient (the contact list is empty): Ola Nordmann <ola.nordmann@example.org> "
    "is made up; nothing goes to this address."
)


def stored_state(project: Path, slug: str) -> MeetingState:
    settings = load_settings(project / "inviter.toml", env={})
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            state = session.scalar(select(MeetingState).where(MeetingState.slug == slug))
            assert state is not None
            return state
    finally:
        db.close()


def test_empty_contact_list_uses_a_labelled_sample(invoke: Invoke, project: Path) -> None:
    result = invoke("preview", "--meeting", "temamote-tromso")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith(SAMPLE_LINE + "\n\n")
    state = stored_state(project, "temamote-tromso")
    assert '\nFrom: "Troms fylkeskommune, fylkesbiblioteket" <bibliotek@example.org>\n' in out
    assert "\nTo: Ola Nordmann <ola.nordmann@example.org>\n" in out
    assert "\nSubject: Invitasjon til Temamøte: Litteratur og kultur, 9. november 2022\n" in out
    assert f"\nCalendar: UID {state.uid}, version 1; " in out
    assert (
        "Parts:\n"
        "  multipart/mixed\n"
        "    multipart/alternative\n"
        "      text/plain (quoted-printable)\n"
        "      text/html (quoted-printable)\n"
        "      text/calendar; method=REQUEST (base64)\n"
        "    application/ics; attachment invitation.ics (base64)\n"
    ) in out
    assert "----- text/plain -----\nHei, Ola Nordmann\n" in out
    assert "Tid: onsdag 9. november 2022 kl. 10.00–15.00\n" in out
    assert "----- text/calendar -----\nBEGIN:VCALENDAR\n" in out
    assert f"\nUID:{state.uid}\n" in out
    assert "\nDTSTART;TZID=Europe/Oslo:20221109T100000\n" in out


def test_uid_is_made_once_and_kept(invoke: Invoke, project: Path) -> None:
    assert invoke("preview", "--meeting", "regionmote-tromso").exit_code == 0
    first = stored_state(project, "regionmote-tromso").uid
    assert re.fullmatch(r"[0-9a-f-]{36}@example\.org", first)
    result = invoke("preview", "--meeting", "regionmote-tromso")
    assert stored_state(project, "regionmote-tromso").uid == first
    assert f"UID:{first}" in result.stdout


def test_first_of_the_audience_by_default(invoke: Invoke, project: Path) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    result = invoke("preview", "--meeting", "regionmote-nord-troms")
    assert result.exit_code == 0, result.stderr
    assert "Sample recipient" not in result.stdout
    settings = load_settings(project / "inviter.toml", env={})
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            audience = select_audience(session, settings.meeting("regionmote-nord-troms"))
            first = (audience[0].name, audience[0].email)
            assert {c.region for c in audience} == {"Nord-Troms"}
    finally:
        db.close()
    assert f"\nTo: {first[0]} <{first[1]}>\n" in result.stdout
    assert "Vi ber deg sende denne invitasjonen videre til lederen din" in result.stdout


def test_sample_when_nobody_is_in_the_audience(invoke: Invoke, project: Path) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    config = project / "inviter.toml"
    text = config.read_text(encoding="utf-8").replace(
        'audience = { roles = ["biblioteksjef"], regions = ["Nord-Troms"] }',
        'audience = { roles = ["bibliotekar"], regions = ["Nord-Troms"] }',
    )
    config.write_text(text, encoding="utf-8")
    result = invoke("preview", "--meeting", "regionmote-nord-troms")
    assert result.stdout.startswith(
        "Sample recipient (nobody in the contact list is in this meeting's audience): "
    )


def test_to_an_english_contact(invoke: Invoke) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    result = invoke(
        "preview",
        "--meeting",
        "bibliotekpolitisk-seminar-2022",
        "--to",
        "Sarah.Lindqvist@Tromso.example.org",
    )
    assert result.exit_code == 0, result.stderr
    assert "\nTo: Sarah Lindqvist <sarah.lindqvist@tromso.example.org>\n" in result.stdout
    assert "\nSubject: Invitation to Bibliotekpolitisk seminar: ledelse og handlingsplan, " in (
        result.stdout
    )
    assert "Dear Sarah Lindqvist," in result.stdout


def test_to_someone_not_in_the_contact_list(invoke: Invoke) -> None:
    result = invoke("preview", "--meeting", "temamote-tromso", "--to", "nobody@example.org")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --to: nobody@example.org is not in the contact list; "
        "import or add the contact first, or leave out --to\n"
    )
    bad = invoke("preview", "--meeting", "temamote-tromso", "--to", "a@b@c")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Error: --to: 'a@b@c' is not a valid e-mail address")


def test_unknown_meeting(invoke: Invoke) -> None:
    result = invoke("preview", "--meeting", "nope")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: inviter.toml: no meeting 'nope' (known: regionmote-")


def test_output_bytes_equal_build_message(invoke: Invoke, project: Path) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    result = invoke(
        "preview",
        "--meeting",
        "regionmote-nord-troms",
        "--to",
        "elle.marja.navvu@kafjord.example.org",
        "-o",
        "invitation.eml",
    )
    assert result.exit_code == 0, result.stderr
    data = (project / "invitation.eml").read_bytes()
    assert result.stdout == (
        f"Wrote invitation.eml ({len(data):,} bytes): the invitation to Elle Márjá Ŋávvu "
        "<elle.marja.navvu@kafjord.example.org>.\n"
    )
    written = email.message_from_bytes(data, policy=email.policy.default)
    settings = load_settings(project / "inviter.toml", env={})
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            contact = session.scalar(
                select(Contact).where(Contact.email == "elle.marja.navvu@kafjord.example.org")
            )
            assert contact is not None
            recipient = Recipient.from_contact(contact)
    finally:
        db.close()
    expected = build_message(
        settings.meeting("regionmote-nord-troms"),
        settings.organizer,
        recipient,
        kind="request",
        uid=stored_state(project, "regionmote-nord-troms").uid,
        sequence=0,
        now=parsedate_to_datetime(written["Date"]),
        message_id=written["Message-ID"],
        templates=Templates(settings.templates_dir),
    )
    assert data == expected
    assert data.isascii()


def test_output_to_a_folder_that_does_not_exist(invoke: Invoke, project: Path) -> None:
    result = invoke("preview", "--meeting", "temamote-tromso", "-o", "no/such/x.eml")
    assert result.exit_code == 2
    assert result.stderr == "Error: no/such/x.eml: cannot be written: No such file or directory\n"


def test_template_error_is_exit_2_with_file_and_line_and_nothing_written(
    invoke: Invoke, project: Path
) -> None:
    path = project / "templates" / "temamote" / "nb" / "body.txt"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(3, "{{ meeting.titel }}")
    path.write_text("\n".join(lines), encoding="utf-8")
    result = invoke("preview", "--meeting", "temamote-harstad", "-o", "x.eml")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: templates/temamote/nb/body.txt: line 4: 'meeting' has no attribute 'titel'\n"
    )
    assert result.stdout == ""
    assert not (project / "x.eml").exists()


def test_changed_meeting_after_sending_previews_the_update(invoke: Invoke, project: Path) -> None:
    assert invoke("preview", "--meeting", "temamote-tromso").exit_code == 0
    state = stored_state(project, "temamote-tromso")
    settings = load_settings(project / "inviter.toml", env={})
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            session.add(
                Delivery(
                    meeting_id=state.id,
                    email="ann@example.org",
                    kind=REQUEST,
                    sequence=0,
                    transport="outbox",
                    message_id="<x@example.org>",
                    status=SENT,
                )
            )
    finally:
        db.close()
    config = project / "inviter.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'location = "Tromsø"', 'location = "Tromsø bibliotek, Grønnegata 94"'
        ),
        encoding="utf-8",
    )
    result = invoke("preview", "--meeting", "temamote-tromso")
    assert f"Calendar: UID {state.uid}, version 2; " in result.stdout
    assert "\nSubject: Oppdatert invitasjon til Temamøte: Litteratur og kultur, " in result.stdout
    assert "\nSEQUENCE:1\n" in result.stdout
    # A preview changes nothing: the stored SEQUENCE moves only when send sends.
    assert stored_state(project, "temamote-tromso").sequence == 0


@pytest.mark.parametrize(
    ("kind", "subject", "method", "sequence"),
    [("cancel", "Avlysning av ", "CANCEL", 1), ("reminder", "Påminnelse om ", "REQUEST", 0)],
)
def test_kind_option(invoke: Invoke, kind: str, subject: str, method: str, sequence: int) -> None:
    result = invoke("preview", "--meeting", "temamote-finnsnes", "--kind", kind)
    assert result.exit_code == 0, result.stderr
    assert f"\nSubject: {subject}Temamøte: Kunnskap og læring, 3. november 2022\n" in (
        result.stdout
    )
    assert f"\nMETHOD:{method}\n" in result.stdout
    assert f"\nSEQUENCE:{sequence}\n" in result.stdout
    assert f"text/calendar; method={method} (base64)" in result.stdout


def test_help_has_an_example(invoke: Invoke) -> None:
    result = invoke("preview", "--help")
    assert result.exit_code == 0
    assert (
        "  Example:\n"
        "    inviter preview --meeting temamote-tromso\n"
        "    inviter preview --meeting regionmote-nord-troms"
        " --to elle.marja.navvu@kafjord.example.org\n"
        "    inviter preview --meeting temamote-tromso -o invitation.eml\n"
    ) in result.stdout
