"""``attendance --format xlsx`` (issue 18, point 3): a real workbook, read back with openpyxl and
printed to PDF by LibreOffice headless, whose text is checked; no cell can become a formula."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import Invoke, require_tool
from tests.report_browser import pdf_pages
from tests.report_seed import (
    ACCEPTED_ORDER,
    FORMULA_NAME,
    MEETING,
    PEOPLE,
    seeded_project,
)


@pytest.fixture
def workbook_file(project: Path, invoke: Invoke) -> Path:
    seeded_project(project)
    # In Bokmål, as staff get it by default (the English header: tests/test_language_reports.py).
    result = invoke("--lang", "nb", "attendance", "--meeting", MEETING, "-o", "deltakere.xlsx")
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith(" deltakere.xlsx\n")  # "Skrev deltakere.xlsx" in Bokmål
    return project / "deltakere.xlsx"


def test_the_workbook_holds_the_list_as_text(workbook_file: Path) -> None:
    book = load_workbook(workbook_file)
    sheet = book["Deltakere"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Navn", "Tittel", "Organisasjon", "Kommune", "Region", "Rolle", "E-post", "Telefon",
        "Svar", "Videresendt",
    )  # fmt: skip
    assert [row[6] for row in rows[1:]] == ACCEPTED_ORDER
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert all(cell.data_type == "s" for cell in cells if cell.value is not None)
    assert all(cell.number_format == "@" for cell in cells)
    formula = next(row for row in rows if row[6] == "formula@example.org")
    assert formula[0] == FORMULA_NAME  # as typed: text, not a formula, no apostrophe
    # A text cell: the number as staff dial it, without the CSV's leading ' (issue 18).
    aase = next(row for row in rows if row[6] == "aase@example.org")
    assert aase[7] == "+47 777 00 101"
    assert {row[8] for row in rows[1:]} == {"deltar"}
    # For people: the header stays in view, filters, A4 landscape, the header on every page.
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:J{len(rows)}"
    assert sheet.print_title_rows == "$1:$1"
    assert (sheet.page_setup.paperSize, sheet.page_setup.orientation) == (9, "landscape")  # A4
    assert sheet.column_dimensions["G"].width == 36


def test_libreoffice_prints_it(workbook_file: Path, tmp_path: Path) -> None:
    soffice = require_tool(shutil.which("soffice"), "LibreOffice (Debian libreoffice-calc-nogui)")
    out = tmp_path / "pdf"
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(workbook_file),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = "\n".join(pdf_pages(out / "deltakere.pdf"))
    assert "Deltakerliste: Temamøte: Litteratur og kultur" in text  # the page header
    assert "E-post" in text
    for person in PEOPLE:
        if person.email in ACCEPTED_ORDER:
            assert person.email in text, person.email
    assert '=HYPERLINK("http://x","y")' in text  # shown as typed, never run


def test_an_unknown_suffix_is_refused(project: Path, invoke: Invoke) -> None:
    result = invoke("attendance", "--meeting", MEETING, "-o", "liste.xls")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: liste.xls: no list is written as '.xls'; name the file .csv, .html, .htm, .md, "
        ".json, .xlsx, or give --format\n"
    )
    assert not (project / "liste.xls").exists()
