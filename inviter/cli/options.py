"""What every command shares: the settings and database loaded on first use, the one place an
error becomes its message and exit status, and the options several commands take, defined once.

Start-up (issue 19): nothing here imports SQLAlchemy, Jinja2 or icalendar at import time, so
``inviter --help`` loads Click alone; each command imports the modules it runs when it runs.
"""

from __future__ import annotations

import getpass
import inspect
import json
import os
import sys
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from inviter.errors import ConfigError, InviterError
from inviter.settings import find_config
from inviter.translation import N_, _, choose_language, option_value, use_language

if TYPE_CHECKING:
    # Types only: importing these for real costs SQLAlchemy's import on every --help.
    from inviter.config import Settings
    from inviter.store.database import Database

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
        from inviter.config import load_settings  # start-up: on first use

        if self._settings is None:
            path = find_config(self.config, os.environ)
            self._settings = load_settings(path, db=self.db_url)
        return self._settings

    @property
    def db(self) -> Database:
        """The open database (made on first use)."""
        from inviter.store.database import Database  # start-up: on first use
        from inviter.store.uid_book import UID_FILE

        if self._db is None:
            self._db = Database(self.settings.database_url)
            if self._db.created and _set_up_before(self.settings):
                # A lost or emptied database: say so before anything is sent from it.
                click.echo(
                    _(
                        "Warning: {database} is a new database, but {file} shows that meetings "
                        "of this folder were set up before. It has no record of who was sent "
                        "what or who answered: send invites everyone again (into the same "
                        "calendar entries, which are kept), and earlier replies must be "
                        "imported again."
                    ).format(database=self._db.describe(), file=UID_FILE),
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
    from inviter.store.uid_book import UidBook

    try:
        return bool(UidBook(settings.base_dir))
    except ConfigError:
        return False


class TranslatedCommand(click.Command):
    """A command whose help is shown in the language of the run.

    Help texts (docstrings, ``help=``) are English msgids, kept as they are and translated
    when the help is drawn, because they are made at import, before the language is chosen.
    Click's own help of --help and --version is translated the same way.
    """

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated_help(self, ctx):
            super().format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        with _translated_help(self, None):
            return super().get_short_help_str(limit)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None and option not in _msgid_help:
            # Click makes this option once per command, its help already looked up in the
            # language of that moment; keep the msgid, so that each drawing translates it.
            option.help = HELP_OPTION_HELP
            _msgid_help.add(option)
        return option

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        # "[OPTIONS]", "COMMAND [ARGS]..." and the arguments' metavars, as Click writes them.
        return [_(piece) for piece in super().collect_usage_pieces(ctx)]


HELP_OPTION_HELP = N_("Show this message and exit.")
_msgid_help: weakref.WeakSet[click.Option] = weakref.WeakSet()
# Click's words in a usage line ("Usage: inviter send [OPTIONS]"), which Click itself does not
# translate, the metavars of inviter's arguments, and "[required]" of an option's help, which
# Click looks up as ``_(extra["required"])`` (click/core.py), out of the extractor's sight.
USAGE_WORDS = (
    N_("required"),
    N_("[OPTIONS]"),
    N_("COMMAND [ARGS]..."),
    N_("PATHS..."),
    N_("EMAIL"),
    N_("[FOLDER]"),
)


class InviterGroup(TranslatedCommand, click.Group):
    """The root group: chooses the language before Click reads a word, and turns InviterError
    into its one-line message and exit status."""

    command_class = TranslatedCommand
    group_class = type  # subgroups are InviterGroups too

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        config = find_config(option_value(argv, "--config"), os.environ)
        language, unknown = choose_language(argv, os.environ, config)
        use_language(language)
        if unknown is not None:
            click.echo(_("Error: {message}").format(message=unknown_language(unknown)), err=True)
            sys.exit(2)
        return super().main(argv, *rest, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InviterError as exc:
            click.echo(_("Error: {message}").format(message=exc), err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo(_("Interrupted."), err=True)
            ctx.exit(130)


def unknown_language(asked: str) -> str:
    """The error for a language inviter does not speak."""
    return _("unknown language '{language}'; inviter speaks nb (Bokmål) and en (English)").format(
        language=asked
    )


@contextmanager
def _translated_help(command: click.Command, ctx: click.Context | None) -> Iterator[None]:
    """Show ``command``'s help texts, and its options', in the language of the run."""
    saved: list[tuple[Any, str, str | None]] = []

    def swap(owner: Any, attribute: str) -> None:
        text = getattr(owner, attribute, None)
        if text:
            saved.append((owner, attribute, text))
            setattr(owner, attribute, _(inspect.cleandoc(text)))

    for attribute in ("help", "short_help", "epilog"):
        swap(command, attribute)
    params = command.get_params(ctx) if ctx is not None else []
    for param in params:
        swap(param, "help")
        swap(param, "metavar")
    try:
        yield
    finally:
        for owner, attribute, text in reversed(saved):
            setattr(owner, attribute, text)


# ---------------------------------------------------------------- options shared by commands


def _settings_for_completion(ctx: click.Context) -> Settings | None:
    """The settings, for completing a word; None when they cannot be read (no error shown:
    a shell completing a word must get words or nothing)."""
    from inviter.config import load_settings
    from inviter.errors import InviterError

    root = ctx.find_root()
    try:
        path = find_config(root.params.get("config"), os.environ)
        return load_settings(path, db=root.params.get("db_url"))
    except InviterError:
        return None


def complete_meeting(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """The slugs of inviter.toml that start with what was typed (shell completion)."""
    settings = _settings_for_completion(ctx)
    if settings is None:
        return []
    return [m.slug for m in settings.meetings if m.slug.startswith(incomplete)]


def complete_email(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """The contacts' addresses that start with what was typed (shell completion)."""
    from sqlalchemy import select

    from inviter.errors import InviterError
    from inviter.store.database import Database
    from inviter.store.models import Contact

    settings = _settings_for_completion(ctx)
    if settings is None:
        return []
    try:
        db = Database(settings.database_url)
    except InviterError:
        return []
    try:
        with db.reading() as session:
            query = select(Contact.email).where(Contact.email.startswith(incomplete.lower()))
            return list(session.scalars(query.order_by(Contact.email).limit(200)))
    finally:
        db.close()


def meeting_option(help_text: str = N_("The meeting's slug.")) -> Callable[[F], F]:
    """``--meeting SLUG``, required, passed as ``slug``; the shell completes it."""
    return click.option(
        "--meeting",
        "slug",
        required=True,
        metavar="SLUG",
        help=help_text,
        shell_complete=complete_meeting,
    )


def json_option(help_text: str = N_("Print JSON instead of a table.")) -> Callable[[F], F]:
    """``--json``, passed as ``as_json``."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def output_option(
    help_text: str = N_("Write to this file instead of standard output."),
    *,
    name: str = "output",
    metavar: str = N_("FILE"),
) -> Callable[[F], F]:
    """``-o/--output FILE``: a file to write (never a folder), passed as ``name``; its
    metavar named here, so that the help shows it in the staff language."""
    return click.option(
        "-o",
        "--output",
        name,
        type=click.Path(dir_okay=False, path_type=Path),
        metavar=metavar,
        help=help_text,
    )


def to_option(help_text: str) -> Callable[[F], F]:
    """``--to EMAIL``, repeatable, passed as ``to``; the shell completes it."""
    return click.option(
        "--to", "to", multiple=True, metavar="EMAIL", help=help_text, shell_complete=complete_email
    )


# ---------------------------------------------------------------- output


def print_json(value: Any) -> None:
    """Print a JSON document, non-ASCII letters as they are."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def is_terminal() -> bool:
    """True when standard output is a terminal (colour and tables for a person)."""
    return sys.stdout.isatty()


def emit(data: bytes, output: Path | None) -> None:
    """Write a document to the -o file (and say so on stderr), else to stdout as bytes."""
    from inviter.reports.formats import write_document  # light: no SQLAlchemy for -o

    if output is None:
        click.echo(data, nl=False)
        return
    write_document(output, data)
    click.echo(_("Wrote {file}").format(file=output), err=True)


def password_prompt() -> Callable[[str], str] | None:
    """Ask on the terminal (never echoed); no terminal, no asking (SPEC: exit status 2)."""
    if not sys.stdin.isatty():
        return None
    return lambda text: getpass.getpass(f"{text}: ")
