"""Who is coming to a meeting, as a list to print, open in Excel, paste or read by a program.

Built on ``status.meeting_status`` alone, so the list agrees with ``status`` and ``report``: an
attendee is someone whose answer that counts is ACCEPTED (forwarded guests included), and who has
not been uninvited since.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from inviter.cells import neutralise
from inviter.config import Settings
from inviter.domain import Meeting
from inviter.errors import InputError
from inviter.locale.collation import person_key, region_rank
from inviter.locale.labels import meeting_place, meeting_when, region_label
from inviter.reports.formats import FORMATS, choose_format
from inviter.reports.pages import answer_label, generated_stamp, render
from inviter.reports.status import MeetingStatus, meeting_status
from inviter.reports.terminal import meeting_span, render_table
from inviter.reports.workbook import workbook
from inviter.store.database import Database
from inviter.text import one_line
from inviter.translation import _, pgettext

# The SPEC's keys of ``attendance --format json``, plus ``title``.
JSON_KEYS = ("name", "email", "role", "municipality", "region", "organization", "forwarded")


# OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel and
# LibreOffice (tab and CR too, which they skip before looking); the full-width forms are folded
# to these by some East Asian Excel versions. sending.md: exported cells starting with = + - @.


@dataclass(frozen=True)
class Attendee:
    """One person on the attendance list."""

    name: str
    email: str
    role: str
    municipality: str
    region: str
    organization: str
    title: str
    rsvp: str  # "accepted", or "tentative" when the list includes them
    forwarded: bool
    # The answer was to an earlier version (before a change of time, place or link): listed
    # only with --include-earlier, and marked.
    earlier: bool = False
    phone: str = ""

    @property
    def tentative(self) -> bool:
        """True for someone who answered Tentative (listed only on request)."""
        return self.rsvp == "tentative"


@dataclass(frozen=True)
class RegionTotal:
    """How many of a region accepted (and answered tentative, when listed)."""

    region: str
    accepted: int
    tentative: int


@dataclass(frozen=True)
class Attendance:
    """A meeting's attendance list, sorted by region, municipality and name."""

    meeting: Meeting
    cancelled: bool
    include_tentative: bool
    attendees: tuple[Attendee, ...]
    include_earlier: bool = False

    @property
    def accepted(self) -> int:
        """How many accepted."""
        return sum(not a.tentative for a in self.attendees)

    @property
    def tentative(self) -> int:
        """How many answered tentative (0 unless they are listed)."""
        return sum(a.tentative for a in self.attendees)

    @property
    def totals(self) -> list[RegionTotal]:
        """Return the totals per region, in the list's region order."""
        counts: dict[str, list[int]] = {}
        for person in self.attendees:
            counts.setdefault(person.region, [0, 0])[1 if person.tentative else 0] += 1
        return [
            RegionTotal(region, accepted, tentative)
            for region, (accepted, tentative) in sorted(
                counts.items(), key=lambda item: region_rank(item[0])
            )
        ]


def clean(text: str) -> str:
    """Return text on one line: control characters and line separators become spaces.

    Names may come from a reply's CN, written by anyone; an escape sequence or a line break must
    not reach a terminal, a Markdown table or a CSV row.
    """
    return one_line(text)


def build_attendance(
    status: MeetingStatus, *, include_tentative: bool = False, include_earlier: bool = False
) -> Attendance:
    """Return who accepted (and, on request, who answered tentative), sorted for a list.

    SPEC, second edition: only answers to the current version count; ``include_earlier`` adds
    those who answered an earlier one (before a change of time, place or link), marked.
    """
    wanted = {"accepted", "tentative"} if include_tentative else {"accepted"}
    people = []
    for r in status.recipients:
        if r.uninvited:
            continue
        earlier = r.rsvp == "needs-action" and include_earlier and r.earlier_rsvp in wanted
        answer = r.earlier_rsvp if earlier and r.earlier_rsvp else r.rsvp
        if answer not in wanted:
            continue
        people.append(
            Attendee(
                name=clean(r.name) or r.email,
                email=r.email,
                role=clean(r.role),
                municipality=clean(r.municipality),
                region=clean(r.region),
                organization=clean(r.organization),
                title=clean(r.title),
                rsvp=answer,
                phone=clean(r.phone),
                forwarded=r.forwarded,
                earlier=earlier,
            )
        )
    people.sort(key=lambda a: person_key(a.region, a.municipality, a.name, a.email))
    return Attendance(
        meeting=status.meeting,
        cancelled=status.cancelled,
        include_tentative=include_tentative,
        attendees=tuple(people),
        include_earlier=include_earlier,
    )


def csv_columns() -> tuple[str, ...]:
    """The CSV's header row in the staff's language: in English the fields' names, in Bokmål
    the Norwegian names ``contacts import`` accepts too (navn, tittel, e-post…)."""
    return (
        pgettext("csv header", "name"),
        pgettext("csv header", "title"),
        pgettext("csv header", "organization"),
        pgettext("csv header", "municipality"),
        pgettext("csv header", "region"),
        pgettext("csv header", "role"),
        pgettext("csv header", "email"),
        pgettext("csv header", "phone"),
        pgettext("csv header", "answer"),
        pgettext("csv header", "forwarded"),
    )


def _answer(person: Attendee) -> str:
    """A person's answer as the CSV and the workbook say it (the lists' words: in Bokmål
    "deltar" and "foreløpig"), marked when it was to an earlier version."""
    answer = answer_label(person.rsvp)
    return _("{answer} (earlier version)").format(answer=answer) if person.earlier else answer


def _cells(person: Attendee, region: str) -> list[str]:
    """One person's row of the CSV and the workbook, in the columns of both."""
    return [
        person.name,
        person.title,
        person.organization,
        person.municipality,
        region,
        person.role,
        person.email,
        person.phone,
        _answer(person),
        pgettext("csv value", "yes") if person.forwarded else "",
    ]


def attendance_csv(attendance: Attendance, *, excel: bool = True) -> bytes:
    """Return the list as CSV: for Excel (BOM, ``;``, CRLF) by default, else plain UTF-8.

    Norwegian Excel opened by double click reads UTF-8 only after a BOM, and splits on the
    locale's list separator, which is ``;`` where the decimal separator is a comma.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer, delimiter=";" if excel else ",", lineterminator="\r\n" if excel else "\n"
    )
    writer.writerow(csv_columns())
    for a in attendance.attendees:
        writer.writerow([neutralise(c) for c in _cells(a, a.region)])
    return buffer.getvalue().encode("utf-8-sig" if excel else "utf-8")


def _xlsx_columns() -> tuple[tuple[str, int], ...]:
    """The workbook's columns: the CSV's, with headings staff read, and widths in characters."""
    return (
        (_("Name"), 28),
        (_("Title"), 22),
        (_("Organization"), 30),
        (_("Municipality"), 26),
        (_("Region"), 16),
        (_("Role"), 16),
        (_("E-mail"), 36),
        (_("Phone"), 16),
        (_("Answer"), 14),
        (_("Forwarded"), 12),
    )


def attendance_xlsx(attendance: Attendance) -> bytes:
    """Return the list as an Excel workbook: every cell text, nothing a formula."""
    rows = []
    for a in attendance.attendees:
        # Text cells: "+47 …" stays a number to dial, never a formula, and needs no leading '
        # (which the CSV keeps, since Excel would read "+47 777" as a sum).
        rows.append([clean(value) for value in _cells(a, region_label(a.region))])
    return workbook(
        _("Attendees"),
        _xlsx_columns(),
        rows,
        header=_("Attendance list: {title}").format(title=attendance.meeting.title),
    )


def attendance_json(attendance: Attendance) -> bytes:
    """Return the SPEC's JSON list; ``rsvp`` is added only when tentative ones are listed."""
    items = []
    for a in attendance.attendees:
        item: dict[str, object] = {key: getattr(a, key) for key in JSON_KEYS}
        item["title"] = a.title
        if attendance.include_tentative:
            item["rsvp"] = a.rsvp
        if attendance.include_earlier:
            item["earlier"] = a.earlier
        items.append(item)
    return (json.dumps(items, ensure_ascii=False, indent=2) + "\n").encode()


_MD_SPECIAL = frozenset("\\|`*_[]<>&~")
_MD_LEADING = frozenset("#+-=>!:0123456789")


def markdown_cell(value: str) -> str:
    """Return text safe in a Markdown table cell: ``|`` and markup escaped, HTML not live."""
    out = "".join("\\" + c if c in _MD_SPECIAL else c for c in clean(value))
    # A leading # - + = > ! or "1." would be markup in some renderers when pasted on its own.
    return "\\" + out if out[:1] in _MD_LEADING else out


def _note(person: Attendee) -> list[str]:
    """Return the marks of a person: forwarded guest, tentative, answered an earlier version."""
    notes = []
    if person.forwarded:
        notes.append(_("forwarded"))
    if person.tentative:
        notes.append(answer_label("tentative"))
    if person.earlier:
        notes.append(_("answered an earlier version"))
    return notes


def attendance_markdown(attendance: Attendance) -> bytes:
    """Return the list as Markdown for pasting: a heading, the table, the totals per region."""
    m = attendance.meeting
    lines = [
        "## " + _("Attendance list: {title}").format(title=markdown_cell(m.title)),
        "",
        f"{markdown_cell(meeting_when(m))}, {markdown_cell(meeting_place(m))}",
        "",
    ]
    if attendance.cancelled:
        lines += ["**" + _("The meeting is cancelled.") + "**", ""]
    header = [
        _("Name"),
        _("Title"),
        _("Organization"),
        _("Municipality"),
        _("Region"),
        _("Role"),
        _("E-mail"),
        _("Note"),
    ]
    lines += [_md_row(header), _md_row(["---"] * len(header))]
    for a in attendance.attendees:
        cells = [a.name, a.title, a.organization, a.municipality, region_label(a.region)]
        cells += [a.role, a.email, ", ".join(_note(a))]
        lines.append(_md_row([markdown_cell(c) for c in cells]))
    totals_header = [_("Region"), pgettext("list", "Accepted"), pgettext("list", "Tentative")]
    lines += ["", _md_row(totals_header), _md_row(["---", "---:", "---:"])]
    for t in attendance.totals:
        lines.append(
            _md_row([markdown_cell(region_label(t.region)), str(t.accepted), str(t.tentative)])
        )
    total = ["**" + _("Total") + "**", str(attendance.accepted), str(attendance.tentative)]
    lines.append(_md_row(total))
    return ("\n".join(lines) + "\n").encode()


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def attendance_table(attendance: Attendance, *, color: bool = False) -> bytes:
    """Return the list as a table for the terminal, then the totals per region."""
    rows, colours = [], []
    for a in attendance.attendees:
        rows.append(
            [a.name, a.organization, a.municipality, region_label(a.region), ", ".join(_note(a))]
        )
        colours.append([None, None, None, None, "yellow" if a.tentative else "dim"])
    m = attendance.meeting
    lines = [f"{m.title} ({m.slug}), {meeting_span(m)}"]
    if attendance.cancelled:
        lines.append(_("This meeting is cancelled."))
    if rows:
        headers = [_("name"), _("organization"), _("municipality"), _("region"), _("note")]
        lines.append(render_table(headers, rows, colours=colours, color=color))
    else:
        lines.append(_("Nobody has accepted yet."))
    totals = [
        f"{region_label(t.region)} {t.accepted}"
        + (" " + _("(+{count} tentative)").format(count=t.tentative) if t.tentative else "")
        for t in attendance.totals
    ]
    summary = _("total {count} accepted").format(count=attendance.accepted)
    if attendance.include_tentative:
        summary += ", " + _("{count} tentative").format(count=attendance.tentative)
    lines.append("; ".join([*totals, summary]))
    return ("\n".join(lines) + "\n").encode()


def attendance_document(
    settings: Settings,
    db: Database,
    slug: str,
    *,
    fmt: str | None = None,
    output: Path | None = None,
    include_tentative: bool = False,
    include_earlier: bool = False,
    excel: bool = True,
    color: bool = False,
    generated_at: datetime | None = None,
) -> bytes:
    """Return the meeting's attendance list as bytes, in a format.

    With no format, the one the output file's suffix names (``-o liste.csv``), else the table
    for the terminal. The caller writes the bytes: the Excel CSV's BOM must reach the file as is.
    """
    fmt = choose_format(fmt, output)
    meeting = settings.meeting(slug)
    with db.reading() as session:
        status = meeting_status(session, settings, meeting)
    attendance = build_attendance(
        status, include_tentative=include_tentative, include_earlier=include_earlier
    )
    if fmt == "csv":
        return attendance_csv(attendance, excel=excel)
    if fmt == "json":
        return attendance_json(attendance)
    if fmt == "md":
        return attendance_markdown(attendance)
    if fmt == "xlsx":
        return attendance_xlsx(attendance)
    if fmt == "html":
        page = render_attendance_page(attendance, generated_at=generated_at or datetime.now(UTC))
        return page.encode()
    if fmt is None:
        return attendance_table(attendance, color=color)
    raise InputError(
        _("unknown format '{format}' (known: {known})").format(format=fmt, known=", ".join(FORMATS))
    )


Group = tuple[str, int, int, list[tuple[int, Attendee]]]


def attendance_groups(attendance: Attendance) -> list[Group]:
    """Return the list cut by region: (region, accepted, tentative, numbered people)."""
    numbered = list(enumerate(attendance.attendees, start=1))
    return [
        (t.region, t.accepted, t.tentative, [(n, a) for n, a in numbered if a.region == t.region])
        for t in attendance.totals
    ]


def render_attendance_page(attendance: Attendance, *, generated_at: datetime) -> str:
    """Return the attendance list as one printable A4 page (or several, the header repeated)."""
    return render(
        "attendance.html.j2",
        attendance=attendance,
        meeting=attendance.meeting,
        groups=attendance_groups(attendance),
        generated=generated_stamp(generated_at),
    )
