"""``inviter rsvp``: record answers from mail files, from the mailbox, and by hand."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from inviter.cli.options import (
    AppContext,
    InviterGroup,
    complete_email,
    meeting_option,
    pass_app,
    password_prompt,
)
from inviter.errors import PartialFailure
from inviter.translation import N_, _, ngettext, pgettext

if TYPE_CHECKING:
    from inviter.replies.recording import ImportReport


def _print_import(report: ImportReport) -> None:
    """Print what an import or fetch did; raise PartialFailure when some need review."""
    from inviter.replies.rsvp import describe_import

    for warning in report.warnings:
        click.echo(_("Warning: {message}").format(message=warning), err=True)
    click.echo(describe_import(report))
    if report.review:
        count = len(report.review)
        click.echo(_("For review ({count}):").format(count=count), err=True)
        for item in report.review:
            click.echo(f"  {item.where}: {item.reason}", err=True)
        raise PartialFailure(
            ngettext(
                "{count} message not recorded; see the list above",
                "{count} messages not recorded; see the list above",
                count,
            ).format(count=count)
        )


def _answer_word(partstat: str) -> str:
    """The answer that counts, in the words of ``inviter status`` (its RSVP_WORDS)."""
    words = {
        "ACCEPTED": pgettext("answer", "accepted"),
        "DECLINED": pgettext("answer", "declined"),
        "TENTATIVE": pgettext("answer", "tentative"),
        "DELEGATED": pgettext("answer", "delegated"),
        "NEEDS-ACTION": pgettext("answer", "needs-action"),
    }
    return words.get(partstat, partstat.lower())


@click.group("rsvp", cls=InviterGroup)
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
    from inviter.replies.rsvp import import_replies

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
    from inviter.replies.imap import fetch_replies

    _print_import(fetch_replies(app.settings, app.db, password_prompt=password_prompt()))


@rsvp_group.command("set")
@meeting_option(N_("The meeting."))
@click.option("--note", default="", metavar="TEXT", help="What they said, for the record.")
@click.argument("email", shell_complete=complete_email)
@click.argument("answer", type=click.Choice(["yes", "no", "maybe", "ja", "nei", "kanskje"]))
@pass_app
def set_rsvp(app: AppContext, slug: str, note: str, email: str, answer: str) -> None:
    """Record an answer given by phone or in person.

    \b
    Example:
      inviter rsvp set --meeting temamote-tromso kari@example.org yes --note "by phone"
    """
    from inviter.replies.rsvp import set_reply

    done = set_reply(app.settings, app.db, slug, email, answer, note)
    who = f"{done.name} <{done.email}>" if done.name else done.email
    # The answer read back after recording, not the one typed (SPEC: it prints what counts).
    click.echo(
        _("Recorded {who}: {answer} for {slug}; it counts now.").format(
            who=who, answer=_answer_word(done.counted), slug=done.slug
        )
    )
