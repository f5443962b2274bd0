"""Commands that send: preview (nothing leaves), send, cancel, remind and reinstate; the questions
they ask first are in ``questions.py``."""

from __future__ import annotations

import signal
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from inviter.cli.options import (
    AppContext,
    TranslatedCommand,
    meeting_option,
    output_option,
    pass_app,
    password_prompt,
    to_option,
)
from inviter.cli.questions import ask_to_resend, confirmer
from inviter.errors import PartialFailure
from inviter.locale.labels import format_number
from inviter.translation import N_, _, ngettext

# What a preview is of, and how each recipient's run ended (a line each when not at a terminal).
KINDS = {
    "request": N_("the invitation"),
    "reminder": N_("the reminder"),
    "cancel": N_("the cancellation"),
}
OUTCOMES = {
    "sent": N_("sent"),
    "failed": N_("failed"),
    "uncertain": N_("uncertain"),
    "pending": N_("will be tried again"),
}

if TYPE_CHECKING:
    from inviter.deliver.mailer import StopRequest
    from inviter.deliver.run import Confirm, Progress
    from inviter.deliver.run_summary import SendReport

yes_option = click.option(
    "--yes",
    is_flag=True,
    help="Answer yes to every question (for scripts, where there is no terminal to ask on).",
)
dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Render every message and list who would get it; connect nowhere, record nothing.",
)


@click.command("preview", cls=TranslatedCommand)
@meeting_option()
@click.option(
    "--to",
    "to",
    metavar="EMAIL",
    help="Render it for this contact (default: the first of the audience).",
)
@output_option(
    N_("Write the exact message bytes to this file instead of showing them."),
    name="output_path",
    metavar="FILE.eml",
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
    from inviter.compose.preview import describe_preview, preview_invitation

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
        who = _("the sample recipient {who} ({reason})").format(
            who=who, reason=result.sample_reason
        )
    click.echo(
        _("Wrote {file} ({size} bytes): {kind} to {who}.").format(
            file=output_path,
            size=format_number(len(result.data)),
            kind=_(KINDS[result.kind]),
            who=who,
        )
    )


class _ProgressView:
    """A progress bar on a terminal; one plain line per recipient otherwise (logs, pipes)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __call__(self, step: Progress) -> None:
        if step.status == "start":
            if sys.stderr.isatty():
                self.bar = click.progressbar(
                    length=step.total, label=_(self.label), file=sys.stderr
                )
                self.bar.__enter__()
            return
        if self.bar is not None:
            self.bar.update(1)
        else:
            click.echo(f"{_(OUTCOMES.get(step.status, step.status))}: {step.email}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _sending(
    run: Callable[[_ProgressView, StopRequest], Awaitable[SendReport]], label: str
) -> None:
    """Run one sending command with a progress view, print its summary, set the exit status.

    Ctrl-C and SIGTERM are heard by the event loop for the whole run (SPEC, second edition:
    "Interrupted runs"): no new message is taken, those on the wire get a few seconds, every
    outcome is recorded, the summary is printed, and the exit status is 130.
    """
    import asyncio  # start-up: only the sending commands run an event loop

    from inviter.deliver.mailer import StopRequest
    from inviter.deliver.run_summary import describe_report

    view = _ProgressView(label)
    stop = StopRequest()

    async def heard() -> SendReport:
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop.request)
        try:
            return await run(view, stop)
        finally:
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signal_number)

    try:
        report = asyncio.run(heard())
    finally:
        view.close()
    click.echo(describe_report(report))
    if stop.requested:
        click.echo(_("Interrupted."), err=True)
        raise click.exceptions.Exit(130)
    if report.problems:
        count = len(report.problems)
        raise PartialFailure(
            ngettext(
                "{count} recipient not reached for sure; see the list above",
                "{count} recipients not reached for sure; see the list above",
                count,
            ).format(count=count)
        )


def _run_core(
    app: AppContext,
    core: Callable[..., Awaitable[SendReport]],
    slug: str,
    label: str,
    *,
    dry_run: bool,
    confirm: Confirm | None,
    **options: Any,
) -> None:
    """Run cancel, remind or reinstate's core function the way every sending command runs."""
    settings = app.settings
    _sending(
        lambda view, stop: core(
            settings,
            app.db,
            slug,
            dry_run=dry_run,
            password_prompt=None if dry_run else password_prompt(),
            progress=view,
            confirm=confirm,
            stop=stop,
            **options,
        ),
        label,
    )


@click.command("send", cls=TranslatedCommand)
@meeting_option()
@click.option(
    "--dry-run",
    is_flag=True,
    help="Render every message; connect nowhere, ask no password, record nothing.",
)
@to_option(N_("Only this member of the audience (repeat)."))
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
@yes_option
@click.option(
    "--force", is_flag=True, help="Send over SMTP even though the meeting has already started."
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
    force: bool,
) -> None:
    """Invite everyone in the audience who has not got the current version.

    Over SMTP it says how many it is about to invite and asks, at a terminal (--yes for
    scripts); a meeting that has started needs --force. Safe to run again: who has it
    already is skipped, and after a crash the rest are sent into the same calendar entry. A
    changed time, place or link goes out as an update to those who had the old one. With
    transport = "outbox" the messages are written to the outbox folder and nothing leaves
    the machine. Exit status 1 if some recipients failed (each is
    listed with the server's answer), 3 if the server cannot be reached or refuses the login.

    \b
    Example:
      inviter send --meeting temamote-tromso --dry-run
      inviter send --meeting temamote-tromso
      inviter send --meeting temamote-tromso --to kari.nordmann@example.org --rate 30
    """
    from inviter.deliver.sending import send_invitations

    changes: dict[str, int] = {}
    if concurrency is not None:
        changes["concurrency"] = concurrency
    if rate is not None:
        changes["rate_per_minute"] = rate
    settings = app.settings.with_send(**changes) if changes else app.settings
    _sending(
        lambda view, stop: send_invitations(
            settings,
            app.db,
            slug,
            to=to,
            dry_run=dry_run,
            password_prompt=None if dry_run else password_prompt(),
            progress=view,
            stop=stop,
            resend=partial(ask_to_resend, settings.send.transport == "smtp" and not yes),
            confirm=confirmer(settings, slug, yes=yes, required=False),
            force=force,
        ),
        N_("Sending"),
    )


@click.command("cancel", cls=TranslatedCommand)
@meeting_option()
@to_option(N_("Uninvite only this person (repeat)."))
@dry_run_option
@yes_option
@pass_app
def cancel(app: AppContext, slug: str, to: tuple[str, ...], dry_run: bool, yes: bool) -> None:
    """Send the cancellation to everyone who was sent the invitation, or uninvite some.

    The cancellation removes the meeting from their calendars. Without --to the meeting
    is marked cancelled and send will not invite again ('inviter reinstate' takes it back).
    Over SMTP it asks first at a terminal; without one it needs --yes.

    \b
    Example:
      inviter cancel --meeting temamote-harstad --dry-run
      inviter cancel --meeting temamote-harstad
      inviter cancel --meeting temamote-harstad --to kari.nordmann@example.org
    """
    from inviter.deliver.sending import cancel_meeting

    confirm = confirmer(app.settings, slug, yes=yes, required=True, uninviting=bool(to))
    _run_core(app, cancel_meeting, slug, N_("Cancelling"), dry_run=dry_run, confirm=confirm, to=to)


@click.command("remind", cls=TranslatedCommand)
@meeting_option()
@to_option(N_("Remind only this person (repeat)."))
@dry_run_option
@yes_option
@click.option(
    "--force",
    is_flag=True,
    help="Remind again within 24 hours of the last round, or after the meeting started.",
)
@pass_app
def remind(
    app: AppContext, slug: str, to: tuple[str, ...], dry_run: bool, yes: bool, force: bool
) -> None:
    """Send the current invitation again, with a reminder text, to those who have not answered.

    It carries the same calendar entry, so answering the reminder answers the invitation.
    Over SMTP it asks first at a terminal; without one it needs --yes. A second round within
    24 hours needs --force.

    \b
    Example:
      inviter remind --meeting biblioteksjefmote-2022 --dry-run
      inviter remind --meeting biblioteksjefmote-2022
      inviter remind --meeting biblioteksjefmote-2022 --to kari.nordmann@example.org
    """
    from inviter.deliver.sending import remind_meeting

    confirm = confirmer(app.settings, slug, yes=yes, required=True)
    _run_core(
        app,
        remind_meeting,
        slug,
        N_("Reminding"),
        dry_run=dry_run,
        confirm=confirm,
        to=to,
        force=force,
    )


@click.command("reinstate", cls=TranslatedCommand)
@meeting_option()
@dry_run_option
@yes_option
@click.option(
    "--force", is_flag=True, help="Send over SMTP even though the meeting has already started."
)
@pass_app
def reinstate(app: AppContext, slug: str, dry_run: bool, yes: bool, force: bool) -> None:
    """Take a cancellation back: the meeting is on again.

    Everyone the cancellation reached gets the invitation again, into the same calendar
    entry, and their answers start afresh. Those uninvited one by one
    stay uninvited. Over SMTP it asks first at a terminal; without one it needs --yes.

    \b
    Example:
      inviter reinstate --meeting temamote-harstad --dry-run
      inviter reinstate --meeting temamote-harstad
    """
    from inviter.deliver.sending import reinstate_meeting

    confirm = confirmer(app.settings, slug, yes=yes, required=True, reinstating=True)
    _run_core(
        app,
        reinstate_meeting,
        slug,
        N_("Reinstating"),
        dry_run=dry_run,
        confirm=confirm,
        force=force,
    )
