"""The printable attendance page: its contents and escaping, then rendered in real Chromium."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import markupsafe
import pytest

from inviter.locale.regions import MUNICIPALITIES
from tests.conftest import Invoke, require_tool
from tests.report_browser import dump_dom, pdf_pages, png_size, print_pdf, screenshot
from tests.report_seed import (
    ACCEPTED_ORDER,
    MEETING,
    PEOPLE,
    SCRIPT_NAME,
    Person,
    open_project,
    seed,
)

# Anything that would make the page load from elsewhere or run code.
EXTERNAL = re.compile(r"<script|<link|<iframe|<img|\ssrc=|@import|url\((?!#)|javascript:", re.I)


@pytest.fixture
def page(project: Path, invoke: Invoke) -> Path:
    """Return the attendance page of PEOPLE (tentative ones included), written by the CLI in
    Bokmål, as staff get it by default (the English page: tests/test_language_reports.py)."""
    settings, db = open_project(project)
    seed(settings, db, PEOPLE)
    db.close()
    result = invoke(
        "--lang",
        "nb",
        "attendance",
        "--meeting",
        MEETING,
        "--format",
        "html",
        "--include-tentative",
        "-o",
        "a.html",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr.endswith(" a.html\n")  # "Skrev a.html" in Bokmål
    return project / "a.html"


def test_page_holds_the_meeting_the_people_and_print_styles(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert text.startswith('<!DOCTYPE html>\n<html lang="nb">')
    assert "<title>Deltakerliste – Temamøte: Litteratur og kultur</title>" in text
    assert "<strong>Tid:</strong> onsdag 9. november 2022 kl. 10.00–15.00" in text
    assert "<strong>Sted:</strong> Tromsø" in text
    assert '<th scope="col">Signatur</th>' in text
    assert "@page { size: A4;" in text
    assert "thead { display: table-header-group; }" in text
    assert "tr { break-inside: avoid; page-break-inside: avoid; }" in text
    # The hostile name is text, never markup; nothing is loaded or run.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert EXTERNAL.search(text) is None
    for person in PEOPLE:
        if person.email in ACCEPTED_ORDER or person.answer == "TENTATIVE":
            assert str(markupsafe.escape(person.name)) in text, person.name
    for absent in ("Nei Nilsen", "Stille Stine", "Borte Bård"):
        assert absent not in text
    assert '<th colspan="6" scope="colgroup">Midt-Troms – 1 deltar, 1 foreløpig</th>' in text
    assert '<tr class="person tentative">' in text
    assert text.count('<span class="mark">videresendt</span>') == 2
    assert '<th scope="row">Totalt</th><th class="num">12</th><th class="num">1</th>' in text


def test_chromium_renders_the_names_as_text(page: Path, tmp_path: Path) -> None:
    dom = dump_dom(page, tmp_path / "dom")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<script" not in dom.lower()
    names = [p.name for p in PEOPLE if p.email in ACCEPTED_ORDER]
    for name in names:
        assert html.escape(name, quote=False) in dom, name
    cells = re.findall(r'<td class="email">(.*?)</td>', dom)
    # The address (spans and <wbr> taken off), and the phone number under it when known.
    phones = [re.findall(r'<span class="small phone">(.*?)</span>', cell) for cell in cells]
    cells = [re.sub(r'<br><span class="small phone">.*?</span>', "", cell) for cell in cells]
    rows = [re.sub(r"<[^>]+>", "", cell) for cell in cells]
    assert [found for found in phones if found] == [["+47 777 00 101"]]
    assert rows == [*ACCEPTED_ORDER[:5], "minus@example.org", "at@example.org", *ACCEPTED_ORDER[6:]]


def test_chromium_takes_a_screenshot(page: Path, tmp_path: Path) -> None:
    png = screenshot(page, tmp_path / "shot", size="1000,1200")
    assert png_size(png) == (1000, 1200)
    assert png.stat().st_size > 20_000  # text and rules, not a blank page


def _many(count: int) -> list[Person]:
    """Return ``count`` people who accepted, spread over the 21 municipalities."""
    places = list(MUNICIPALITIES.items())
    people = []
    for n in range(count):
        municipality, (region, _) = places[n % len(places)]
        people.append(
            Person(
                f"p{n:03d}@example.org",
                f"Åsa{n:03d} Ærø",
                municipality,
                region,
                "ACCEPTED",
                organization=f"{municipality} bibliotek",
                title="Biblioteksjef",
            )
        )
    return people


def test_a_long_list_prints_on_several_a4_pages_headers_repeated_rows_whole(
    project: Path, invoke: Invoke, tmp_path: Path
) -> None:
    settings, db = open_project(project)
    people = _many(80)
    seed(settings, db, people)
    db.close()
    assert (
        invoke("--lang", "nb", "attendance", "--meeting", MEETING, "-o", "long.html").exit_code == 0
    )
    pdf = print_pdf(project / "long.html", tmp_path / "pdf")
    info = subprocess.run(
        [require_tool(shutil.which("pdfinfo"), "pdfinfo (poppler-utils)"), str(pdf)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert re.search(r"Page size:\s+59\d\.\d+ x 84\d\.\d+ pts \(A4\)", info), info
    pages = pdf_pages(pdf)
    assert len(pages) >= 3
    assert int(re.search(r"Pages:\s+(\d+)", info)[1]) == len(pages)  # type: ignore[index]
    lists = [p for p in pages if "p0" in p]
    assert len(lists) >= 3
    for text in lists:
        # The column heads again at the top of every page of the list (thead repeated).
        heads = r"Nr\.\s+Navn\s+Organisasjon\s+Kommune\s+E-post og telefon\s+Signatur"
        assert re.search(heads, text)
    for person in people:
        # break-inside: avoid: a person's name and address are on the same page. (A name may
        # wrap between its words, so look for its first word, which is unique.)
        first_word = person.name.split()[0]
        holding_name = [i for i, t in enumerate(pages) if first_word in t]
        holding_mail = [i for i, t in enumerate(pages) if person.email.split("@")[0] + "@" in t]
        assert holding_name == holding_mail, person
        assert len(holding_name) == 1
    assert "Deltakerliste: Temamøte: Litteratur og kultur" in pages[0]
    assert "Totalt" in pages[-1]
    assert SCRIPT_NAME not in "".join(pages)


def test_addresses_print_whole_and_the_signature_column_has_room(
    project: Path, invoke: Invoke, tmp_path: Path
) -> None:
    # Issue 18: an address is never cut inside a word (at most before its "@"), and a
    # signature needs room: measured in the PDF Chromium prints.
    settings, db = open_project(project)
    seed(settings, db, PEOPLE)
    db.close()
    assert invoke("attendance", "--meeting", MEETING, "-o", "list.html").exit_code == 0
    pdf = print_pdf(project / "list.html", tmp_path / "pdf")
    text = "\n".join(pdf_pages(pdf))
    words = set(text.split())
    listed = [p for p in PEOPLE if p.answer in ("ACCEPTED", "TENTATIVE") and not p.uninvited]
    assert listed
    for person in listed:
        if person.answer == "TENTATIVE":
            continue  # not on the list without --include-tentative
        local, domain = person.email.split("@")
        assert person.email in words or (local in words and f"@{domain}" in words), person
    page = (project / "list.html").read_text(encoding="utf-8")
    widths = {
        name: float(value)
        for name, value in re.findall(r"col\.(\w+) \{ width: ([\d.]+)%; \}", page)
    }
    # A4 is 210 mm; less the margins and the number column, the signature keeps >= 40 mm.
    assert 100 - sum(widths.values()) >= 27
