"""Commands that prepare a season: init, and login, logout and check for the mail servers."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from inviter.cli.options import AppContext, TranslatedCommand, pass_app, password_prompt
from inviter.translation import _

if TYPE_CHECKING:
    from inviter.config import MailServerSettings, Settings


@click.command("init", cls=TranslatedCommand)
@click.argument("folder", required=False, default=".", type=click.Path(path_type=Path))
def init(folder: Path) -> None:
    """Start a new season: a commented inviter.toml, the template sets, a contacts CSV.

    Writes into FOLDER (default: this one) and never overwrites a file: what is there
    already is kept and named. inviter.toml's comments and the CSV's header row are in the
    language inviter speaks (--lang), which inviter.toml then keeps. Then edit inviter.toml
    where it says EDIT, add people to contacts/kontakter.csv, and import them.

    \b
    Example:
      inviter init host-2027
      cd host-2027
      inviter contacts import contacts/kontakter.csv
      inviter send --meeting temamote-var --dry-run
    """
    from inviter.season.new_season import CONTACTS_FILE, create_season

    done = create_season(folder)
    for path in done.written:
        click.echo(_("Wrote {file}").format(file=folder / path))
    for path in done.kept:
        click.echo(_("Kept {file} (it was there already)").format(file=folder / path))
    if done.written:
        message = _(
            "Next: edit {config} where it says EDIT, add people to {contacts} and run "
            "'inviter contacts import'."
        )
        click.echo(message.format(config=folder / "inviter.toml", contacts=folder / CONTACTS_FILE))


def _sign_ins(settings: Settings) -> list[tuple[str, MailServerSettings]]:
    """The sections that sign in to Microsoft 365, one per distinct tenant and app."""
    seen: set[tuple[str, str, str]] = set()
    found: list[tuple[str, MailServerSettings]] = []
    for section, server in (("smtp", settings.smtp), ("imap", settings.imap)):
        key = (server.authority, server.tenant, server.client_id)
        if (server.tenant or server.client_id) and key not in seen:
            seen.add(key)
            found.append((section, server))
    return found


@click.command("login", cls=TranslatedCommand)
@pass_app
def login(app: AppContext) -> None:
    """Sign in to Microsoft 365 once; later runs take fresh tokens by themselves.

    Shows an address and a code: open the address in any browser, enter the code and
    sign in as the organizer's mailbox. The sign-in is kept in the system keyring (or a
    file only you can read), never in inviter.toml or the database. Needs [smtp] (and
    [imap]) auth = "xoauth2", tenant and client_id.

    \b
    Example:
      inviter login
    """
    from inviter.deliver.sign_in import SignIn
    from inviter.errors import ConfigError

    sign_ins = _sign_ins(app.settings)
    if not sign_ins:
        message = _(
            "{file}: [smtp] tenant and client_id: are needed to sign in to Microsoft 365 "
            "(ask the county's IT for inviter's app registration)"
        )
        raise ConfigError(message.format(file=app.settings.config_path.name))
    for section, server in sign_ins:
        sign_in = SignIn(server, section=section)
        flow = sign_in.start()
        message = _("To sign in, open {address} in a browser and enter the code {code}")
        click.echo(message.format(address=flow["verification_uri"], code=flow["user_code"]))
        click.echo(_("Waiting for the sign-in (Ctrl-C to stop) ..."))
        name = sign_in.finish(flow)
        message = _("Signed in as {name}. Kept in {place}; 'inviter logout' forgets it.")
        click.echo(message.format(name=name, place=sign_in.store.where))
        if server.username and name and server.username.lower() != name.lower():
            message = _(
                "Warning: [{section}] username is {username}, but the sign-in is {name}: the "
                'server will refuse it. Set username = "{name}" or sign in again.'
            )
            click.echo(
                message.format(section=section, username=server.username, name=name), err=True
            )


@click.command("logout", cls=TranslatedCommand)
@pass_app
def logout(app: AppContext) -> None:
    """Forget the Microsoft 365 sign-in kept by 'inviter login'.

    \b
    Example:
      inviter logout
    """
    from inviter.deliver.sign_in import SignIn

    forgot = False
    for section, server in _sign_ins(app.settings):
        sign_in = SignIn(server, section=section)
        if sign_in.sign_out():
            forgot = True
            message = _("Signed out: the sign-in kept in {place} is forgotten.")
            click.echo(message.format(place=sign_in.store.where))
    if not forgot:
        click.echo(_("There was no sign-in to forget."))


@click.command("check", cls=TranslatedCommand)
@pass_app
def check(app: AppContext) -> None:
    """Log in to the mail server (and [imap]) as send would, and send nothing.

    Says how the connection is protected, who logged in, and what the server offers
    (size limit, PIPELINING, login methods). Exit status 3 with the server's answer
    when a step fails.

    \b
    Example:
      inviter check
    """
    import asyncio  # start-up: only check and the sending commands run an event loop

    from inviter.season.server_check import check_imap, check_smtp

    settings = app.settings
    for line in asyncio.run(check_smtp(settings, os.environ, password_prompt())):
        click.echo(line)
    if settings.imap.host:
        for line in check_imap(settings, os.environ, password_prompt()):
            click.echo(line)
    if settings.send.transport != "smtp":
        message = _(
            'Note: [send] transport is "{transport}": send writes to the outbox; '
            'set transport = "smtp" to send through this server.'
        )
        click.echo(message.format(transport=settings.send.transport), err=not sys.stdout.isatty())
