"""Commands that send: preview (nothing leaves), send, cancel and remind."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from inviter.cli.options import (
    AppContext,
    meeting_option,
    output_option,
    pass_app,
    password_prompt,
    plural,
    to_option,
)
from inviter.errors import PartialFailure

if TYPE_CHECKING:
    from inviter.deliver.run_summary import SendReport
    from inviter.deliver.sending import Progress


@click.command("preview")
@meeting_option()
@click.option(
    "--to",
    "to",
    metavar="EMAIL",
    help="Render it for this contact (default: the first of the audience).",
)
@output_option(
    "Write the exact message bytes to this file instead of showing them.",
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
        who = f"the sample recipient {who} ({result.sample_reason})"
    click.echo(f"Wrote {output_path} ({len(result.data):,} bytes): {result.kind} to {who}.")


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


async def _awaited(work: Awaitable[SendReport]) -> SendReport:
    """Await ``work``: asyncio.run takes a coroutine, the core functions return awaitables."""
    return await work


def _sending(run: Callable[[_ProgressView], Awaitable[SendReport]], label: str) -> None:
    """Run one sending command with a progress view, print its summary, set the exit status."""
    import asyncio  # start-up: only the sending commands run an event loop

    from inviter.deliver.run_summary import describe_report

    view = _ProgressView(label)
    try:
        report = asyncio.run(_awaited(run(view)))
    finally:
        view.close()
    click.echo(describe_report(report))
    if report.problems:
        raise PartialFailure(
            f"{plural(len(report.problems), 'recipient')} not reached for sure; see the list above"
        )


@click.command("send")
@meeting_option()
@click.option(
    "--dry-run",
    is_flag=True,
    help="Render every message; connect nowhere, ask no password, record nothing.",
)
@to_option("Only this member of the audience (repeat).")
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
    from inviter.deliver.sending import send_invitations

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
            password_prompt=None if dry_run else password_prompt(),
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


@click.command("cancel")
@meeting_option()
@to_option("Uninvite only this person (repeat).")
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
    from inviter.deliver.sending import cancel_meeting

    _sending(
        lambda view: cancel_meeting(
            app.settings, app.db, slug, to=to, password_prompt=password_prompt(), progress=view
        ),
        "Cancelling",
    )


@click.command("remind")
@meeting_option()
@pass_app
def remind(app: AppContext, slug: str) -> None:
    """Send the current invitation again, with a reminder text, to those who have not answered.

    The calendar object is the same (same UID and SEQUENCE), so answering the reminder
    answers the invitation. Running it again later reminds those still silent.

    \b
    Example:
      inviter remind --meeting biblioteksjefmote-2022
    """
    from inviter.deliver.sending import remind_meeting

    _sending(
        lambda view: remind_meeting(
            app.settings, app.db, slug, password_prompt=password_prompt(), progress=view
        ),
        "Reminding",
    )
