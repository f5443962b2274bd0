"""The printable HTML pages: the report templates' environment, shared by the attendance list
and the programme overview (each module renders its own page, so this one imports neither).

Templates live inside the package (``inviter/reports/templates``), apart from the invitation
templates a user edits. Every value is HTML-escaped (autoescape); pages load nothing from the
network and run no script, so they print the same anywhere and can be mailed as a file.

The pages speak the staff's language (SPEC, "Language"): their words go through the catalog
with Jinja2's i18n extension (``{{ _("…") }}`` and ``{{ pgettext("list", "…") }}``: English
msgids, Bokmål translations; tools/catalog.py extracts these calls), and dates, times and
places are written in the language of the run by ``inviter.locale.labels``.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from inviter.errors import TemplateError
from inviter.locale.labels import (
    long_date,
    meeting_place,
    meeting_when,
    region_label,
    short_date,
    stamp,
)
from inviter.translation import _, current_language, ngettext, pgettext

# Shown to people in Norway: "made at" times on Oslo's clock.
LOCAL_ZONE = ZoneInfo("Europe/Oslo")


def answer_label(answer: str) -> str:
    """Return what an answer (``accepted``, ``tentative``, ``declined``, ``no_answer``) is
    called on the attendance lists and the report, in the staff's language: in Bokmål
    Outlook's words for its buttons (deltar, foreløpig, kan ikke) and "ikke svart"."""
    if answer == "accepted":
        return pgettext("list", "accepted")
    if answer == "tentative":
        return pgettext("list", "tentative")
    if answer == "declined":
        return pgettext("list", "declined")
    if answer == "no_answer":
        return _("no answer")
    return answer


@cache
def environment() -> ImmutableSandboxedEnvironment:
    """Return the Jinja2 environment of the report templates: strict, autoescaping, and
    translating ``_()`` and ``pgettext()`` through inviter's catalog when rendered."""
    # The report's own templates, sandboxed all the same: one rule for every template.
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.PackageLoader("inviter.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # The functions look the language up when called, so the cached environment follows it.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_, ngettext=ngettext, newstyle=True, pgettext=pgettext
    )
    env.filters.update(
        long_date=long_date,
        short_date=short_date,
        when=meeting_when,
        place=meeting_place,
        region=region_label,
    )
    env.globals["answer_label"] = answer_label
    return env


def render(name: str, **context: Any) -> str:
    """Render one report template; a template fault becomes a TemplateError naming it."""
    context.setdefault("language", current_language())
    try:
        return environment().get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        where = f"{name}:{exc.lineno}" if isinstance(exc, jinja2.TemplateSyntaxError) else name
        raise TemplateError(
            _("{file}: {error}; reinstall inviter").format(
                file=f"inviter/reports/templates/{where}", error=exc
            )
        ) from exc


def generated_stamp(generated_at: datetime) -> str:
    """Return the "made at" line of a page, on Oslo's clock."""
    return stamp(generated_at.astimezone(LOCAL_ZONE))
