"""Templates: Norwegian dates, the shipped sets, escaping rules and errors with file and line."""

from __future__ import annotations

import dataclasses
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from inviter.compose.templates import MeetingView, Templates, paragraphs, tidy_text
from inviter.config import load_settings
from inviter.domain import Kind, Meeting, Recipient
from inviter.errors import TemplateError
from inviter.locale.dates import format_dates, format_when, number_word
from tests.conftest import Invoke
from tests.invitations_support import (
    BIBLIOTEKSJEFMOTE,
    ORGANIZER,
    REGIONMOTE_NORD_TROMS,
    ROOT,
    TEMAMOTE_TROMSO,
)

ANN = Recipient(email="ann@example.org", name="Ann Lie")


@pytest.fixture
def templates_copy(tmp_path: Path) -> Path:
    """A copy of the shipped templates folder to break on purpose."""
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    return folder


def break_line(path: Path, line: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(line - 1, text)
    path.write_text("\n".join(lines), encoding="utf-8")


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("start", "end", "language", "expected"),
    [
        (
            datetime(2022, 11, 9, 10),
            datetime(2022, 11, 9, 15),
            "nb",
            "onsdag 9. november 2022 kl. 10.00–15.00",
        ),
        (
            datetime(2022, 10, 11, 10),
            datetime(2022, 10, 12, 15),
            "nb",
            "tirsdag 11. oktober kl. 10.00 – onsdag 12. oktober 2022 kl. 15.00",
        ),
        (
            datetime(2022, 12, 30, 9, 5),
            datetime(2023, 1, 2, 15, 30),
            "nb",
            "fredag 30. desember 2022 kl. 09.05 – mandag 2. januar 2023 kl. 15.30",
        ),
        (
            datetime(2022, 11, 9, 10),
            datetime(2022, 11, 9, 15),
            "en",
            "Wednesday 9 November 2022, 10:00–15:00",
        ),
        (
            datetime(2022, 10, 11, 10),
            datetime(2022, 10, 12, 15),
            "en",
            "Tuesday 11 October, 10:00 – Wednesday 12 October 2022, 15:00",
        ),
        (
            datetime(2022, 9, 5, 10),
            datetime(2022, 9, 5, 12),
            "se",  # a language with no names of its own reads Bokmål
            "mandag 5. september 2022 kl. 10.00–12.00",
        ),
    ],
)
def test_format_when(start: datetime, end: datetime, language: str, expected: str) -> None:
    assert format_when(start, end, language) == expected


def test_every_weekday_and_month_in_bokmal() -> None:
    days = [format_when(datetime(2023, 5, d, 8), datetime(2023, 5, d, 9)) for d in range(1, 8)]
    assert [d.split()[0] for d in days] == [
        "mandag",
        "tirsdag",
        "onsdag",
        "torsdag",
        "fredag",
        "lørdag",
        "søndag",
    ]
    months = [format_dates(date(2023, m, 1), date(2023, m, 1)).split()[1] for m in range(1, 13)]
    assert months == [
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ]


def test_format_dates() -> None:
    assert format_dates(date(2022, 11, 9), date(2022, 11, 9)) == "9. november 2022"
    assert format_dates(date(2022, 10, 11), date(2022, 10, 12)) == "11.–12. oktober 2022"
    assert format_dates(date(2022, 9, 30), date(2022, 10, 1)) == "30. september – 1. oktober 2022"
    assert format_dates(date(2022, 10, 11), date(2022, 10, 12), "en") == "11–12 October 2022"


# ---------------------------------------------------------------- the shipped sets


def shipped_meetings() -> tuple[Meeting, ...]:
    return load_settings(ROOT / "inviter.toml", env={}).meetings


@pytest.mark.parametrize("meeting", shipped_meetings(), ids=lambda m: m.slug)
def test_every_shipped_meeting_checks_and_renders(meeting: Meeting) -> None:
    templates = Templates(ROOT / "templates")
    templates.check(meeting, ORGANIZER)
    assert templates.languages(meeting.template) == ["nb", "en"]
    nb = templates.render(meeting, ORGANIZER, ANN, kind="request")
    view = MeetingView.of(meeting, "nb")
    assert nb.subject == f"Invitasjon til {meeting.title}, {view.dates}"
    assert f"Tid: {view.when}" in nb.text
    assert meeting.description.strip().split("\n")[0] in nb.text
    assert "Godta" in nb.text
    assert "Avslå" in nb.text
    assert "Godta" in nb.html
    if meeting.is_online:
        assert f"Videolenke: {meeting.online_url}" in nb.text
    if meeting.location:
        assert f"Sted: {meeting.location}" in nb.text
    forward = "sende denne invitasjonen videre til lederen din"
    assert (forward in nb.text) == (meeting.template == "regionmote")
    assert (forward in nb.html) == (meeting.template == "regionmote")
    en = templates.render(
        meeting, ORGANIZER, dataclasses.replace(ANN, language="en"), kind="request"
    )
    assert en.subject.startswith("Invitation to ")
    assert "Accept" in en.text
    assert "Decline" in en.text
    assert ("forward this invitation to your leader" in en.text) == (
        meeting.template == "regionmote"
    )


def test_two_day_meeting_says_one_calendar_entry() -> None:
    rendered = Templates(ROOT / "templates").render(
        BIBLIOTEKSJEFMOTE, ORGANIZER, ANN, kind="request"
    )
    assert "Tid: tirsdag 11. oktober kl. 10.00 – onsdag 12. oktober 2022 kl. 15.00" in rendered.text
    assert "Møtet går over to dager og ligger som én avtale i kalenderen din." in rendered.text
    assert (
        rendered.subject
        == "Invitasjon til Biblioteksjefmøtet for Troms fylke, 11.–12. oktober 2022"
    )


def test_full_plain_text_of_a_winter_theme_meeting() -> None:
    rendered = Templates(ROOT / "templates").render(TEMAMOTE_TROMSO, ORGANIZER, ANN, kind="request")
    assert rendered.text == (
        "Hei, Ann Lie\n"
        "\n"
        "Vi inviterer deg til «Temamøte: Litteratur og kultur».\n"
        "\n"
        "Tid: onsdag 9. november 2022 kl. 10.00–15.00\n"
        "Sted: Tromsø\n"
        "\n"
        "Temamøte om handlingsplanens fokusområde litteratur og kultur: bibliotekets rolle som "
        "kulturarena.\n"
        "\n"
        "Temamøtene er en del av arbeidet med ny handlingsplan for folkebibliotekene i Troms. "
        "Hvert møte tar for seg ett av handlingsplanens fokusområder, og innspillene dine går "
        "inn i planen.\n"
        "\n"
        "Svar med knappene Godta, Foreløpig eller Avslå i kalenderen din (Outlook, Gmail, Apple "
        "Kalender, Thunderbird og andre). Svaret kommer da automatisk til oss. Har du allerede "
        "svart, trenger du ikke gjøre noe mer.\n"
        "\n"
        "Med vennlig hilsen\n"
        "Troms fylkeskommune, fylkesbiblioteket\n"
        "bibliotek@example.org\n"
    )


@pytest.mark.parametrize(
    ("kind", "sequence", "subject", "phrase"),
    [
        (
            "request",
            1,
            "Oppdatert invitasjon til ",
            "Invitasjonen til «Temamøte: Litteratur og kultur» er endret.",
        ),
        ("reminder", 0, "Påminnelse om ", "Vi minner om invitasjonen"),
        ("cancel", 1, "Avlysning av ", "er dessverre avlyst."),
    ],
)
def test_update_reminder_and_cancel_wording(
    kind: Kind, sequence: int, subject: str, phrase: str
) -> None:
    rendered = Templates(ROOT / "templates").render(
        TEMAMOTE_TROMSO, ORGANIZER, ANN, kind=kind, sequence=sequence
    )
    assert rendered.subject.startswith(subject)
    assert phrase in rendered.text
    assert ("Godta" in rendered.text) == (kind != "cancel")


def test_subject_and_text_are_not_html_escaped_but_html_is() -> None:
    meeting = dataclasses.replace(TEMAMOTE_TROMSO, title='Bøker & <film> "nå"')
    recipient = Recipient(email="a@example.org", name="Ann <b>&</b>")
    rendered = Templates(ROOT / "templates").render(meeting, ORGANIZER, recipient, kind="request")
    assert rendered.subject == 'Invitasjon til Bøker & <film> "nå", 9. november 2022'
    assert '«Bøker & <film> "nå"»' in rendered.text
    assert "Hei, Ann <b>&</b>\n" in rendered.text
    assert "Bøker &amp; &lt;film&gt; &#34;nå&#34;" in rendered.html
    assert "Hei, Ann &lt;b&gt;&amp;&lt;/b&gt;</p>" in rendered.html


def test_html_is_one_accessible_document() -> None:
    html = (
        Templates(ROOT / "templates")
        .render(REGIONMOTE_NORD_TROMS, ORGANIZER, ANN, kind="request")
        .html
    )
    assert html.startswith('<!DOCTYPE html>\n<html lang="nb">')
    assert html.count("<h1 ") == 1
    assert re.search(r"<h1 [^>]*>Digitalt regionalt møte, Nord-Troms</h1>", html)
    assert "<style" not in html
    assert "<script" not in html
    assert "<img" not in html
    assert "color:#1f1f1f" in html
    assert "background-color:#ffffff" in html


# ---------------------------------------------------------------- errors (exit 2, file:line)


def test_unknown_attribute_names_file_line_and_variable(templates_copy: Path) -> None:
    break_line(templates_copy / "temamote" / "nb" / "body.txt", 4, "{{ meeting.titel }}")
    with pytest.raises(TemplateError) as caught:
        Templates(templates_copy).check(TEMAMOTE_TROMSO, ORGANIZER)
    assert str(caught.value) == (
        "templates/temamote/nb/body.txt: line 4: 'meeting' has no attribute 'titel'"
    )
    assert caught.value.exit_code == 2


def test_unknown_variable(templates_copy: Path) -> None:
    break_line(templates_copy / "_base" / "nb" / "body.html", 20, "{{ mote.title }}")
    with pytest.raises(TemplateError) as caught:
        Templates(templates_copy).check(TEMAMOTE_TROMSO, ORGANIZER)
    assert str(caught.value) == "templates/_base/nb/body.html: line 20: 'mote' is undefined"


def test_unknown_recipient_attribute_in_subject(templates_copy: Path) -> None:
    (templates_copy / "regionmote" / "nb" / "subject.txt").write_text(
        "Til {{ recipient.navn }}\n", encoding="utf-8"
    )
    with pytest.raises(TemplateError) as caught:
        Templates(templates_copy).check(REGIONMOTE_NORD_TROMS, ORGANIZER)
    assert str(caught.value) == (
        "templates/regionmote/nb/subject.txt: line 1: 'recipient' has no attribute 'navn'"
    )


def test_syntax_error(templates_copy: Path) -> None:
    break_line(templates_copy / "temamote" / "en" / "body.html", 3, "{% if %}")
    with pytest.raises(TemplateError) as caught:
        Templates(templates_copy).check(TEMAMOTE_TROMSO, ORGANIZER)
    assert str(caught.value) == (
        "templates/temamote/en/body.html: line 3: "
        "Expected an expression, got 'end of statement block'"
    )


def test_error_in_the_english_variant_is_found_before_any_english_contact(
    templates_copy: Path,
) -> None:
    break_line(templates_copy / "temamote" / "en" / "body.txt", 3, "{{ organizer.phone }}")
    templates = Templates(templates_copy)
    templates.render(TEMAMOTE_TROMSO, ORGANIZER, ANN, kind="request")  # nb works
    with pytest.raises(
        TemplateError,
        match=r"^templates/temamote/en/body\.txt: line 3: "
        r"'organizer' has no attribute 'phone'$",
    ):
        templates.check(TEMAMOTE_TROMSO, ORGANIZER)


def test_error_only_in_the_cancellation_branch_is_found_by_check(templates_copy: Path) -> None:
    path = templates_copy / "_base" / "nb" / "body.txt"
    text = path.read_text(encoding="utf-8").replace(
        "{% block cancelled %}\n", "{% block cancelled %}\n{{ meeting.cancel_reason }}\n"
    )
    path.write_text(text, encoding="utf-8")
    line = text.split("\n").index("{{ meeting.cancel_reason }}") + 1
    with pytest.raises(TemplateError) as caught:
        Templates(templates_copy).check(TEMAMOTE_TROMSO, ORGANIZER)
    assert str(caught.value) == (
        f"templates/_base/nb/body.txt: line {line}: 'meeting' has no attribute 'cancel_reason'"
    )


def test_extends_of_a_missing_template(templates_copy: Path) -> None:
    (templates_copy / "temamote" / "nb" / "body.txt").write_text(
        '{% extends "_base/nb/bodyy.txt" %}\n', encoding="utf-8"
    )
    with pytest.raises(TemplateError) as caught:
        Templates(templates_copy).check(TEMAMOTE_TROMSO, ORGANIZER)
    assert str(caught.value) == (
        "templates/temamote/nb/body.txt: line 1: no template '_base/nb/bodyy.txt' in templates"
    )


def test_set_without_bokmal_folder(templates_copy: Path) -> None:
    shutil.rmtree(templates_copy / "temamote" / "nb")
    with pytest.raises(TemplateError) as caught:
        Templates(templates_copy).check(TEMAMOTE_TROMSO, ORGANIZER)
    assert str(caught.value) == (
        "templates/temamote/nb: missing; every template set needs its Norwegian Bokmål "
        "folder (see templates/README.md)"
    )


def test_missing_file_with_no_base_to_fall_back_on(templates_copy: Path) -> None:
    (templates_copy / "temamote" / "nb" / "body.html").unlink()
    (templates_copy / "_base" / "nb" / "body.html").unlink()
    with pytest.raises(TemplateError) as caught:
        Templates(templates_copy).check(TEMAMOTE_TROMSO, ORGANIZER)
    assert str(caught.value) == (
        "templates/temamote/nb/body.html: not found (nor templates/_base/nb/body.html)"
    )


# ---------------------------------------------------------------- a user's own set


def test_own_set_with_one_file_uses_base_for_the_rest(templates_copy: Path) -> None:
    (templates_copy / "mitt").mkdir()
    (templates_copy / "mitt" / "nb").mkdir()
    (templates_copy / "mitt" / "nb" / "body.txt").write_text(
        "Hei {{ recipient.name }}! {{ meeting.title }} er {{ meeting.when }}.\n", encoding="utf-8"
    )
    meeting = dataclasses.replace(TEMAMOTE_TROMSO, template="mitt")
    templates = Templates(templates_copy)
    templates.check(meeting, ORGANIZER)
    assert templates.languages("mitt") == ["nb"]
    english = dataclasses.replace(ANN, language="en")
    rendered = templates.render(meeting, ORGANIZER, english, kind="request")
    # No English folder: the contact gets the Bokmål set, dates in Bokmål.
    assert rendered.text == (
        "Hei Ann Lie! Temamøte: Litteratur og kultur er onsdag 9. november 2022 kl. 10.00–15.00.\n"
    )
    assert rendered.subject.startswith("Invitasjon til ")
    assert '<html lang="nb">' in rendered.html


def test_language_field_cannot_reach_outside_the_set(templates_copy: Path) -> None:
    hostile = dataclasses.replace(ANN, language="../_base")
    rendered = Templates(templates_copy).render(TEMAMOTE_TROMSO, ORGANIZER, hostile, kind="request")
    assert rendered.subject.startswith("Invitasjon til ")


def test_readme_documents_every_variable() -> None:
    readme = (ROOT / "templates" / "README.md").read_text(encoding="utf-8")
    for field in dataclasses.fields(MeetingView):
        assert f"meeting.{field.name}" in readme, field.name
    for field in dataclasses.fields(Recipient):
        assert f"recipient.{field.name}" in readme, field.name
    for name in ("kind", "update", "sequence", "language", "organizer.name", "organizer.email"):
        assert f"`{name}`" in readme or f"{name}`" in readme, name


# ---------------------------------------------------------------- helpers


def test_tidy_text() -> None:
    assert tidy_text("a  \r\n\n\n\nb\rc\u2028d\x07\n\n") == "a\n\nb\nc\nd\n"


def test_paragraphs_filter_escapes_and_breaks() -> None:
    assert str(paragraphs("a <b>\nc\n\n\nd & e")) == (
        '<p style="margin:0 0 16px 0;">a &lt;b&gt;<br>\nc</p>\n'
        '<p style="margin:0 0 16px 0;">d &amp; e</p>'
    )


def test_a_template_cannot_reach_python_internals(project: Path, invoke: Invoke) -> None:
    # In a plain Jinja2 Environment this runs a shell command; sandboxed, it is a template
    # error naming the file and line, found before anything is sent.
    body = project / "templates" / "temamote" / "nb" / "body.txt"
    marker = project / "pwned"
    body.write_text(
        "{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}\n",
        encoding="utf-8",
    )
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    for command in (
        ["preview", "--meeting", "temamote-tromso"],
        ["send", "--meeting", "temamote-tromso"],
    ):
        result = invoke(*command)
        assert result.exit_code == 2, result.output
        [line] = result.stderr.splitlines()
        assert line.startswith("Error: templates/temamote/nb/body.txt: line 1: ")
        assert "unsafe" in line
    assert not marker.exists()
    assert not (project / "outbox").exists()


@pytest.mark.parametrize(
    ("number", "language", "written"),
    [(1, "nb", "én"), (2, "nb", "to"), (7, "nb", "sju"), (12, "nb", "tolv"), (13, "nb", "13"),
     (2, "en", "two"), (20, "en", "20")],
)  # fmt: skip
def test_small_numbers_are_written_in_letters(number: int, language: str, written: str) -> None:
    assert number_word(number, language) == written


def test_the_shipped_invitations_read_as_norwegian_is_written() -> None:
    # Issue 18: the regional invitation asks once to forward it, and a place not yet known
    # reads "Sted: Kunngjøres senere", not "Sted: Sted kunngjøres senere".
    settings = load_settings(ROOT / "inviter.toml", env={})
    templates = Templates(ROOT / "templates")
    regional = templates.render(
        settings.meeting("regionmote-nord-troms"), settings.organizer, ANN, kind="request"
    )
    assert regional.text.count("videre til lederen din") == 1
    assert "videresend" not in regional.text
    # A native reader's pass (Språkrådet's comma rules; active voice, "vi" for the sender):
    # no comma before "og" joining two verbs of one subject, a comma closing a clause set inside
    # a sentence, and the sender speaking for itself rather than in the third person.
    assert "Vi inviterer deg til «Digitalt regionalt møte, Nord-Troms»." in regional.text
    assert "i sin egen kalender og blir da registrert som deltaker" in regional.text
    reminder = templates.render(
        settings.meeting("regionmote-nord-troms"), settings.organizer, ANN, kind="reminder"
    )
    assert "Vi har ikke fått svar fra deg ennå og setter pris på" in reminder.text
    withdrawn = templates.render(
        settings.meeting("temamote-tromso"),
        settings.organizer,
        ANN,
        kind="cancel",
        withdrawn=True,
    )
    assert "kl. 10.00–15.00, er trukket tilbake for deg." in withdrawn.text
    heads = templates.render(
        settings.meeting("biblioteksjefmote-2022"), settings.organizer, ANN, kind="request"
    )
    assert "Sted: Kunngjøres senere" in heads.text
    assert "Sted: Sted" not in heads.text
