"""What staff read of the reports in Bokmål, their default, and in English with --lang en
(issue 18; SPEC "Language"): status, meetings list, attendance (table, CSV, Markdown, HTML,
workbook), the programme report and contacts show. Words staff know, never the protocol's
needs-action or pending; JSON stays English whatever the language."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from inviter.contacts.contact_list import add_contact
from inviter.reports.pages import environment
from tests.conftest import Invoke
from tests.report_seed import MEETING, PEOPLE, Person, open_project, seed, seeded_project
from tests.test_status_cli import ASLAK, scenario


@pytest.fixture
def seeded(project: Path) -> Path:
    """The project with PEOPLE invited to temamote-tromso and their answers."""
    return seeded_project(project)


def _rows(text: str, first: int) -> dict[str, str]:
    """A terminal table's rows by their first cell, the cells' padding taken out."""
    return {
        line.split("  ")[0]: " ".join(line.split())
        for line in text.splitlines()[first:]
        if line.strip()
    }


# ---------------------------------------------------------------- status and meetings list


@pytest.mark.usefixtures("default_language")
def test_status_table_in_bokmal_by_default(project: Path, invoke: Invoke) -> None:
    scenario(project, invoke)
    result = invoke("status", "--meeting", "temamote-tromso")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1:3] == [
        "målgruppe 9, sendt 8, mislyktes 1, ikke sendt ennå 0, usikker 0",
        "takket ja 2, takket nei 1, kanskje 1, ikke svart 6, videresendte gjester 1",
    ]
    assert lines[4].split() == ["navn", "e-post", "kommune", "levering", "svar", "merknader"]
    rows = _rows(result.stdout, 6)
    # The invitation failed: nothing to answer, so a dash, not "venter på svar".
    assert rows["Aslak Čuđđi"] == f"Aslak Čuđđi {ASLAK} Tromsø mislyktes — 550 5.1.1 no such user"
    assert rows["Ordfører i Karlsøy"] == (
        "Ordfører i Karlsøy ordforer@karlsoy.example.org Tromsø — takket ja videresendt gjest"
    )
    assert rows["Emma Clarke"] == (
        "Emma Clarke emma.clarke@uit.example.org Tromsø sendt takket ja "
        "+1 gjest; “Looking forward to it, bringing a colleague.”"
    )
    assert "venter på svar" in result.stdout  # those who have it and have not answered
    for protocol in ("needs-action", "pending", "accepted", "failed"):
        assert protocol not in result.stdout


def test_status_table_in_english_says_awaiting_reply(project: Path, invoke: Invoke) -> None:
    scenario(project, invoke)
    result = invoke("--lang", "en", "status", "--meeting", "temamote-tromso")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == (
        "audience 9, sent 8, failed 1, not sent yet 0, uncertain 0"
    )
    assert "awaiting reply" in result.stdout
    assert "needs-action" not in result.stdout
    assert "pending" not in result.stdout


@pytest.mark.usefixtures("default_language")
def test_status_json_stays_english_in_bokmal(project: Path, invoke: Invoke) -> None:
    scenario(project, invoke)
    doc = json.loads(invoke("status", "--meeting", "temamote-tromso", "--json").stdout)
    assert (doc["pending"], doc["no_answer"]) == (0, 6)
    aslak = next(r for r in doc["recipients"] if r["email"] == ASLAK)
    assert (aslak["delivery"], aslak["rsvp"]) == ("failed", "needs-action")


@pytest.mark.usefixtures("default_language")
def test_status_before_anything_was_sent_in_bokmal(invoke: Invoke) -> None:
    lines = invoke("status", "--meeting", "temamote-harstad").stdout.splitlines()
    assert lines[0].startswith("temamote-harstad: ")
    assert lines[1] == "Ingenting er sendt for dette møtet ennå."


@pytest.mark.usefixtures("default_language")
def test_an_uninvited_person_awaits_nothing(project: Path, invoke: Invoke) -> None:
    settings, db = open_project(project)
    people = [
        Person("quiet@example.org", "Stille Stine"),
        Person("gone@example.org", "Borte Bård", uninvited=True),
        Person("back@example.org", "Borte Berit", answer="ACCEPTED", uninvited=True),
        Person("maybe@example.org", "Kanskje Kari", answer="TENTATIVE"),
    ]
    seed(settings, db, people)
    # In the audience, not sent anything yet.
    fields = {"name": "Ny Nora", "email": "new@example.org", "role": "biblioteksjef"}
    add_contact(db, {**fields, "municipality": "Tromsø"})
    db.close()
    rows = _rows(invoke("status", "--meeting", MEETING).stdout, 6)
    assert rows["Stille Stine"] == "Stille Stine quiet@example.org Tromsø sendt venter på svar"
    assert rows["Borte Bård"] == (
        "Borte Bård gone@example.org Tromsø sendt — invitasjonen trukket tilbake"
    )
    # An answer given before the invitation was withdrawn is still shown, in words.
    assert rows["Borte Berit"] == (
        "Borte Berit back@example.org Tromsø sendt takket ja invitasjonen trukket tilbake"
    )
    assert rows["Kanskje Kari"] == "Kanskje Kari maybe@example.org Tromsø sendt kanskje"
    assert rows["Ny Nora"] == "Ny Nora new@example.org Tromsø ikke sendt ennå —"


@pytest.mark.usefixtures("default_language")
def test_meetings_list_in_bokmal(seeded: Path, invoke: Invoke) -> None:
    result = invoke("meetings", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["møte", "tid", "sted", "målgruppe", "sendt", "status"]
    rows = _rows(result.stdout, 2)
    assert rows[MEETING].endswith("13 13/13 sendt")
    assert rows["temamote-harstad"].endswith("14 0/14 ikke sendt")
    english = invoke("--lang", "en", "meetings", "list").stdout
    assert english.splitlines()[0].split() == [
        "meeting",
        "when",
        "where",
        "audience",
        "sent",
        "state",
    ]
    assert _rows(english, 2)[MEETING].endswith("13 13/13 sent")
    assert _rows(english, 2)["temamote-harstad"].endswith("14 0/14 not sent")


# ---------------------------------------------------------------- attendance


@pytest.mark.usefixtures("default_language")
def test_attendance_table_in_bokmal(seeded: Path, invoke: Invoke) -> None:
    result = invoke("attendance", "--meeting", MEETING, "--include-tentative")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["navn", "organisasjon", "kommune", "region", "merknad"]
    rows = _rows(result.stdout, 3)
    assert rows["Leder | Lund"].endswith("Nord-Troms videresendt")
    assert rows["-Minus Mo"].endswith("Midt-Troms foreløpig")
    assert lines[-1] == (
        "Nord-Troms 3; Tromsø og omegn 2; Midt-Troms 1 (+1 foreløpig); Sør-Troms 3; "
        "Norrbotten 1; Ukjent region 2; totalt 12 deltar, 1 foreløpig"
    )


@pytest.mark.usefixtures("default_language")
def test_attendance_nobody_yet_in_both_languages(invoke: Invoke) -> None:
    assert "Ingen har takket ja ennå." in invoke("attendance", "--meeting", MEETING).stdout
    english = invoke("--lang", "en", "attendance", "--meeting", MEETING).stdout
    assert "Nobody has accepted yet." in english


@pytest.mark.usefixtures("default_language")
def test_attendance_csv_in_bokmal_and_in_english(seeded: Path, invoke: Invoke) -> None:
    args = ["attendance", "--meeting", MEETING, "--format", "csv", "--include-tentative"]
    data = invoke(*args).stdout_bytes.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data), delimiter=";"))
    assert list(rows[0]) == [
        "navn", "tittel", "organisasjon", "kommune", "region", "rolle", "e-post", "telefon",
        "svar", "videresendt",
    ]  # fmt: skip
    by_email = {row["e-post"]: row for row in rows}
    assert by_email["aase@example.org"]["svar"] == "deltar"
    assert by_email["minus@example.org"]["svar"] == "foreløpig"
    assert by_email["leder@example.org"]["videresendt"] == "ja"
    english = invoke("--lang", "en", *args).stdout_bytes.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(english), delimiter=";"))
    assert list(rows[0])[:3] == ["name", "title", "organization"]
    by_email = {row["email"]: row for row in rows}
    assert (
        by_email["minus@example.org"]["answer"],
        by_email["leder@example.org"]["forwarded"],
    ) == (
        "tentative",
        "yes",
    )


@pytest.mark.usefixtures("default_language")
def test_attendance_markdown_in_english_on_request(seeded: Path, invoke: Invoke) -> None:
    args = ["attendance", "--meeting", MEETING, "--format", "md", "--include-tentative"]
    bokmal = invoke(*args).stdout
    assert bokmal.startswith(
        "## Deltakerliste: Temamøte: Litteratur og kultur\n\n"
        "onsdag 9. november 2022 kl. 10.00–15.00, Tromsø\n"
    )
    assert (
        "| Navn | Tittel | Organisasjon | Kommune | Region | Rolle | E-post | Merknad |" in bokmal
    )
    assert "| **Totalt** | 12 | 1 |" in bokmal
    english = invoke("--lang", "en", *args).stdout
    assert english.startswith(
        "## Attendance list: Temamøte: Litteratur og kultur\n\n"
        "Wednesday 9 November 2022, 10:00–15:00, Tromsø\n"
    )
    assert (
        "| Name | Title | Organization | Municipality | Region | Role | E-mail | Note |" in english
    )
    assert "| Region | Accepted | Tentative |" in english
    assert "| **Total** | 12 | 1 |" in english
    assert "| Unknown region |" in english
    assert "| tentative |" in english


@pytest.mark.usefixtures("default_language")
def test_attendance_page_in_bokmal_by_default(seeded: Path, invoke: Invoke) -> None:
    args = ["attendance", "--meeting", MEETING, "--format", "html", "--include-tentative"]
    page = invoke(*args).stdout
    assert page.startswith('<!DOCTYPE html>\n<html lang="nb">')
    assert "<title>Deltakerliste – Temamøte: Litteratur og kultur</title>" in page
    assert "<strong>Tid:</strong> onsdag 9. november 2022 kl. 10.00–15.00" in page
    assert '<th colspan="6" scope="colgroup">Midt-Troms – 1 deltar, 1 foreløpig</th>' in page
    assert "«Videresendt»: svarte på en invitasjon som ble videresendt til dem." in page
    assert "Laget med inviter " in page


def test_attendance_page_in_english_on_request(seeded: Path, invoke: Invoke) -> None:
    args = ["--lang", "en", "attendance", "--meeting", MEETING, "--format", "html"]
    page = invoke(*args, "--include-tentative").stdout
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<title>Attendance list – Temamøte: Litteratur og kultur</title>" in page
    assert "<h1>Attendance list: Temamøte: Litteratur og kultur</h1>" in page
    assert "<strong>Time:</strong> Wednesday 9 November 2022, 10:00–15:00" in page
    assert "<strong>Place:</strong> Tromsø" in page
    assert (
        '<th class="num" scope="col">No.</th><th scope="col">Name</th>'
        '<th scope="col">Organization</th><th scope="col">Municipality</th>'
        '<th scope="col">E-mail and phone</th><th scope="col">Signature</th>'
    ) in page
    assert '<th colspan="6" scope="colgroup">Midt-Troms – 1 accepted, 1 tentative</th>' in page
    assert '<th colspan="6" scope="colgroup">Unknown region – 2 accepted</th>' in page
    assert '<span class="mark">forwarded</span>' in page
    assert '<th scope="row">Total</th><th class="num">12</th><th class="num">1</th>' in page
    assert "“Forwarded”: answered an invitation that was forwarded to them." in page
    assert "Made with inviter " in page
    # The hostile name stays text in English too.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for norwegian in ("Deltakerliste", "deltar", "foreløpig", "videresendt", "Laget", "Ukjent r"):
        assert norwegian not in page, norwegian


@pytest.mark.usefixtures("default_language")
def test_a_cancelled_meeting_says_so_in_bokmal(project: Path, invoke: Invoke) -> None:
    from inviter.store.meetings import ensure_state

    settings, db = open_project(project)
    seed(settings, db, PEOPLE[:1])
    with db.session() as s:
        ensure_state(s, settings.meeting(MEETING), settings).cancelled = True
    db.close()
    assert "Dette møtet er avlyst." in invoke("attendance", "--meeting", MEETING).stdout
    md = invoke("attendance", "--meeting", MEETING, "--format", "md").stdout
    assert "**Møtet er avlyst.**" in md
    page = invoke("attendance", "--meeting", MEETING, "--format", "html").stdout
    assert '<p class="cancelled">Møtet er avlyst.</p>' in page
    status = invoke("status", "--meeting", MEETING).stdout
    assert status.splitlines()[0].endswith(" avlyst")
    assert invoke("meetings", "list").stdout.count(" avlyst") == 1


@pytest.mark.usefixtures("default_language")
def test_the_workbook_header_row_in_bokmal_and_in_english(seeded: Path, invoke: Invoke) -> None:
    assert invoke("attendance", "--meeting", MEETING, "-o", "nb.xlsx").exit_code == 0
    sheet = load_workbook(seeded / "nb.xlsx")["Deltakere"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Navn", "Tittel", "Organisasjon")
    header = sheet.oddHeader
    assert header is not None
    assert header.center.text == "Deltakerliste: Temamøte: Litteratur og kultur"
    assert (
        invoke("--lang", "en", "attendance", "--meeting", MEETING, "-o", "en.xlsx").exit_code == 0
    )
    sheet = load_workbook(seeded / "en.xlsx")["Attendees"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Name", "Title", "Organization", "Municipality", "Region", "Role", "E-mail", "Phone",
        "Answer",
        "Forwarded",
    )  # fmt: skip
    assert {row[8] for row in rows[1:]} == {"accepted"}
    assert {row[4] for row in rows[1:] if row[6] == "nowhere@example.org"} == {"Unknown region"}
    header = sheet.oddHeader
    assert header is not None
    assert header.center.text == "Attendance list: Temamøte: Litteratur og kultur"


@pytest.mark.usefixtures("default_language")
def test_the_json_list_is_the_same_in_both_languages(seeded: Path, invoke: Invoke) -> None:
    args = ["attendance", "--meeting", MEETING, "--format", "json", "--include-tentative"]
    bokmal = invoke(*args).stdout
    assert bokmal == invoke("--lang", "en", *args).stdout
    assert {item["rsvp"] for item in json.loads(bokmal)} == {"accepted", "tentative"}


@pytest.mark.usefixtures("default_language")
def test_an_unknown_suffix_is_refused_in_bokmal(project: Path, invoke: Invoke) -> None:
    result = invoke("attendance", "--meeting", MEETING, "-o", "liste.xls")
    assert result.exit_code == 2
    assert result.stderr == (
        "Feil: liste.xls: ingen liste skrives som '.xls'; gi filen en av endelsene .csv, .html, "
        ".htm, .md, .json, .xlsx, eller bruk --format\n"
    )


# ---------------------------------------------------------------- the programme report


@pytest.mark.usefixtures("default_language")
def test_report_in_bokmal_by_default(seeded: Path, invoke: Invoke) -> None:
    page = invoke("report").stdout
    assert page.startswith('<!DOCTYPE html>\n<html lang="nb">')
    assert "<title>Møteprogrammet – oversikt</title>" in page
    assert '<th class="num" scope="col">Kan ikke</th>' in page
    assert '<td class="date">9. nov. 2022</td>' in page
    assert "Nord-Troms: 3 deltar · 0 foreløpig · 0 kan ikke · 0 ikke svart." in page
    assert '<h2 class="answers">Svar per region</h2>' in page
    assert " · laget " in page
    assert "Laget med inviter " in page


def test_report_in_english_on_request(seeded: Path, invoke: Invoke) -> None:
    page = invoke("--lang", "en", "report").stdout
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<title>The meeting programme – overview</title>" in page
    assert (
        '<tr><th scope="col">Meeting</th><th scope="col">Date</th><th scope="col">Place</th>'
        '<th class="num" scope="col">Invited</th><th class="num" scope="col">Sent</th>'
        '<th class="num" scope="col">Failed</th><th class="num" scope="col">Accepted</th>'
        '<th class="num" scope="col">Declined</th><th class="num" scope="col">Tentative</th>'
        '<th class="num" scope="col">No answer</th></tr>'
    ) in page
    assert '<td class="date">9 Nov 2022</td>' in page
    assert (
        '<desc id="c8-desc">Nord-Troms: 3 accepted · 0 tentative · 0 declined · 0 no answer. '
    ) in page
    assert "Key: dark green = accepted, diagonal stripes = tentative" in page
    assert '<title id="c8-title">Answers by region: Temamøte: Litteratur og kultur</title>' in page
    assert " · made " in page
    for norwegian in ("oversikt", "deltar", "foreløpig", "kan ikke", "Laget", "Ingen"):
        assert norwegian not in page, norwegian


@pytest.mark.usefixtures("default_language")
def test_report_with_nobody_yet_in_both_languages(invoke: Invoke) -> None:
    assert invoke("report").stdout.count("Ingen i målgruppen ennå.") == 9
    assert invoke("--lang", "en", "report").stdout.count("Nobody in the audience yet.") == 9


def test_the_page_templates_hold_no_norwegian_of_their_own() -> None:
    """Every word of the pages comes from the catalog: the templates are English msgids."""
    env = environment()
    assert env.loader is not None
    for name in env.list_templates():
        source = env.loader.get_source(env, name)[0]
        assert not set("æøåÆØÅ") & set(source), name


# ---------------------------------------------------------------- contacts show


@pytest.mark.usefixtures("default_language")
def test_a_persons_history_in_bokmal(seeded: Path, invoke: Invoke) -> None:
    lines = invoke("contacts", "show", "minus@example.org").stdout.splitlines()
    at = lines.index(f"{MEETING}: Temamøte: Litteratur og kultur")
    assert lines[at + 1].endswith("  invitasjon (versjon 1) sendt")
    assert lines[at + 2].endswith("  svarte: kanskje")
    assert "  ingenting sendt ennå" in lines
    guest = invoke("contacts", "show", "ukjent@example.org").stdout.splitlines()
    assert guest[0] == "ukjent@example.org <ukjent@example.org> (ikke lenger i kontaktlisten)"
    english = invoke("--lang", "en", "contacts", "show", "minus@example.org").stdout
    assert "  invitation (version 1) sent\n" in english
    assert "  answered: tentative\n" in english
    assert "  nothing sent yet\n" in english
