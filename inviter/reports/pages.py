"""The printable HTML pages: the report templates' environment, shared by the attendance list
and the programme overview (each module renders its own page, so this one imports neither).

Templates live inside the package (``inviter/reports/templates``), apart from the invitation
templates a user edits. Every value is HTML-escaped (autoescape); pages load nothing from the
network and run no script, so they print the same anywhere and can be mailed as a file.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from inviter.errors import TemplateError
from inviter.locale import bokmal

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
        loader=jinja2.PackageLoader("inviter.reports", "templates"),
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
        raise TemplateError(f"inviter/reports/templates/{where}: {exc}; reinstall inviter") from exc


def generated_stamp(generated_at: datetime) -> str:
    """Return the "made at" line of a page, on Oslo's clock."""
    return bokmal.stamp(generated_at.astimezone(LOCAL_ZONE))
