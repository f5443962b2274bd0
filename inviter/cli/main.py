"""The root of the command line: ``inviter`` and its global options, with every command on it."""

from __future__ import annotations

import click

from inviter import __version__
from inviter.cli.contacts import contacts_group
from inviter.cli.options import AppContext, InviterGroup
from inviter.cli.replies import rsvp_group
from inviter.cli.reports import (
    attendance,
    meetings_group,
    programme_calendar,
    report,
    show_status,
)
from inviter.cli.season import check, init, login, logout
from inviter.cli.sending import cancel, preview, reinstate, remind, send


@click.group(cls=InviterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="inviter", help="Show the version and exit."
)
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
@click.option(
    "--lang",
    metavar="nb|en",
    expose_value=False,
    is_eager=True,
    help="The language of this run: nb (Bokmål, the default) or en; also INVITER_LANG, or "
    "[organizer] language in inviter.toml.",
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


for command in (
    meetings_group,
    attendance,
    report,
    programme_calendar,
    contacts_group,
    rsvp_group,
    show_status,
    preview,
    send,
    cancel,
    remind,
    reinstate,
    init,
    login,
    logout,
    check,
):
    cli.add_command(command)


def main() -> None:
    """Run the command line (the console script's entry point)."""
    cli(prog_name="inviter")
