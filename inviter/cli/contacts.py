"""``inviter contacts``: import, list, add, remove and export the contact list."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from inviter.cli.options import (
    AppContext,
    InviterGroup,
    complete_email,
    is_terminal,
    json_option,
    output_option,
    pass_app,
    print_json,
)
from inviter.errors import ContactError
from inviter.translation import N_, _, ngettext


@click.group("contacts", cls=InviterGroup)
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
    organization, title, phone, language), in English or Bokmål (navn, e-post,
    rolle, kommune, ...); UTF-8 or Windows-1252; comma or semicolon. vCards
    take role and municipality from X-INVITER-ROLE / X-INVITER-MUNICIPALITY,
    CATEGORIES, or --role / --municipality.

    \b
    Example:
      inviter contacts import contacts/troms.csv
      inviter contacts import --role partner --municipality Tromsø partners.vcf
    """
    from inviter.contacts.contact_list import import_contacts

    summary = import_contacts(app.db, paths, role=role, municipality=municipality)
    for done in summary.files:
        message = _("{file}: {added} added, {updated} updated, {unchanged} unchanged")
        click.echo(
            message.format(
                file=done.path, added=done.added, updated=done.updated, unchanged=done.unchanged
            )
        )
    if len(summary.files) > 1:
        message = _("In all: {added} added, {updated} updated, {unchanged} unchanged")
        click.echo(
            message.format(
                added=summary.added, updated=summary.updated, unchanged=summary.unchanged
            )
        )


@contacts_group.command("list")
@click.option("--role", metavar="ROLE", help="Only this role (e.g. biblioteksjef).")
@click.option("--region", metavar="REGION", help="Only this region (e.g. Nord-Troms).")
@click.option("--municipality", metavar="NAME", help="Only this municipality (any of its names).")
@click.option(
    "--bounced", is_flag=True, help="Only those whose last invitation bounced (a wrong address?)."
)
@json_option()
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
    from inviter.contacts.contact_list import list_contacts
    from inviter.contacts.fields import column_names
    from inviter.reports.terminal import render_table

    found = list_contacts(
        app.db, role=role, region=region, municipality=municipality, bounced=bounced
    )
    if as_json:
        print_json([contact.as_dict() for contact in found])
        return
    if not found:
        click.echo(_("No contacts."))
        return
    fields = ["name", "email", "role", "municipality", "region", "organization"]
    names = column_names()
    rows = [[getattr(contact, name) for name in fields] for contact in found]
    click.echo(render_table([names[name] for name in fields], rows, color=is_terminal()))
    count = len(found)
    click.echo(ngettext("{count} contact", "{count} contacts", count).format(count=count))


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
    from inviter.contacts.contact_list import add_contact

    given = {name: value for name, value in fields.items() if value is not None}
    contact, created = add_contact(app.db, given, update=update)
    if created:
        message = _("Added {name} <{email}> ({role}, {municipality}, {region})")
    else:
        message = _("Updated {name} <{email}> ({role}, {municipality}, {region})")
    click.echo(
        message.format(
            name=contact.name,
            email=contact.email,
            role=contact.role,
            municipality=contact.municipality,
            region=contact.region,
        )
    )


@contacts_group.command("remove")
@click.argument("email", shell_complete=complete_email)
@pass_app
def remove_contact_command(app: AppContext, email: str) -> None:
    """Remove one contact, by e-mail address.

    Deliveries and replies already recorded stay, so status and attendance
    of past meetings still show them.

    \b
    Example:
      inviter contacts remove kari@example.org
    """
    from inviter.contacts.contact_list import remove_contact

    if not remove_contact(app.db, email):
        message = _("contacts remove: {email} is not in the contact list")
        raise ContactError(message.format(email=email.strip()))
    click.echo(_("Removed {email}").format(email=email.strip().lower()))


@contacts_group.command("export")
@output_option(N_("Default: stdout."))
@click.option("--excel", is_flag=True, help="UTF-8 with BOM and semicolons, for Norwegian Excel.")
@pass_app
def export_contacts_command(app: AppContext, output: Path | None, excel: bool) -> None:
    """Write the contact list as CSV, in the columns import reads.

    The header row is in the language inviter speaks (navn, e-post, … in Bokmål;
    name, email, … with --lang en); import reads either. Cells starting with
    = + - @ get a leading ' so spreadsheets do not run them as formulas; import
    removes it again.

    \b
    Example:
      inviter contacts export -o contacts/backup.csv
    """
    from inviter.contacts.contact_list import export_contacts, export_contacts_file

    if output is None:
        export_contacts(app.db, sys.stdout, excel=excel)
        return
    count = export_contacts_file(app.db, output, excel=excel)
    message = ngettext("Wrote {count} contact to {file}", "Wrote {count} contacts to {file}", count)
    click.echo(message.format(count=count, file=output))


@contacts_group.command("show")
@click.argument("email", shell_complete=complete_email)
@json_option(N_("Print the JSON object instead."))
@pass_app
def show_contact_command(app: AppContext, email: str, as_json: bool) -> None:
    """Show one person's history: meetings, messages sent, answers, bounces, guests.

    Every meeting whose audience they are in or that sent them anything, with what was
    sent and when (and the server's answer where it failed or bounced), each answer with
    its time and comment, and the forwarded guests who answered through their invitation.

    \b
    Example:
      inviter contacts show kari.nordmann@example.org
      inviter contacts show kari.nordmann@example.org --json
    """
    from zoneinfo import ZoneInfo

    from inviter.reports.person import history_document, history_text, person_history

    history = person_history(app.settings, app.db, email)
    if as_json:
        print_json(history_document(history))
        return
    oslo = ZoneInfo("Europe/Oslo")  # times for people in Troms, on their clock
    click.echo(history_text(history, stamp=lambda t: f"{t.astimezone(oslo):%Y-%m-%d %H:%M}"))
