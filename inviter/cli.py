"""The command line: parse, call one core function, print. Errors become exit statuses here.

Long only because every command's options and help (with examples) are spelled out here; the
work of each is one call into a core module.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import click

from inviter import __version__
from inviter.compose.preview import describe_preview, preview_invitation
from inviter.config import Settings, find_config, load_settings
from inviter.contacts.contact_list import (
    add_contact,
    export_contacts,
    export_contacts_file,
    import_contacts,
    list_contacts,
    remove_contact,
)
from inviter.deliver.run_summary import describe_report
from inviter.deliver.sending import Progress, cancel_meeting, remind_meeting, send_invitations
from inviter.errors import ConfigError, ContactError, InviterError, PartialFailure
from inviter.replies.imap import fetch_replies
from inviter.replies.recording import ImportReport
from inviter.replies.rsvp import describe_import, import_replies, set_reply
from inviter.reports.attendance import FORMATS, attendance_document, write_document
from inviter.reports.meeting_list import meetings_document, summarize_meetings
from inviter.reports.programme_report import overview_document
from inviter.reports.status import RSVP_WORDS
from inviter.reports.status_output import load_status, status_document, status_table
from inviter.reports.terminal import meetings_table, render_table
from inviter.store.database import Database
from inviter.store.uid_book import UID_FILE, UidBook

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppContext:
    """What every command needs, loaded on first use: settings and database."""

    config: str | None
    db_url: str | None
    _settings: Settings | None = field(default=None, repr=False)
    _db: Database | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        """The checked settings of inviter.toml."""
        if self._settings is None:
            path = find_config(self.config, os.environ)
            self._settings = load_settings(path, db=self.db_url)
        return self._settings

    @property
    def db(self) -> Database:
        """The open database (made on first use)."""
        if self._db is None:
            self._db = Database(self.settings.database_url)
            if self._db.created and _set_up_before(self.settings):
                # A lost or emptied database: say so before anything is sent from it.
                click.echo(
                    f"Warning: {self._db.describe()} is a new database, but {UID_FILE} shows "
                    "that meetings of this folder were set up before. It has no record of "
                    "who was sent what or who answered: send invites everyone again (into the "
                    "same calendar entries, the UIDs are kept), and earlier replies must be "
                    "imported again.",
                    err=True,
                )
        return self._db

    def close(self) -> None:
        """Release the database."""
        if self._db is not None:
            self._db.close()


pass_app = click.make_pass_decorator(AppContext)


def _set_up_before(settings: Settings) -> bool:
    """True when UIDs are kept beside the config; a damaged file is reported where it is used."""
    try:
        return bool(UidBook(settings.base_dir))
    except ConfigError:
        return False


class InviterGroup(click.Group):
    """A group that turns InviterError into its one-line message and exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InviterError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)


def print_json(value: Any) -> None:
    """Print a JSON document, non-ASCII letters as they are."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _password_prompt() -> Callable[[str], str] | None:
    """Ask on the terminal (never echoed); no terminal, no asking (SPEC: exit status 2)."""
    if not sys.stdin.isatty():
        return None
    return lambda text: getpass.getpass(f"{text}: ")


@click.group(cls=InviterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="inviter")
@click.option(
    "--config",
    "config",
    envvar="INVITER_CONFIG",
    metavar="PATH",
    help="The settings file (default: ./inviter.toml).",
)
@click.option(
    "--db",
    "db_url",
    envvar="INVITER_DB",
    metavar="PATH|URL",
    help="The database: a path or an SQLAlchemy URL (default: inviter.db beside the config).",
)
@click.pass_context
def cli(ctx: click.Context, config: str | None, db_url: str | None) -> None:
    """Invite the right people to a series of meetings and know who is coming.

    \b
    Example, in a folder holding inviter.toml:
      inviter contacts import contacts/troms.csv
      inviter send --meeting temamote-tromso
    """
    app = AppContext(config=config, db_url=db_url)
    ctx.obj = app
    ctx.call_on_close(app.close)


# ---------------------------------------------------------------- meetings


@cli.group("meetings", cls=InviterGroup)
def meetings_group() -> None:
    """The meetings described in inviter.toml."""


@meetings_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_app
def list_meetings(app: AppContext, as_json: bool) -> None:
    """List the meetings with their audience size and how far sending has got.

    \b
    Example:
      inviter meetings list --json
    """
    summaries = summarize_meetings(app.settings, app.db)
    if as_json:
        print_json(meetings_document(summaries))
        return
    click.echo(meetings_table(summaries, color=sys.stdout.isatty()))


# ---------------------------------------------------------------- reports


def _emit(data: bytes, output: Path | None) -> None:
    """Write a document to the -o file (and say so on stderr), else to stdout as bytes."""
    if output is None:
        click.echo(data, nl=False)
        return
    write_document(output, data)
    click.echo(f"Wrote {output}", err=True)


@cli.command("attendance")
@click.option("--meeting", "slug", required=True, metavar="SLUG", help="The meeting's slug.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="csv, html, md or json (default: the -o file's suffix, else a table).",
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
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
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
    (.csv, .html, .md, .json). The HTML page prints on A4 with a signature column.

    \b
    Example:
      inviter attendance --meeting temamote-tromso
      inviter attendance --meeting temamote-tromso -o deltakere.csv
      inviter attendance --meeting temamote-tromso --format html -o dør.html
      inviter attendance --meeting temamote-tromso --format csv --no-excel
    """
    data = attendance_document(
        app.settings,
        app.db,
        slug,
        fmt=fmt,
        output=output,
        include_tentative=include_tentative,
        include_earlier=include_earlier,
        excel=excel,
        color=output is None and sys.stdout.isatty(),
    )
    _emit(data, output)


@cli.command("report")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the page to this file (default: standard output).",
)
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
    _emit(overview_document(app.settings, app.db), output)


# ---------------------------------------------------------------- contacts


@cli.group("contacts", cls=InviterGroup)
def contacts_group() -> None:
    """The contact list: who may be invited."""


@contacts_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--role", metavar="ROLE", help="Role for contacts whose file gives none.")
@click.option(
    "--municipality", metavar="NAME", help="Municipality for contacts whose file gives none."
)
@pass_app
def import_contacts_command(
    app: AppContext, paths: tuple[Path, ...], role: str | None, municipality: str | None
) -> None:
    """Import contacts from CSV or vCard (.vcf) files, all or nothing.

    The e-mail address is the identity: importing again updates. A bad row
    rejects every file of the command, naming the file, line and field.
    CSV: a header row naming name, email, role, municipality (and region,
    organization, title, phone, language); UTF-8 or Windows-1252; comma or
    semicolon. vCards take role and municipality from X-INVITER-ROLE /
    X-INVITER-MUNICIPALITY, CATEGORIES, or --role / --municipality.

    \b
    Example:
      inviter contacts import contacts/troms.csv
      inviter contacts import --role partner --municipality Tromsø partners.vcf
    """
    summary = import_contacts(app.db, paths, role=role, municipality=municipality)
    for done in summary.files:
        click.echo(
            f"{done.path}: {done.added} added, {done.updated} updated, {done.unchanged} unchanged"
        )
    if len(summary.files) > 1:
        click.echo(
            f"In all: {summary.added} added, {summary.updated} updated, "
            f"{summary.unchanged} unchanged"
        )


@contacts_group.command("list")
@click.option("--role", metavar="ROLE", help="Only this role (e.g. biblioteksjef).")
@click.option("--region", metavar="REGION", help="Only this region (e.g. Nord-Troms).")
@click.option("--municipality", metavar="NAME", help="Only this municipality (any of its names).")
@click.option(
    "--bounced", is_flag=True, help="Only those whose last invitation bounced (a wrong address?)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_app
def list_contacts_command(
    app: AppContext,
    role: str | None,
    region: str | None,
    municipality: str | None,
    bounced: bool,
    as_json: bool,
) -> None:
    """List contacts, by region, municipality and name.

    \b
    Example:
      inviter contacts list --region Nord-Troms --role biblioteksjef
      inviter contacts list --municipality Gáivuotna --json
    """
    found = list_contacts(
        app.db, role=role, region=region, municipality=municipality, bounced=bounced
    )
    if as_json:
        print_json([contact.as_dict() for contact in found])
        return
    if not found:
        click.echo("No contacts.")
        return
    headers = ["name", "email", "role", "municipality", "region", "organization"]
    rows = [[getattr(contact, name) for name in headers] for contact in found]
    click.echo(render_table(headers, rows, color=sys.stdout.isatty()))
    click.echo(f"{len(found)} contact{'' if len(found) == 1 else 's'}")


@contacts_group.command("add")
@click.option("--name", required=True, help="Full name.")
@click.option("--email", required=True, help="E-mail address (the contact's identity).")
@click.option("--role", required=True, help="biblioteksjef, kommunedirektør, partner …")
@click.option("--municipality", required=True, help="Municipality (any of its names).")
@click.option("--region", help="Region; taken from the municipality in Troms.")
@click.option("--organization", help="Organization.")
@click.option("--title", help="Job title.")
@click.option("--phone", help="Phone number.")
@click.option("--language", help="nb (default) or en: the language of the invitation.")
@click.option("--update", is_flag=True, help="Replace the contact if the address is known.")
@pass_app
def add_contact_command(app: AppContext, /, update: bool, **fields: str | None) -> None:
    """Add one contact by hand, checked as an imported row is.

    An address already in the list is refused unless --update is given.

    \b
    Example:
      inviter contacts add --name "Kari Nordmann" --email kari@example.org \\
        --role biblioteksjef --municipality Kåfjord
    """
    given = {name: value for name, value in fields.items() if value is not None}
    contact, created = add_contact(app.db, given, update=update)
    click.echo(
        f"{'Added' if created else 'Updated'} {contact.name} <{contact.email}> "
        f"({contact.role}, {contact.municipality}, {contact.region})"
    )


@contacts_group.command("remove")
@click.argument("email")
@pass_app
def remove_contact_command(app: AppContext, email: str) -> None:
    """Remove one contact, by e-mail address.

    Deliveries and replies already recorded stay, so status and attendance
    of past meetings still show them.

    \b
    Example:
      inviter contacts remove kari@example.org
    """
    if not remove_contact(app.db, email):
        raise ContactError(f"contacts remove: {email.strip()} is not in the contact list")
    click.echo(f"Removed {email.strip().lower()}")


@contacts_group.command("export")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout."
)
@click.option("--excel", is_flag=True, help="UTF-8 with BOM and semicolons, for Norwegian Excel.")
@pass_app
def export_contacts_command(app: AppContext, output: Path | None, excel: bool) -> None:
    """Write the contact list as CSV, in the columns import reads.

    Cells starting with = + - @ get a leading ' so spreadsheets do not run
    them as formulas; import removes it again.

    \b
    Example:
      inviter contacts export -o contacts/backup.csv
    """
    if output is None:
        export_contacts(app.db, sys.stdout, excel=excel)
        return
    count = export_contacts_file(app.db, output, excel=excel)
    click.echo(f"Wrote {count} contact{'' if count == 1 else 's'} to {output}")


# ---------------------------------------------------------------- replies


def _print_import(report: ImportReport) -> None:
    """Print what an import or fetch did; raise PartialFailure when some need review."""
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(describe_import(report))
    if report.review:
        click.echo(f"For review ({len(report.review)}):", err=True)
        for item in report.review:
            click.echo(f"  {item.where}: {item.reason}", err=True)
        count = len(report.review)
        raise PartialFailure(
            f"{count} message{'' if count == 1 else 's'} not recorded; see the list above"
        )


@cli.group("rsvp", cls=InviterGroup)
def rsvp_group() -> None:
    """Record the answers to invitations."""


@rsvp_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@pass_app
def import_rsvp(app: AppContext, paths: tuple[Path, ...]) -> None:
    """Record calendar replies from .eml, .msg and mbox files and Maildir folders.

    Only replies to this inviter's meetings are recorded, matched on the attendee's
    address. Messages that cannot be read, match no meeting or carry no calendar
    are listed for review (exit status 1); the rest are recorded.

    \b
    Example:
      inviter rsvp import ~/Downloads/svar.mbox replies/ Godtatt.msg
    """
    _print_import(import_replies(app.settings, app.db, paths))


@rsvp_group.command("fetch")
@pass_app
def fetch_rsvp(app: AppContext) -> None:
    """Record new replies from the organizer's mailbox over IMAP ([imap] settings).

    The mailbox is left as it was (nothing marked read) unless [imap] move_to names
    a folder for handled replies. The password comes from INVITER_IMAP_PASSWORD or
    is asked for at a terminal.

    \b
    Example:
      INVITER_IMAP_PASSWORD=... inviter rsvp fetch
    """
    _print_import(fetch_replies(app.settings, app.db, password_prompt=_password_prompt()))


@rsvp_group.command("set")
@click.option("--meeting", "slug", required=True, metavar="SLUG", help="The meeting.")
@click.option("--note", default="", metavar="TEXT", help="What they said, for the record.")
@click.argument("email")
@click.argument("answer", type=click.Choice(["yes", "no", "maybe", "ja", "nei", "kanskje"]))
@pass_app
def set_rsvp(app: AppContext, slug: str, note: str, email: str, answer: str) -> None:
    """Record an answer given by phone or in person.

    \b
    Example:
      inviter rsvp set --meeting temamote-tromso kari@example.org yes --note "by phone"
    """
    done = set_reply(app.settings, app.db, slug, email, answer, note)
    who = f"{done.name} <{done.email}>" if done.name else done.email
    # The answer read back after recording, not the one typed (SPEC: it prints what counts).
    click.echo(f"Recorded {who}: {RSVP_WORDS[done.counted]} for {done.slug}; it counts now.")


@cli.command("status")
@click.option("--meeting", "slug", required=True, metavar="SLUG", help="The meeting.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON object instead.")
@pass_app
def show_status(app: AppContext, slug: str, as_json: bool) -> None:
    """Show who was sent what, who failed and why, and who answered what.

    \b
    Example:
      inviter status --meeting temamote-tromso
      inviter status --meeting temamote-tromso --json
    """
    status = load_status(app.settings, app.db, slug)
    if as_json:
        print_json(status_document(status))
        return
    click.echo(status_table(status, color=sys.stdout.isatty()))


# ---------------------------------------------------------------- invitations


@cli.command("preview")
@click.option("--meeting", "slug", required=True, metavar="SLUG", help="The meeting's slug.")
@click.option(
    "--to",
    "to",
    metavar="EMAIL",
    help="Render it for this contact (default: the first of the audience).",
)
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    metavar="FILE.eml",
    help="Write the exact message bytes to this file instead of showing them.",
)
@click.option(
    "--kind",
    type=click.Choice(["request", "reminder", "cancel"]),
    default="request",
    show_default=True,
    help="The invitation, the reminder or the cancellation.",
)
@pass_app
def preview(
    app: AppContext, slug: str, to: str | None, output_path: Path | None, kind: str
) -> None:
    """Render one invitation exactly as it would be sent; nothing is sent.

    Without -o, shows the headers, the parts, the plain text and the calendar. With -o, writes
    the message byte for byte as send would hand it to the server (open it in a mail program).
    With no contacts yet, a made-up sample recipient is used, and said so.

    \b
    Example:
      inviter preview --meeting temamote-tromso
      inviter preview --meeting regionmote-nord-troms --to elle.marja.navvu@kafjord.example.org
      inviter preview --meeting temamote-tromso -o invitation.eml
    """
    result = preview_invitation(
        app.settings,
        app.db,
        slug,
        to=to,
        kind="cancel" if kind == "cancel" else "reminder" if kind == "reminder" else "request",
        output_path=output_path,
    )
    if output_path is None:
        click.echo(describe_preview(result))
        return
    who = f"{result.recipient.name} <{result.recipient.email}>"
    if result.sample_reason:
        who = f"the sample recipient {who} ({result.sample_reason})"
    click.echo(f"Wrote {output_path} ({len(result.data):,} bytes): {result.kind} to {who}.")


# ---------------------------------------------------------------- sending


class _ProgressView:
    """A progress bar on a terminal; one plain line per recipient otherwise (logs, pipes)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __call__(self, step: Progress) -> None:
        if step.status == "start":
            if sys.stderr.isatty():
                self.bar = click.progressbar(length=step.total, label=self.label, file=sys.stderr)
                self.bar.__enter__()
            return
        if self.bar is not None:
            self.bar.update(1)
        else:
            click.echo(f"{step.status}: {step.email}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _sending(run: Callable[[_ProgressView], Any], label: str) -> None:
    """Run one sending command with a progress view, print its summary, set the exit status."""
    view = _ProgressView(label)
    try:
        report = asyncio.run(run(view))
    finally:
        view.close()
    click.echo(describe_report(report))
    if report.problems:
        count = len(report.problems)
        raise PartialFailure(
            f"{count} recipient{'' if count == 1 else 's'} not reached for sure; see the list above"
        )


_meeting_option = click.option(
    "--meeting", "slug", required=True, metavar="SLUG", help="The meeting's slug."
)


@cli.command("send")
@_meeting_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Render every message; connect nowhere, ask no password, record nothing.",
)
@click.option(
    "--to", "to", multiple=True, metavar="EMAIL", help="Only this member of the audience (repeat)."
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    metavar="N",
    help="SMTP connections at once (overrides [send] concurrency).",
)
@click.option(
    "--rate",
    type=click.IntRange(min=0),
    metavar="N",
    help="At most N messages in any 60 seconds, 0 for no limit (overrides [send]).",
)
@click.option(
    "--yes",
    is_flag=True,
    help="Answer yes to every question (for scripts): resend to those who may have it.",
)
@pass_app
def send(
    app: AppContext,
    slug: str,
    dry_run: bool,
    to: tuple[str, ...],
    concurrency: int | None,
    rate: int | None,
    yes: bool,
) -> None:
    """Invite everyone in the audience who has not got the current version.

    Safe to run again: who has it already is skipped, and after a crash the rest are sent
    with the same Message-ID. A changed time, place or link goes out as an update to those
    who had the old one. With transport = "outbox" the messages are written to the outbox
    folder and nothing leaves the machine. Exit status 1 if some recipients failed (each is
    listed with the server's answer), 3 if the server cannot be reached or refuses the login.

    \b
    Example:
      inviter send --meeting temamote-tromso --dry-run
      inviter send --meeting temamote-tromso
      inviter send --meeting temamote-tromso --to kari.nordmann@example.org --rate 30
    """
    changes: dict[str, int] = {}
    if concurrency is not None:
        changes["concurrency"] = concurrency
    if rate is not None:
        changes["rate_per_minute"] = rate
    settings = app.settings.with_send(**changes) if changes else app.settings
    _sending(
        lambda view: send_invitations(
            settings,
            app.db,
            slug,
            to=to,
            dry_run=dry_run,
            password_prompt=None if dry_run else _password_prompt(),
            progress=view,
            resend=partial(_resend, settings.send.transport == "smtp" and not yes),
        ),
        "Sending",
    )


def _resend(ask: bool, emails: list[str]) -> bool:
    """Name who may get a second copy; at a terminal over SMTP, ask whether to send it.

    SPEC: without a terminal send goes ahead (it only sends what is missing), naming them first.
    """
    shown = ", ".join(emails[:20]) + (f" and {len(emails) - 20} more" if len(emails) > 20 else "")
    click.echo(
        f"{len(emails)} may have this invitation already (an earlier run lost the server's "
        f"answer, or was stopped while it was on the wire): {shown}",
        err=True,
    )
    if not ask or not sys.stdin.isatty():
        click.echo(
            "Sending it to them again, with the same Message-ID: a second copy updates the "
            "same calendar entry.",
            err=True,
        )
        return True
    return click.confirm("Send it to them again?", default=False, err=True)


@cli.command("cancel")
@_meeting_option
@click.option(
    "--to", "to", multiple=True, metavar="EMAIL", help="Uninvite only this person (repeat)."
)
@pass_app
def cancel(app: AppContext, slug: str, to: tuple[str, ...]) -> None:
    """Send the cancellation to everyone who was sent the invitation, or uninvite some.

    The cancellation (METHOD:CANCEL, a higher SEQUENCE) removes the event from their
    calendars. Without --to the meeting is marked cancelled and send will not invite again.

    \b
    Example:
      inviter cancel --meeting temamote-harstad
      inviter cancel --meeting temamote-harstad --to kari.nordmann@example.org
    """
    _sending(
        lambda view: cancel_meeting(
            app.settings, app.db, slug, to=to, password_prompt=_password_prompt(), progress=view
        ),
        "Cancelling",
    )


@cli.command("remind")
@_meeting_option
@pass_app
def remind(app: AppContext, slug: str) -> None:
    """Send the current invitation again, with a reminder text, to those who have not answered.

    The calendar object is the same (same UID and SEQUENCE), so answering the reminder
    answers the invitation. Running it again later reminds those still silent.

    \b
    Example:
      inviter remind --meeting biblioteksjefmote-2022
    """
    _sending(
        lambda view: remind_meeting(
            app.settings, app.db, slug, password_prompt=_password_prompt(), progress=view
        ),
        "Reminding",
    )


def main() -> None:
    """Run the command line (the console script's entry point)."""
    cli(prog_name="inviter")
