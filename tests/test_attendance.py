"""The attendance list: who is on it, in what order, and each format's contents and escaping."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from inviter.cells import neutralise
from inviter.config import Settings
from inviter.contacts.contact_list import add_contact
from inviter.locale.collation import collation_key
from inviter.reports.attendance import JSON_KEYS, attendance_table, build_attendance, markdown_cell
from inviter.reports.status import meeting_status
from inviter.store.database import Database
from inviter.store.meetings import ensure_state
from tests.conftest import Invoke
from tests.report_seed import (
    ACCEPTED_ORDER,
    FORMULA_NAME,
    MEETING,
    SCRIPT_NAME,
    Person,
    open_project,
    seed,
    seeded_project,
)

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def seeded(project: Path) -> Path:
    """Return the project folder with PEOPLE invited to temamote-tromso and their answers."""
    return seeded_project(project)


def test_only_those_who_accepted_sorted_by_region_municipality_name(seeded: Path) -> None:
    settings, db = open_project(seeded)
    with db.session() as s:
        status = meeting_status(s, settings, settings.meeting(MEETING))
    attendance = build_attendance(status)
    assert [a.email for a in attendance.attendees] == ACCEPTED_ORDER
    # The list agrees with `status`: same people counted as accepted.
    assert attendance.accepted == status.counts["accepted"] == len(ACCEPTED_ORDER)
    assert [(t.region, t.accepted, t.tentative) for t in attendance.totals] == [
        ("Nord-Troms", 3, 0),
        ("Tromsø og omegn", 2, 0),
        ("Midt-Troms", 1, 0),
        ("Sør-Troms", 3, 0),
        ("Norrbotten", 1, 0),
        ("", 2, 0),
    ]
    guest = next(a for a in attendance.attendees if a.email == "leder@example.org")
    assert (guest.forwarded, guest.region, guest.role) == (True, "Nord-Troms", "kommunedirektør")


def test_include_tentative_adds_them_marked(seeded: Path) -> None:
    settings, db = open_project(seeded)
    with db.session() as s:
        status = meeting_status(s, settings, settings.meeting(MEETING))
    attendance = build_attendance(status, include_tentative=True)
    tentative = [a.email for a in attendance.attendees if a.tentative]
    assert tentative == ["minus@example.org"]
    midt = next(t for t in attendance.totals if t.region == "Midt-Troms")
    assert (midt.accepted, midt.tentative) == (1, 1)
    assert (attendance.accepted, attendance.tentative) == (len(ACCEPTED_ORDER), 1)


def test_norwegian_alphabetical_order() -> None:
    names = ["Åse", "Øyvind", "Ærlig", "Zara", "anne", "Ánde", "Birgit", "Ola", "Örjan", "Ähren"]
    assert sorted(names, key=collation_key) == [
        "Ánde",  # accents do not count: a-n-d before a-n-n
        "anne",
        "Birgit",
        "Ola",
        "Zara",
        "Ähren",  # Ä sorts as Æ, Ö as Ø (NS 4129)
        "Ærlig",
        "Örjan",
        "Øyvind",
        "Åse",
    ]


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+47 900 00 000", "'+47 900 00 000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("＝1+1", "'＝1+1"),
        ("Ola Nordmann", "Ola Nordmann"),
        ("Ola = Kari", "Ola = Kari"),
        ("", ""),
    ],
)
def test_csv_cells_that_spreadsheets_would_run_are_neutralised(cell: str, safe: str) -> None:
    assert neutralise(cell) == safe


def test_csv_for_norwegian_excel(seeded: Path, invoke: Invoke) -> None:
    result = invoke("attendance", "--meeting", MEETING, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    data = result.stdout_bytes
    assert data.startswith(BOM)
    assert data.count(b"\r\n") == len(ACCEPTED_ORDER) + 1
    assert b"\n" not in data.replace(b"\r\n", b"")
    text = data[len(BOM) :].decode("utf-8")
    assert text.splitlines()[0] == (
        "name;title;organization;municipality;region;role;email;phone;answer;forwarded"
    )
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert [r["email"] for r in rows] == ACCEPTED_ORDER
    by_email = {r["email"]: r for r in rows}
    assert by_email["formula@example.org"]["name"] == "'" + FORMULA_NAME
    assert by_email["plus@example.org"]["name"] == "'+47 900 00 000"
    assert by_email["at@example.org"]["name"] == "'@SUM(A1:A9)"
    assert by_email["script@example.org"]["name"] == SCRIPT_NAME  # data, not a formula
    assert by_email["aase@example.org"]["name"] == "Åse Aasen"
    assert by_email["aase@example.org"]["title"] == "Leder"
    # Excel would read "+47 777 00 101" as a sum: the CSV keeps it text with a leading '.
    assert by_email["aase@example.org"]["phone"] == "'+47 777 00 101"
    assert by_email["leder@example.org"]["forwarded"] == "yes"
    assert by_email["aile@example.org"]["forwarded"] == ""
    assert {r["answer"] for r in rows} == {"accepted"}
    # No cell of any row starts with a formula character.
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value


def test_csv_plain_without_excel(seeded: Path, invoke: Invoke) -> None:
    result = invoke(
        "attendance", "--meeting", MEETING, "--format", "csv", "--no-excel", "--include-tentative"
    )
    assert result.exit_code == 0, result.stderr
    data = result.stdout_bytes
    assert not data.startswith(BOM)
    assert b"\r" not in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert len(rows) == len(ACCEPTED_ORDER) + 1
    tentative = [r for r in rows if r["answer"] == "tentative"]
    assert [(r["email"], r["name"]) for r in tentative] == [("minus@example.org", "'-Minus Mo")]


def test_output_file_format_from_suffix_and_bytes_as_is(seeded: Path, invoke: Invoke) -> None:
    result = invoke("attendance", "--meeting", MEETING, "-o", "deltakere.csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == "Wrote deltakere.csv\n"
    data = (seeded / "deltakere.csv").read_bytes()
    assert data.startswith(BOM + b"name;title;")
    assert data.decode("utf-8-sig").count("\r\n") == len(ACCEPTED_ORDER) + 1


def test_json_has_exactly_the_spec_keys(seeded: Path, invoke: Invoke) -> None:
    result = invoke("attendance", "--meeting", MEETING, "--format", "json")
    assert result.exit_code == 0, result.stderr
    items = json.loads(result.stdout)
    assert [i["email"] for i in items] == ACCEPTED_ORDER
    for item in items:
        assert set(item) == {*JSON_KEYS, "title"}
    leader = next(i for i in items if i["email"] == "leder@example.org")
    assert leader == {
        "name": "Leder | Lund",
        "email": "leder@example.org",
        "role": "kommunedirektør",
        "municipality": "Skjervøy",
        "region": "Nord-Troms",
        "organization": "",
        "forwarded": True,
        "title": "",
    }
    assert next(i for i in items if i["email"] == "script@example.org")["name"] == SCRIPT_NAME
    assert all(
        i["forwarded"] is False
        for i in items
        if i["email"]
        not in {
            "leder@example.org",
            "ukjent@example.org",
        }
    )
    # With --include-tentative each says which answer it is.
    result = invoke("attendance", "--meeting", MEETING, "--format", "json", "--include-tentative")
    items = json.loads(result.stdout)
    assert {i["email"]: i["rsvp"] for i in items}["minus@example.org"] == "tentative"
    assert {i["rsvp"] for i in items} == {"accepted", "tentative"}


def _md_cells(line: str) -> list[str]:
    """Split a Markdown table row on the pipes that are not escaped."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def test_markdown_table_escapes_pipes_and_markup(seeded: Path, invoke: Invoke) -> None:
    # In Bokmål, as staff get it by default (the English list: tests/test_language_reports.py).
    result = invoke(
        "--lang", "nb", "attendance", "--meeting", MEETING, "--format", "md", "--include-tentative"
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "## Deltakerliste: Temamøte: Litteratur og kultur"
    assert lines[2] == "onsdag 9. november 2022 kl. 10.00–15.00, Tromsø"
    table = [line for line in lines if line.startswith("| ")]
    header, rows = table[0], table[2 : 2 + len(ACCEPTED_ORDER) + 1]
    assert _md_cells(header) == [
        "Navn",
        "Tittel",
        "Organisasjon",
        "Kommune",
        "Region",
        "Rolle",
        "E-post",
        "Merknad",
    ]
    assert all(len(_md_cells(row)) == 8 for row in rows)
    by_email = {_md_cells(row)[6]: _md_cells(row) for row in rows}
    assert by_email["leder@example.org"][0] == "Leder \\| Lund"
    assert by_email["leder@example.org"][7] == "videresendt"
    assert by_email["minus@example.org"][0] == "\\-Minus Mo"
    assert by_email["minus@example.org"][7] == "foreløpig"
    assert by_email["script@example.org"][0] == "\\<script\\>alert(1)\\</script\\>"
    assert by_email["formula@example.org"][0] == '\\=HYPERLINK("http://x","y")'
    assert by_email["ukjent@example.org"][4] == "Ukjent region"
    assert "<script>" not in result.stdout
    assert table[-1] == f"| **Totalt** | {len(ACCEPTED_ORDER)} | 1 |"


def test_markdown_cell_is_one_line() -> None:
    assert markdown_cell("Ola\r\nBcc: x | `y` *z*") == "Ola Bcc: x \\| \\`y\\` \\*z\\*"
    assert markdown_cell("# Overskrift") == "\\# Overskrift"
    assert markdown_cell("1. Liste") == "\\1. Liste"


def test_terminal_table(seeded: Path, invoke: Invoke) -> None:
    result = invoke("attendance", "--meeting", MEETING, "--include-tentative")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Temamøte: Litteratur og kultur (temamote-tromso), 2022-11-09 10:00–15:00"
    assert lines[1].split() == ["name", "organization", "municipality", "region", "note"]
    assert "\x1b[" not in result.stdout  # not a terminal: no colour
    body = lines[3:-1]
    assert len(body) == len(ACCEPTED_ORDER) + 1
    assert body[0].startswith("Áile Ŋuolja")
    assert body[2].split()[-1] == "forwarded"
    assert body[2].startswith("Leder | Lund")
    minus = next(line for line in body if line.startswith("-Minus Mo"))
    assert minus.split()[-1] == "tentative"
    assert lines[-1] == (
        "Nord-Troms 3; Tromsø og omegn 2; Midt-Troms 1 (+1 tentative); Sør-Troms 3; "
        "Norrbotten 1; Unknown region 2; total 12 accepted, 1 tentative"
    )


def test_control_characters_in_a_guest_name_do_not_reach_the_terminal(project: Path) -> None:
    settings, db = open_project(project)
    hostile = "Evil\x1b[2J\r\nBcc: x\u2028Name"
    seed(
        settings,
        db,
        [Person("evil@example.org", hostile, answer="ACCEPTED", forwarded=True, contact=False)],
    )
    with db.session() as s:
        attendance = build_attendance(meeting_status(s, settings, settings.meeting(MEETING)))
    assert attendance.attendees[0].name == "Evil [2J Bcc: x Name"


def test_unknown_meeting_and_unwritable_output(seeded: Path, invoke: Invoke) -> None:
    result = invoke("attendance", "--meeting", "nope")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: inviter.toml: no meeting 'nope' (known: regionmote-")
    result = invoke("attendance", "--meeting", MEETING, "-o", "missing/folder/liste.csv")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: missing/folder/liste.csv: cannot write: No such file or directory; "
        "choose another -o file\n"
    )


def test_nobody_yet_and_a_cancelled_meeting(project: Path, invoke: Invoke) -> None:
    settings, db = open_project(project)
    result = invoke("attendance", "--meeting", MEETING)
    assert result.exit_code == 0
    assert "Nobody has accepted yet." in result.stdout
    assert json.loads(invoke("attendance", "--meeting", MEETING, "--format", "json").stdout) == []
    seed(settings, db, [Person("a@example.org", "Anne", answer="ACCEPTED")])
    _cancel(db, settings)
    result = invoke("attendance", "--meeting", MEETING, "--format", "md")
    assert "**The meeting is cancelled.**" in result.stdout


def _cancel(db: Database, settings: Settings) -> None:
    with db.session() as s:
        ensure_state(s, settings.meeting(MEETING), settings).cancelled = True


def test_terminal_table_in_colour_marks_tentative_yellow(seeded: Path) -> None:
    settings, db = open_project(seeded)
    with db.session() as s:
        status = meeting_status(s, settings, settings.meeting(MEETING))
    table = attendance_table(build_attendance(status, include_tentative=True), color=True)
    text = table.decode()
    assert "\x1b[1mname\x1b[0m" in text
    assert "\x1b[33mtentative\x1b[0m" in text
    assert "\x1b[2mforwarded\x1b[0m" in text


def test_an_unknown_guest_gets_a_region_once_added_as_a_contact(seeded: Path) -> None:
    # README "Lists and reports": a forwarded guest nobody knows is under "Ukjent region" until
    # staff add them; their answer and the forwarded mark stay as they were.
    settings, db = open_project(seeded)
    with db.session() as s:
        before = build_attendance(meeting_status(s, settings, settings.meeting(MEETING)))
    guest = next(a for a in before.attendees if a.email == "ukjent@example.org")
    assert (guest.region, guest.forwarded) == ("", True)
    fields = {
        "name": "Gjest Ukjent",
        "email": "ukjent@example.org",
        "role": "kommunedirektør",  # not in this meeting's audience: still a guest
        "municipality": "Lyngen",
    }
    add_contact(db, fields)
    with db.session() as s:
        after = build_attendance(meeting_status(s, settings, settings.meeting(MEETING)))
    guest = next(a for a in after.attendees if a.email == "ukjent@example.org")
    assert (guest.region, guest.municipality, guest.forwarded) == ("Nord-Troms", "Lyngen", True)
    assert after.accepted == before.accepted
    db.close()
