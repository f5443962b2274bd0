"""One run of send, cancel or remind: checked, planned, asked, written, mailed, recorded.

The order is what makes a run safe to repeat, after a crash included (sending.md):
1. templates checked, the audience and ``--to`` checked: bad input stops here (exit 2);
2. the first connection opened and logged in: a refused login stops here (exit 3), nothing
   recorded;
3. a ``pending`` Delivery with a fixed Message-ID is committed for each recipient before its
   message goes out (for send and cancel the first 50 in a transaction of their own, so they
   go out while the rest is written; a reminder round in one, plans.plan_reminder says why);
4. messages go out; each outcome is recorded in its own short transaction right after the
   server's answer. No transaction is open during an SMTP call.
A recipient whose row is not ``sent`` (pending after a crash, uncertain, failed for a temporary
reason) is sent again by the next run with the SAME Message-ID, so a duplicate updates the same
calendar entry. A 5xx failure is not repeated by later runs unless ``--to`` names the address.
What each command plans is sending.py's.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from inviter.compose.message import build_message, new_message_id
from inviter.compose.templates import Templates
from inviter.config import Settings
from inviter.deliver.credentials import PasswordPrompt, resolve_credentials
from inviter.deliver.jobs import Job, Outcome
from inviter.deliver.mailer import Mailer, StopRequest
from inviter.deliver.outbox import OutboxTransport
from inviter.deliver.run_summary import SendReport
from inviter.deliver.smtp import SmtpTransport
from inviter.deliver.targets import Early, FirstRows, Mode, Pending, Plan, RecipientResult
from inviter.deliver.transport import Transport
from inviter.domain import Kind, Meeting, Recipient
from inviter.errors import DatabaseError, InputError, StoppedAfterSending
from inviter.locale.dates import format_date, format_time
from inviter.store.database import Database
from inviter.store.meetings import get_state
from inviter.store.models import (
    PENDING,
    SENT,
    STOPPED_BEFORE_TURN,
    Contact,
    Delivery,
    utcnow,
)
from inviter.store.recorder import Record, Recorder
from inviter.store.versions import previous_version
from inviter.translation import N_, _, current_language, pgettext

# Added to the recorded answer of a message sent twice (shown by status, in the run's language).
DUPLICATE_NOTE = N_("possible duplicate: an earlier attempt's answer was lost after the data")

# Shown the plan of a run (its kind and how many it reaches) before anything is written or
# sent; False stops the run with nothing done. It may raise InputError (no terminal to ask).
Confirm = Callable[[Plan], bool]


@dataclass(frozen=True)
class Progress:
    """One step of a run, for a progress bar: ``done`` of ``total`` finished."""

    done: int
    total: int
    email: str
    status: str


class Planner(Protocol):
    """One of plans.py's planners with its command's arguments bound."""

    def __call__(self, session: Session, mode: Mode, early: Early | None = None) -> Plan: ...


@dataclass(frozen=True)
class Run:
    """How one command runs: what it may ask, and what it was told."""

    dry_run: bool
    password_prompt: PasswordPrompt | None
    progress: Callable[[Progress], None] | None
    now: datetime | None
    env: Mapping[str, str] | None
    review: Callable[[Plan], bool] | None = None
    confirm: Confirm | None = None
    force: bool = False  # a meeting that has started may be sent to over SMTP
    stop: StopRequest | None = None  # Ctrl-C or SIGTERM, heard by the command line


async def carry_out(
    settings: Settings, db: Database, meeting: Meeting, planner: Planner, run: Run
) -> SendReport:
    """Run ``planner``'s command for ``meeting``: one run at a time of a meeting, a dry run
    alongside any."""
    args = (settings, db, meeting, planner, run)
    if run.dry_run:
        return await _attempt(*args)
    # Two runs at once would each send to the other's pending recipients (a row stays pending
    # until the server's answer): the second one stops here, before anything is written.
    busy = _(
        "{database}: another inviter send, cancel or remind is running; nothing was sent "
        "for '{slug}'; run this again when it has finished"
    ).format(database=db.describe(), slug=meeting.slug)
    with db.exclusive(f"send {meeting.slug}", busy):
        return await _attempt(*args)


async def _attempt(
    settings: Settings, db: Database, meeting: Meeting, planner: Planner, run: Run
) -> SendReport:
    dry_run, password_prompt, progress, env, review = (
        run.dry_run, run.password_prompt, run.progress, run.env, run.review
    )  # fmt: skip
    templates = Templates(settings.templates_dir)
    templates.check(meeting, settings.organizer)  # a template error stops here: nothing sent
    now = run.now or utcnow()
    with db.reading() as session:
        # Bad --to and the like are reported before connecting; only a dry run keeps the targets.
        draft = planner(session, "list" if dry_run else "check")
        state = get_state(session, meeting)
        # An update says what changed since the version before it (SPEC, second edition).
        previous = previous_version(session, state, meeting) if state else None
    if not dry_run and review is not None and review(draft):
        with db.reading() as session:
            draft = planner(session, "check")
    name = settings.send.transport
    report = SendReport(
        meeting=meeting.slug,
        kind=draft.kind,
        sequence=draft.sequence,
        transport=name,
        destination=_destination(settings),
        dry_run=dry_run,
        skipped=draft.skipped,
        failed_before=draft.failed_before,
        left_audience=draft.left_audience,
        uninvited=draft.uninvited,
        resending=draft.resending,
        held_back=draft.held_back,
    )
    if draft.kind != "cancel" and meeting.start_at <= now:
        # Last season's file, sent again by a slip (issue 16): over SMTP it needs --force.
        started = _started(meeting)
        if settings.send.transport == "smtp" and not dry_run and not run.force:
            if draft.kind == "reminder":
                refused = _("{started}; sending the reminder now needs --force; nothing was sent")
            else:
                refused = _("{started}; sending the invitation now needs --force; nothing was sent")
            raise InputError(refused.format(started=started))
        report.notes.append(_("Warning: {message}").format(message=started))
    if not dry_run and draft.total and run.confirm is not None and not run.confirm(draft):
        report.declined = True
        return report  # asked, and told no: nothing written, nothing sent

    def build(recipient: Recipient, kind: Kind, uid: str, sequence: int, message_id: str) -> bytes:
        return build_message(
            meeting,
            settings.organizer,
            recipient,
            kind=kind,
            uid=uid,
            sequence=sequence,
            now=now,
            message_id=message_id,
            templates=templates,
            previous=previous if kind == "request" else None,
            withdrawn=draft.withdrawn,
        )

    if dry_run:
        for recipient, row in draft.targets:
            message_id = row.message_id if row else new_message_id(settings.organizer)
            build(recipient, draft.kind, draft.uid, draft.sequence, message_id)
            report.rendered += 1
            report.planned.append(recipient.email)
        return report
    if not draft.total:
        return report  # nothing to do: no connection, no password asked
    total = draft.total
    transport = _transport(settings, os.environ if env is None else env, password_prompt)
    finished = 0
    if progress:
        progress(Progress(0, total, "", "start"))

    async def record(outcome: Outcome) -> None:
        nonlocal finished
        job = outcome.job
        assert isinstance(job, _Message)
        response = outcome.response
        if outcome.status == SENT and job.possible_duplicate:
            response = f"{response} ({_(DUPLICATE_NOTE)})"
        attempts = job.earlier + job.attempts
        await recorder.record(Record(job.key, outcome.status, attempts, outcome.code, response))
        if not outcome.final:
            return
        finished += 1
        report.add(
            RecipientResult(
                job.recipient,
                job.name,
                outcome.status,
                outcome.code,
                outcome.response,
                job.possible_duplicate,
            )
        )
        if progress:
            progress(Progress(finished, total, job.recipient, outcome.status))

    def message(version: FirstRows | Plan, row: Pending) -> _Message:
        recipient = row.recipient
        return _Message(
            row.row_id,
            recipient.email,
            row.message_id,
            # The row's SEQUENCE: the plan's, or a person's own when invited again.
            partial(build, recipient, version.kind, version.uid, row.sequence, row.message_id),
            name=recipient.name,
            earlier=row.attempts,
        )

    written: list[int] = []  # the ids of the rows this run wrote

    async def jobs() -> AsyncIterator[Job]:
        """Write the pending rows, then read them back a batch at a time, as they are needed.

        Called once the first connection has logged in: only then is anything written. The
        write runs in the database thread, so the other connections log in meanwhile; its first
        rows are handed over as soon as they are committed, and go out while it writes the rest.
        """
        loop = asyncio.get_running_loop()
        handed: asyncio.Future[FirstRows] = loop.create_future()

        def early(first: FirstRows) -> None:  # in the database thread
            loop.call_soon_threadsafe(_settle, handed, first)

        writing = asyncio.ensure_future(recorder.call(lambda s: planner(s, "write", early)))
        try:
            either: list[asyncio.Future[Any]] = [handed, writing]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            given = handed.result().rows if handed.done() else []
            for row in given:
                yield message(handed.result(), row)
            plan = await writing
            written.extend(plan.pending)
        finally:
            writing.cancel()  # the run stopped early: nobody waits for the rest of the write
        report.sequence = plan.sequence
        ids = plan.pending[len(given) :]  # the first ones were handed over already
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            for row in await recorder.call(partial(_load, ids=chunk)):
                yield message(plan, row)

    send = settings.send
    mailer = Mailer(
        transport,
        sender=settings.organizer.email,
        concurrency=send.concurrency,
        # The rate is the mail server's limit (Microsoft 365: 30 a minute); the outbox is a
        # folder on this machine, which no limit protects.
        rate_per_minute=send.rate_per_minute if send.transport == "smtp" else 0,
        retries=send.retries,
        retry_delay=send.retry_delay,
        on_outcome=record,
        stop=run.stop,
    )
    try:
        async with Recorder(db) as recorder, mailer:
            # The check's count sizes the pool; the write (in jobs) finds the same targets, as
            # one run of a meeting at a time holds the send lock.
            await mailer.deliver(jobs(), total=draft.total)
            if mailer.stopping:
                report.stopped = True
                report.unsent = total - finished
                await recorder.call(partial(_set_aside, ids=written))
    except DatabaseError as exc:
        if not report.finished and not mailer.in_doubt:
            raise  # nothing left the machine: exit 2 is the truth
        raise _stopped(exc, report, mailer.in_doubt) from None
    return report


def _set_aside(session: Session, *, ids: list[int]) -> None:
    """Mark the rows a stopped run never took as never on the wire (plans._maybe_delivered)."""
    for start in range(0, len(ids), _BATCH):
        session.execute(
            update(Delivery)
            .where(
                Delivery.id.in_(ids[start : start + _BATCH]),
                Delivery.status == PENDING,
                Delivery.attempts == 0,
            )
            .values(response=STOPPED_BEFORE_TURN)
        )


def _started(meeting: Meeting) -> str:
    """Say when the meeting started: 9. november 2022 kl. 10.00 (nb), 2022-11-09 at 10:00."""
    start = meeting.start
    if current_language() == "en":
        day, time = f"{start:%Y-%m-%d}", f"{start:%H:%M}"
    else:
        day, time = format_date(start, "nb", weekday=False), format_time(start, "nb")
    return _("meeting '{slug}' started on {date} at {time}").format(
        slug=meeting.slug, date=day, time=time
    )


def _stopped(exc: DatabaseError, report: SendReport, in_doubt: set[str]) -> StoppedAfterSending:
    """Say that a run stopped by the database had sent mail already, and to whom maybe."""
    doubt = ", ".join(sorted(in_doubt)) or pgettext("addresses", "none")
    return StoppedAfterSending(
        _(
            "{error}; some messages had already left: {count} recorded as sent; not "
            "recorded, may have left: {addresses}. Run the same command again once the database "
            "can be written: those recorded are skipped, the others are named and sent again "
            "with the same Message-ID"
        ).format(error=exc, count=report.count(SENT), addresses=doubt)
    )


# Pending rows read back per transaction: a few hundred keep memory flat and the reads rare.
_BATCH = 200


@dataclass
class _Message(Job):
    """A mailer job with what the report and the row need: the name, the earlier attempts."""

    name: str = ""
    earlier: int = 0


def _settle(future: asyncio.Future[FirstRows], first: FirstRows) -> None:
    if not future.done():  # the run may have stopped meanwhile
        future.set_result(first)


def _load(session: Session, *, ids: list[int]) -> list[Pending]:
    """Return the pending rows ``ids`` in that order, each with its recipient.

    The recipient is the row's contact when it still has this address (the writing planner set
    ``contact_id`` from the address), else the address and the name the row recorded: the same
    choice plans._recipient makes.
    """
    query = (
        select(
            Delivery.id,
            Delivery.email,
            Delivery.name,
            Delivery.message_id,
            Delivery.attempts,
            Delivery.sequence,
        )
        .add_columns(Contact)
        .outerjoin(Contact, Contact.id == Delivery.contact_id)
        .where(Delivery.id.in_(ids))
    )
    found = {}
    for row_id, email, name, message_id, attempts, sequence, contact in session.execute(query):
        if contact is not None and contact.email == email:
            recipient = Recipient.from_contact(contact)
        else:
            recipient = Recipient(email=email, name=name)
        found[row_id] = Pending(row_id, message_id, attempts, recipient, sequence)
    return [found[i] for i in ids if i in found]


def _transport(
    settings: Settings, env: Mapping[str, str], prompt: PasswordPrompt | None
) -> Transport:
    if settings.send.transport == "outbox":
        return OutboxTransport(settings.outbox_path)
    return SmtpTransport(settings.smtp, resolve_credentials(settings.smtp, env, prompt))


def _destination(settings: Settings) -> str:
    if settings.send.transport == "outbox":
        return str(settings.outbox_path / "new")
    return f"{settings.smtp.host}:{settings.smtp.port} ({settings.smtp.security})"
