"""The programme overview: counts per meeting, answers per region, the page and its chart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inviter.reports.programme_report import (
    BAR_WIDTH,
    LABEL_WIDTH,
    RegionAnswers,
    answers_by_region,
    chart_layout,
)
from inviter.reports.status import meeting_status
from tests.conftest import Invoke
from tests.report_browser import dump_dom, page_colours, pdf_pages, print_pdf, screenshot
from tests.report_seed import MEETING, PEOPLE, Person, open_project, seed

EXTERNAL = re.compile(r"<script|<link|<iframe|<img|\ssrc=|@import|url\((?!#)|javascript:", re.I)
HOSTILE_REGION = '"><svg onload=alert(1)>'
DARK_GREEN = (0x1D, 0x6B, 0x35)  # "deltar" in the chart


@pytest.fixture
def seeded(project: Path) -> Path:
    """Return the project with PEOPLE answering temamote-tromso and one in a hostile region."""
    settings, db = open_project(project)
    hostile = Person("h@example.org", "Hanna Hostile", "Andeby", HOSTILE_REGION, "DECLINED")
    seed(settings, db, [*PEOPLE, hostile])
    # Two library heads of Nord-Troms invited to their regional meeting; one answered.
    seed(
        settings,
        db,
        [Person("aile@example.org", "Áile Ŋuolja", "Kåfjord", "Nord-Troms", "ACCEPTED")],
        slug="regionmote-nord-troms",
    )
    db.close()
    return project


def test_answers_per_region_add_up_to_the_status_counts(seeded: Path) -> None:
    settings, db = open_project(seeded)
    with db.session() as s:
        status = meeting_status(s, settings, settings.meeting(MEETING))
    regions = answers_by_region(status)
    assert [(r.region, r.accepted, r.tentative, r.declined, r.no_answer) for r in regions] == [
        ("Nord-Troms", 3, 0, 0, 0),
        ("Tromsø og omegn", 2, 0, 1, 1),  # one more was uninvited: not counted
        ("Midt-Troms", 1, 1, 0, 0),
        ("Sør-Troms", 3, 0, 0, 0),
        (HOSTILE_REGION, 0, 0, 1, 0),
        ("Norrbotten", 1, 0, 0, 0),
        ("", 2, 0, 0, 0),
    ]
    counts = status.counts
    for answer in ("accepted", "tentative", "declined", "no_answer"):
        assert sum(getattr(r, answer) for r in regions) == counts[answer], answer


def test_chart_bars_are_to_scale() -> None:
    chart = chart_layout([RegionAnswers("Nord-Troms", 2, 1, 1, 4), RegionAnswers("Sør-Troms", 2)])
    big, small = chart.rows
    assert [(s.answer, s.count) for s in big.segments] == [
        ("accepted", 2),
        ("tentative", 1),
        ("declined", 1),
        ("no_answer", 4),
    ]
    assert big.segments[0].x == LABEL_WIDTH
    assert sum(s.width for s in big.segments) == pytest.approx(BAR_WIDTH)
    assert [(s.answer, s.width) for s in small.segments] == [("accepted", BAR_WIDTH / 4)]
    assert big.segments[1].x == pytest.approx(LABEL_WIDTH + BAR_WIDTH / 4)
    assert small.y > big.y


def _row(page: str, slug: str) -> list[str]:
    """Return the numbers of a meeting's row in the overview table."""
    row = re.search(rf'<span class="small">{slug}</span></td>(.*?)</tr>', page, re.S)
    assert row, slug
    return re.findall(r'<td class="num[^"]*">(\d+)</td>', row[1])


def test_report_page_counts_chart_and_escaping(seeded: Path, invoke: Invoke) -> None:
    # In Bokmål, as staff get it by default (the English page: tests/test_language_reports.py).
    result = invoke("--lang", "nb", "report")
    assert result.exit_code == 0, result.stderr
    page = result.stdout
    assert page.startswith('<!DOCTYPE html>\n<html lang="nb">')
    assert EXTERNAL.search(page) is None
    settings, _ = open_project(seeded)
    for meeting in settings.meetings:
        assert f"{meeting.title}</a>" in page
    # invited, sent, failed, accepted, declined, tentative, no answer
    # 15 library heads, one uninvited; 12 accepted (2 forwarded guests), 2 declined.
    assert _row(page, MEETING) == ["14", "14", "0", "12", "2", "1", "1"]
    # The two library heads of Nord-Troms: one sent the invitation, and accepted.
    assert _row(page, "regionmote-nord-troms") == ["2", "1", "0", "1", "0", "0", "1"]
    # Nothing sent yet: all 15 owe an answer; the leader is in the seminar's audience.
    assert _row(page, "temamote-harstad") == ["15", "0", "0", "0", "0", "0", "15"]
    assert _row(page, "bibliotekpolitisk-seminar-2022") == ["1", "0", "0", "0", "0", "0", "1"]
    assert '<td class="date">9. nov. 2022</td>' in page
    # One chart per meeting, each labelled for screen readers.
    charts = re.findall(r'<svg class="chart"[^>]*aria-labelledby="(c\d+)-title \1-desc"', page)
    assert charts == [f"c{n}" for n in range(1, len(settings.meetings) + 1)]
    assert (
        '<desc id="c8-desc">Nord-Troms: 3 deltar · 0 foreløpig · 0 kan ikke · 0 ikke svart. '
        "Tromsø og omegn: 2 deltar · 0 foreløpig · 1 kan ikke · 1 ikke svart." in page
    )
    assert 'fill="url(#c8-tentative)"' in page
    assert 'fill="url(#c8-declined)"' in page
    assert '<pattern id="c8-declined"' in page
    # The hostile region is text everywhere: in the table-free chart labels and titles.
    assert "<svg onload" not in page
    assert "&#34;&gt;&lt;svg onload=alert(1)&gt;: 0 deltar" in page


def test_report_with_nobody_yet(invoke: Invoke) -> None:
    page = invoke("report").stdout
    assert page.count("Nobody in the audience yet.") == 9
    assert '<svg class="chart"' not in page
    assert _row(page, MEETING) == ["0"] * 7


def test_report_to_a_file(seeded: Path, invoke: Invoke) -> None:
    result = invoke("report", "-o", "oversikt.html")
    assert result.exit_code == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "Wrote oversikt.html\n")
    assert (seeded / "oversikt.html").read_text(encoding="utf-8").endswith("</html>\n")


def test_meeting_titles_are_escaped(project: Path, invoke: Invoke) -> None:
    config = project / "inviter.toml"
    text = config.read_text(encoding="utf-8")
    hostile = "Temamøte <script>alert(1)</script> & co"
    config.write_text(
        text.replace('title = "Temamøte: Litteratur og kultur"', f'title = "{hostile}"'),
        encoding="utf-8",
    )
    page = invoke("report").stdout
    assert "<script" not in page
    assert "Temamøte &lt;script&gt;alert(1)&lt;/script&gt; &amp; co</a>" in page


def test_chromium_renders_the_overview_and_its_chart(
    seeded: Path, invoke: Invoke, tmp_path: Path
) -> None:
    assert invoke("--lang", "nb", "report", "-o", "report.html").exit_code == 0
    page = seeded / "report.html"
    dom = dump_dom(page, tmp_path / "dom")
    assert "<script" not in dom.lower()
    assert dom.count('<svg class="chart"') == 9
    assert "Temamøte: Litteratur og kultur" in dom
    pdf = print_pdf(page, tmp_path / "pdf")
    pages = pdf_pages(pdf)
    assert "Møteprogrammet – oversikt" in pages[0]
    charts = "\n".join(pages[1:])
    assert "Svar per region" in charts
    # The chart's words are in the print: region labels and the numbers beside the bars.
    assert re.search(
        r"Tromsø og omegn\s+2 deltar · 0 foreløpig · 1 kan ikke · 1 ikke svart", charts
    )
    assert re.search(r"Midt-Troms\s+1 deltar · 1 foreløpig · 0 kan ikke · 0 ikke svart", charts)
    # And the bars are drawn: the page with the charts holds the "deltar" green.
    colours = page_colours(pdf, page=2)
    assert colours.get(DARK_GREEN, 0) > 50, sorted(colours.items(), key=lambda c: -c[1])[:8]


def test_chromium_screenshot_of_the_overview(seeded: Path, invoke: Invoke, tmp_path: Path) -> None:
    assert invoke("report", "-o", "report.html").exit_code == 0
    png = screenshot(seeded / "report.html", tmp_path / "shot", size="1000,2400")
    assert png.stat().st_size > 50_000
