"""The printable HTML pages: the attendance list and the programme overview.

Templates live inside the package (``inviter/report_templates``), apart from the invitation
templates a user edits. Every value is HTML-escaped (autoescape); pages load nothing from the
network and run no script, so they print the same anywhere and can be mailed as a file.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from inviter import bokmal
from inviter.errors import TemplateError

if TYPE_CHECKING:
    from inviter.attendance import Attendance, Attendee
    from inviter.overview import Programme

# Shown to people in Norway: "made at" times on Oslo's clock.
LOCAL_ZONE = ZoneInfo("Europe/Oslo")

# What each answer is called on the page (Outlook's Norwegian words for the buttons).
ANSWER_LABELS = {
    "accepted": "deltar",
    "tentative": "foreløpig",
    "declined": "kan ikke",
    "no_answer": "ikke svart",
}


@cache
def environment() -> ImmutableSandboxedEnvironment:
    """Return the Jinja2 environment of the report templates: strict, autoescaping."""
    # The report's own templates, sandboxed all the same: one rule for every template.
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.PackageLoader("inviter", "report_templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        long_date=bokmal.long_date,
        short_date=bokmal.short_date,
        when=bokmal.meeting_when,
        place=bokmal.meeting_place,
        region=bokmal.region_label,
    )
    env.globals["ANSWER_LABELS"] = ANSWER_LABELS
    return env


def render(name: str, **context: Any) -> str:
    """Render one report template; a template fault becomes a TemplateError naming it."""
    try:
        return environment().get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        where = f"{name}:{exc.lineno}" if isinstance(exc, jinja2.TemplateSyntaxError) else name
        raise TemplateError(f"inviter/report_templates/{where}: {exc}; reinstall inviter") from exc


Group = tuple[str, int, int, list[tuple[int, "Attendee"]]]


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
        generated=bokmal.stamp(generated_at.astimezone(LOCAL_ZONE)),
    )


def render_overview_page(programme: Programme, *, generated_at: datetime) -> str:
    """Return the programme overview: a table of meetings and a chart per meeting."""
    return render(
        "overview.html.j2",
        programme=programme,
        generated=bokmal.stamp(generated_at.astimezone(LOCAL_ZONE)),
    )
