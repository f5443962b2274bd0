"""The command line: parse, call one core function, print. Errors become exit statuses here."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from inviter import __version__
from inviter.config import Settings, find_config, load_settings
from inviter.db import Database
from inviter.errors import InviterError
from inviter.meetings import summarize_meetings
from inviter.terminal import meetings_table

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
        return self._db

    def close(self) -> None:
        """Release the database."""
        if self._db is not None:
            self._db.close()


pass_app = click.make_pass_decorator(AppContext)


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
        print_json(
            [
                {
                    "slug": s.meeting.slug,
                    "title": s.meeting.title,
                    "start": s.meeting.start_at.isoformat(),
                    "end": s.meeting.end_at.isoformat(),
                    "location": s.meeting.location or s.meeting.online_url,
                    "audience": s.audience,
                    "sent": s.sent,
                }
                for s in summaries
            ]
        )
        return
    click.echo(meetings_table(summaries, color=sys.stdout.isatty()))


def main() -> None:
    """Run the command line (the console script's entry point)."""
    cli(prog_name="inviter")
