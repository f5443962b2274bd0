"""Commands that print what is known: meetings list, status, attendance, report."""

from __future__ import annotations

from pathlib import Path

import click

from inviter.cli.options import (
    AppContext,
    InviterGroup,
    TranslatedCommand,
    emit,
    is_terminal,
    json_option,
    meeting_option,
    output_option,
    pass_app,
    print_json,
)
from inviter.reports.formats import FORMATS
from inviter.translation import N_


@click.group("meetings", cls=InviterGroup)
def meetings_group() -> None:
    """The meetings described in inviter.toml."""


@meetings_group.command("list")
@json_option()
@pass_app
def list_meetings(app: AppContext, as_json: bool) -> None:
    """List the meetings with their audience size and how far sending has got.

    \b
    Example:
      inviter meetings list --json
    """
    from inviter.reports.meeting_list import meetings_document, summarize_meetings
    from inviter.reports.terminal import meetings_table

    summaries = summarize_meetings(app.settings, app.db)
    if as_json:
        print_json(meetings_document(summaries))
        return
    click.echo(meetings_table(summaries, color=is_terminal()))


@click.command("status", cls=TranslatedCommand)
@meeting_option(N_("The meeting."))
@json_option(N_("Print the JSON object instead."))
@pass_app
def show_status(app: AppContext, slug: str, as_json: bool) -> None:
    """Show who was sent what, who failed and why, and who answered what.

    \b
    Example:
      inviter status --meeting temamote-tromso
      inviter status --meeting temamote-tromso --json
    """
    from inviter.reports.status_output import load_status, status_document, status_table

    status = load_status(app.settings, app.db, slug)
    if as_json:
        print_json(status_document(status))
        return
    click.echo(status_table(status, color=is_terminal()))


@click.command("attendance", cls=TranslatedCommand)
@meeting_option()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="csv, html, md, json or xlsx (default: the -o file's suffix, else a table).",
)
@click.option("--include-tentative", is_flag=True, help="List those who answered Tentative too.")
@click.option(
    "--include-earlier",
    is_flag=True,
    help="List, marked, those who answered an earlier version (before the time, place or "
    "link changed) too.",
)
@click.option(
    "--excel/--no-excel",
    default=True,
    help="CSV for Norwegian Excel: UTF-8 with BOM, ';', CRLF (default); or plain CSV.",
)
@output_option()
@pass_app
def attendance(
    app: AppContext,
    slug: str,
    fmt: str | None,
    include_tentative: bool,
    include_earlier: bool,
    excel: bool,
    output: Path | None,
) -> None:
    """List who accepted a meeting, forwarded guests marked, sorted and counted by region.

    Without --format a table for the terminal, unless the -o file's suffix names a format
    (.csv, .html, .md, .json, .xlsx). The HTML page prints on A4 with a signature column.

    \b
    Example:
      inviter attendance --meeting temamote-tromso
      inviter attendance --meeting temamote-tromso -o deltakere.csv
      inviter attendance --meeting temamote-tromso --format html -o dør.html
      inviter attendance --meeting temamote-tromso --format csv --no-excel
    """
    from inviter.reports.attendance import attendance_document

    data = attendance_document(
        app.settings,
        app.db,
        slug,
        fmt=fmt,
        output=output,
        include_tentative=include_tentative,
        include_earlier=include_earlier,
        excel=excel,
        color=output is None and is_terminal(),
    )
    emit(data, output)


@click.command("report", cls=TranslatedCommand)
@output_option(N_("Write the page to this file (default: standard output)."))
@pass_app
def report(app: AppContext, output: Path | None) -> None:
    """Write the whole programme at a glance as one HTML page.

    Every meeting with invited, sent, failed, accepted, declined, tentative and no answer, and
    a chart of answers per region. The page is self-contained: no script, nothing loaded from
    the network. Without -o it goes to standard output.

    \b
    Example:
      inviter report -o report.html
    """
    from inviter.reports.programme_report import overview_document

    emit(overview_document(app.settings, app.db), output)


@click.command("calendar", cls=TranslatedCommand)
@output_option(N_("Write the calendar to this file (default: standard output)."))
@pass_app
def programme_calendar(app: AppContext, output: Path | None) -> None:
    """Write every meeting as one calendar file, for the organizer's own calendar.

    Import it in Outlook, Google or Apple Calendar: the meetings carry the identity their
    invitations carry, so the season shows once, and a later import updates the same
    entries. Cancelled meetings show as cancelled.

    \b
    Example:
      inviter calendar -o program.ics
    """
    from inviter.reports.programme_calendar import programme_calendar as write

    emit(write(app.settings, app.db), output)
