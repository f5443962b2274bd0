"""The questions a sending command asks before it sends (SPEC, second edition: "No slip reaches
everyone"): what it is about to do and to how many, at a terminal; a refusal naming --yes and
--dry-run without one; and whether to send again to those an earlier run may have reached."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from inviter.errors import InputError
from inviter.translation import _, ngettext

if TYPE_CHECKING:
    from inviter.config import Settings
    from inviter.deliver.run import Confirm
    from inviter.deliver.targets import Plan

# What a person may type to a yes/no question, in either language (a Norwegian types "j" or
# "ja"; Click's own confirm knows only y/yes and n/no, and its "[y/N]" is not translated).
YES_WORDS = frozenset({"y", "yes", "j", "ja"})
NO_WORDS = frozenset({"n", "no", "nei"})


def confirm(question: str) -> bool:
    """Ask ``question`` at the terminal (on stderr, so output can be piped); Enter is no.

    ``Send it to them again? [y/N]: `` in English, ``Sende den til dem på nytt? [j/N]: `` in
    Bokmål; ja/j and yes/y are yes in both, nei/n and no/n no; anything else asks again.
    """
    hint = _("[y/N]")
    while True:
        answer = click.prompt(
            f"{question} {hint}",
            default="",
            show_default=False,
            err=True,
        )
        word = answer.strip().lower()
        if word in YES_WORDS:
            return True
        if not word or word in NO_WORDS:
            return False
        click.echo(_("Error: invalid input"), err=True)


def question_for(plan: Plan, title: str, where: str, uninviting: bool, reinstating: bool) -> str:
    """What a run is about to do, as the question asked before it does it."""
    count = plan.total
    if reinstating:
        text = ngettext(
            "Reinstate «{title}»: invite {count} person again ({where})?",
            "Reinstate «{title}»: invite {count} people again ({where})?",
            count,
        )
    elif plan.kind == "cancel" and uninviting:
        text = ngettext(
            "Withdraw the invitation to «{title}» from {count} person (the meeting goes ahead)?",
            "Withdraw the invitation to «{title}» from {count} people (the meeting goes ahead)?",
            count,
        )
    elif plan.kind == "cancel":
        text = ngettext(
            "Cancel «{title}» for {count} person? It leaves their calendar ({where}).",
            "Cancel «{title}» for {count} people? It leaves their calendars ({where}).",
            count,
        )
    elif plan.kind == "reminder":
        text = ngettext(
            "Remind {count} person who has not answered «{title}» ({where})?",
            "Remind {count} people who have not answered «{title}» ({where})?",
            count,
        )
    else:
        text = ngettext(
            "Send the invitation to «{title}» to {count} person ({where})?",
            "Send the invitation to «{title}» to {count} people ({where})?",
            count,
        )
    return text.format(title=title, count=count, where=where)


def confirmer(
    settings: Settings,
    slug: str,
    *,
    yes: bool,
    required: bool,
    uninviting: bool = False,
    reinstating: bool = False,
) -> Confirm | None:
    """How a run is confirmed (SPEC, second edition: "No slip reaches everyone").

    Into the outbox nothing is asked: nothing leaves the machine. Over SMTP a person at a
    terminal is asked, unless --yes; without a terminal, ``required`` runs (cancel, remind)
    stop with exit 2 unless --yes, and send goes ahead (it only sends what is missing).
    """
    if settings.send.transport != "smtp" or yes:
        return None
    title = settings.meeting(slug).title
    where = _("through {host}").format(host=settings.smtp.host)
    if sys.stdin.isatty():
        return lambda plan: confirm(question_for(plan, title, where, uninviting, reinstating))
    if not required:
        return None

    def refuse(plan: Plan) -> bool:
        if reinstating:
            text = ngettext(
                "{slug}: the invitation again would go to {count} person",
                "{slug}: the invitation again would go to {count} people",
                plan.total,
            )
        elif plan.kind == "cancel":
            text = ngettext(
                "{slug}: the cancellation would go to {count} person",
                "{slug}: the cancellation would go to {count} people",
                plan.total,
            )
        elif plan.kind == "reminder":
            text = ngettext(
                "{slug}: the reminder would go to {count} person",
                "{slug}: the reminder would go to {count} people",
                plan.total,
            )
        else:
            text = ngettext(
                "{slug}: it would go to {count} person",
                "{slug}: it would go to {count} people",
                plan.total,
            )
        raise InputError(
            text.format(slug=slug, count=plan.total)
            + _(
                "; there is no terminal to ask on: give --yes to confirm, or --dry-run to see "
                "who; nothing was sent"
            )
        )

    return refuse


def ask_to_resend(ask: bool, emails: list[str]) -> bool:
    """Name who may get a second copy; at a terminal over SMTP, ask whether to send it.

    SPEC: without a terminal send goes ahead (it only sends what is missing), naming them first.
    """
    shown = ", ".join(emails[:20])
    if len(emails) > 20:
        shown += _(" and {count} more").format(count=len(emails) - 20)
    click.echo(
        ngettext(
            "{count} may have this invitation already (an earlier run lost the server's "
            "answer, or was stopped while it was on the wire): {addresses}",
            "{count} may have this invitation already (an earlier run lost the server's "
            "answer, or was stopped while it was on the wire): {addresses}",
            len(emails),
        ).format(count=len(emails), addresses=shown),
        err=True,
    )
    if not ask or not sys.stdin.isatty():
        click.echo(
            _(
                "Sending it to them again, into the same calendar entry: a second copy "
                "updates it and adds nothing."
            ),
            err=True,
        )
        return True
    return confirm(_("Send it to them again?"))
