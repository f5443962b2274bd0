"""Who gets a message in a run of send, cancel or remind, and who does not and why.

A planner runs twice per run: first read-only, to report bad input before anything connects;
then, once the server has accepted the login, to write a ``pending`` Delivery with a fixed
Message-ID for every target (sending.md: record "sent" only after the 250, so a crash leaves a
row for every message that may have gone out). Given ``early``, the writing pass commits its
first few rows at once and hands them over, so they go out while it writes the rest; without
it, everything is one transaction.

Neither pass holds the audience: it is read a page at a time (keyset on the e-mail address), as
plain rows, and a target is counted, written or kept as the mode asks (benchmarks/RESULTS.md:
loading the whole audience as ORM objects made memory grow 2.4 KiB a contact).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from inviter.addresses import normalize_email
from inviter.config import Settings
from inviter.contacts.audience import audience_query, check_audience, require_audience
from inviter.deliver.targets import Early, Mode, Plan, RecipientResult, Targets
from inviter.domain import Meeting, Recipient
from inviter.errors import InputError
from inviter.store.answers import current_answers
from inviter.store.meetings import (
    advance_version,
    ensure_state,
    get_state,
    highest_sequence,
    planned_sequence,
    planned_uid,
    reinstate,
)
from inviter.store.models import (
    BOUNCED,
    CANCEL,
    DELAYED,
    FAILED,
    PENDING,
    REMINDER,
    REQUEST,
    SENT,
    STOPPED_BEFORE_TURN,
    UNCERTAIN,
    Contact,
    Delivery,
    MeetingState,
)
from inviter.store.versions import is_current
from inviter.translation import _


def addresses(to: Collection[str] | None) -> list[str]:
    """Return the ``--to`` addresses in their stored form; raise InputError naming a bad one."""
    found = []
    for value in to or ():
        try:
            found.append(normalize_email(value))
        except ValueError as exc:
            raise InputError(f"--to {value}: {exc}") from None
    return list(dict.fromkeys(found))


def _rows(session: Session, state: MeetingState | None, transport: str) -> list[Delivery]:
    if state is None or state.id is None:
        return []
    query = select(Delivery).where(Delivery.meeting_id == state.id, Delivery.transport == transport)
    return list(session.scalars(query.order_by(Delivery.id)))


# The batch of a cancellation of the whole meeting, as told from one person uninvited.
WHOLE_MEETING = "meeting"


def _invited(rows: list[Delivery], *, cancelled: bool = True) -> tuple[set[str], set[str]]:
    """Return (still invited, uninvited): who may hold the event, and who had it cancelled.

    "May hold": an invitation sent, or one whose answer was lost after the data (uncertain).
    The cancellation of the whole meeting uninvites only while the meeting is cancelled: once
    reinstated (``cancelled`` false), those it reached are invited again.
    """
    last_request: dict[str, int] = {}
    last_cancel: dict[str, int] = {}
    for row in rows:
        if row.kind == REQUEST and row.status in (SENT, UNCERTAIN, DELAYED):
            last_request[row.email] = row.id
        elif row.kind == CANCEL and row.status == SENT:
            if row.batch == WHOLE_MEETING and not cancelled:
                last_request.setdefault(row.email, 0)  # was invited: reinstating reaches them
                continue
            last_cancel[row.email] = row.id
    uninvited = {e for e, i in last_cancel.items() if i > last_request.get(e, 0)}
    return set(last_request) - uninvited, uninvited


def _index(rows: list[Delivery], kind: str, sequence: int) -> dict[str, Delivery]:
    """Return the first row of each address for this kind and version (no reminder batch).

    A dict, not a scan of the rows per recipient: that was quadratic in the audience.
    """
    found: dict[str, Delivery] = {}
    for row in rows:
        if (row.kind, row.sequence) == (kind, sequence) and row.batch in ("", WHOLE_MEETING):
            found.setdefault(row.email, row)
    return found


def _permanent(row: Delivery) -> bool:
    """A refusal for good: a 5xx answer, or a delivery report that it bounced."""
    return row.status == BOUNCED or (
        row.status == FAILED and row.code is not None and row.code >= 500
    )


def _result(row: Delivery) -> RecipientResult:
    return RecipientResult(row.email, row.name, row.status, row.code, row.response)


_PAGE = 500  # contacts read per query of the audience


# The columns a recipient needs: plain rows, not ORM objects (a third of the time a contact).
_RECIPIENT = (
    Contact.id,
    Contact.email,
    Contact.name,
    Contact.language,
    Contact.role,
    Contact.municipality,
    Contact.region,
    Contact.organization,
    Contact.title,
)


def _audience(session: Session, meeting: Meeting) -> Iterator[tuple[int, Recipient]]:
    """Yield the meeting's contacts (id, recipient) in e-mail order, a page at a time."""
    query = audience_query(meeting.audience).with_only_columns(*_RECIPIENT)
    last: str | None = None
    while True:
        page = query if last is None else query.where(Contact.email > last)
        rows = session.execute(page.limit(_PAGE)).all()
        for row in rows:
            yield row.id, Recipient.from_contact(row)
        if len(rows) < _PAGE:
            return
        last = rows[-1].email


def plan_request(
    session: Session,
    settings: Settings,
    meeting: Meeting,
    to: list[str],
    mode: Mode,
    early: Early | None = None,
    *,
    hold: Collection[str] = (),
    reinstating: bool = False,
) -> Plan:
    """Plan the invitation: who lacks the current version. ``hold``: of those who may have it
    already (``Plan.resending``), the ones not to send again this time. ``reinstating``: the
    meeting was cancelled; this takes the cancellation back with a new version."""
    state = get_state(session, meeting)
    if reinstating and (state is None or not state.cancelled):
        raise InputError(
            _(
                "meeting '{slug}' is not cancelled; nothing to reinstate (inviter send "
                "invites those who lack the invitation)"
            ).format(slug=meeting.slug)
        )
    if state is not None and state.cancelled and not reinstating:
        raise InputError(
            _(
                "meeting '{slug}' was cancelled (inviter cancel); nothing was sent; "
                "inviter reinstate --meeting {slug} takes the cancellation back"
            ).format(slug=meeting.slug)
        )
    check_audience(session, meeting)
    if not to:
        require_audience(session, meeting)
    if mode == "write":
        state = ensure_state(session, meeting, settings)
        if reinstating:
            sequence = reinstate(session, state, meeting)
        else:
            sequence = advance_version(session, state, meeting)
    elif reinstating:
        assert state is not None
        sequence = highest_sequence(session, state) + 1
    else:
        sequence = planned_sequence(session, state, meeting) if state else 0
    uid = state.uid if state else planned_uid(settings, meeting)  # dry run of a new meeting
    rows = _rows(session, state, settings.send.transport)
    cancelled = bool(state and state.cancelled) and not reinstating
    invited, uninvited = _invited(rows, cancelled=cancelled)
    _check_to(session, to, meeting)
    plan = Plan("request", uid, sequence)
    targets = Targets(session, settings, state, plan, mode, early)
    earlier = _index(rows, REQUEST, sequence)
    doubtful = _maybe_delivered(earlier.values(), settings.send.concurrency)
    left = set(invited)  # what remains after the walk has left the audience
    wanted = set(to)
    for contact_id, recipient in _audience(session, meeting):
        email = recipient.email
        left.discard(email)
        if to and email not in wanted:
            continue
        if email in uninvited and email in wanted:
            # SPEC: send --to invites again someone uninvited. Their calendar holds the
            # cancellation's SEQUENCE, and ignores anything lower (RFC 5546 §2.1.4).
            _invite_again(plan, targets, rows, recipient, contact_id)
            continue
        if email in uninvited:
            plan.uninvited.append(email)
            continue
        row = earlier.get(email)
        if row is not None and row.status in (SENT, DELAYED):
            plan.skipped.append(email)
        elif row is not None and _permanent(row) and not to:
            plan.failed_before.append(_result(row))
        elif email in doubtful and email in hold:
            plan.held_back.append(email)
        else:
            if email in doubtful:
                plan.resending.append(email)
            targets.add(recipient, row, contact_id)
    targets.flush()
    plan.left_audience = sorted(left)
    return plan


def _invite_again(
    plan: Plan, targets: Targets, rows: list[Delivery], recipient: Recipient, contact_id: int
) -> None:
    """Invite again someone uninvited, with a SEQUENCE above their cancellation's."""
    email = recipient.email
    cancelled_at = max(r.sequence for r in rows if r.email == email and r.kind == CANCEL)
    sequence = max(plan.sequence, cancelled_at + 1)
    row = next(
        (r for r in rows if (r.email, r.kind, r.sequence) == (email, REQUEST, sequence)), None
    )
    if row is not None and row.status in (SENT, DELAYED):
        plan.skipped.append(email)
        return
    targets.add(recipient, row, contact_id, sequence)


def _maybe_delivered(rows: Iterable[Delivery], concurrency: int) -> set[str]:
    """Return who may have this version already although their row does not say sent.

    Uncertain rows: the server's answer was lost after the data. Pending rows are those an
    interrupted run never finished: one with attempts made was on the wire; of the untried
    ones, messages go out in row order, so only the first ``concurrency`` can have been in
    flight when the run stopped (sending.md: at most one unrecorded message a connection).
    """
    uncertain = {r.email for r in rows if r.status == UNCERTAIN}
    pending = sorted((r for r in rows if r.status == PENDING), key=lambda r: r.id)
    tried = {r.email for r in pending if r.attempts}
    untried = [r.email for r in pending if not r.attempts and r.response != STOPPED_BEFORE_TURN][
        :concurrency
    ]
    return uncertain | tried | set(untried)


def _check_to(session: Session, to: list[str], meeting: Meeting) -> None:
    if not to:
        return
    query = audience_query(meeting.audience).where(Contact.email.in_(to))
    found = set(session.scalars(query.with_only_columns(Contact.email)))
    for email in to:
        if email in found:
            continue
        known = session.scalar(select(Contact.id).where(Contact.email == email))
        if known:
            text = _("--to {email}: not in the audience of meeting '{slug}'; nothing was sent")
        else:
            text = _("--to {email}: not a contact; nothing was sent")
        raise InputError(text.format(email=email, slug=meeting.slug))


def plan_cancel(
    session: Session,
    settings: Settings,
    meeting: Meeting,
    to: list[str],
    mode: Mode,
    early: Early | None = None,
) -> Plan:
    state = get_state(session, meeting)
    rows = _rows(session, state, settings.send.transport)
    invited, uninvited = _invited(rows, cancelled=bool(state and state.cancelled))
    if state is None:
        if to:
            raise InputError(
                _("--to {email}: was never sent the invitation to '{slug}'").format(
                    email=to[0], slug=meeting.slug
                )
            )
        return Plan("cancel", "", 0)
    # Higher than every version anyone was sent (RFC 5546 §2.1.4): clients ignore a CANCEL
    # whose SEQUENCE is lower than the event they hold.
    sent_versions = [r.sequence for r in rows if r.kind in (REQUEST, REMINDER)]
    sequence = max([state.sequence, *sent_versions]) + 1
    for email in to:
        if email not in invited and email not in uninvited:
            raise InputError(
                _(
                    "--to {email}: was never sent the invitation to '{slug}'; nothing was sent"
                ).format(email=email, slug=meeting.slug)
            )
    withdrawn = bool(to) and not invited <= set(to)
    plan = Plan("cancel", state.uid, sequence, withdrawn=withdrawn)
    plan.batch = "" if withdrawn else WHOLE_MEETING
    targets = Targets(session, settings, state, plan, mode, early)
    earlier = _index(rows, CANCEL, sequence)
    for email in to or sorted(invited):
        if email in uninvited:
            plan.skipped.append(email)
            continue
        row = earlier.get(email)
        if row is not None and row.status in (SENT, DELAYED):
            plan.skipped.append(email)
            continue
        recipient, contact_id = _recipient(session, email, rows)
        targets.add(recipient, row, contact_id)
    targets.flush()
    if mode == "write" and (not to or invited <= set(to)):
        state.cancelled = True
    return plan


def plan_reminder(
    session: Session,
    settings: Settings,
    meeting: Meeting,
    mode: Mode,
    now: datetime,
    *,
    to: list[str] | None = None,
    force: bool = False,
) -> Plan:
    """Plan a reminder round: everyone invited to the current version who has not answered
    (or the ``to`` ones among them). A new round within 24 hours of the last needs ``force``.

    Its rows are written in one transaction, never the first few early: the next run finishes
    an interrupted round for the rows it has (``unfinished``), so a round cut short after an
    early commit would have been finished for those few alone, the others never reminded.
    """
    state = get_state(session, meeting)
    if state is None:
        raise InputError(
            _(
                "meeting '{slug}': nothing was sent yet; run inviter send --meeting {slug} first"
            ).format(slug=meeting.slug)
        )
    if state.cancelled:
        raise InputError(
            _("meeting '{slug}' was cancelled; no reminder sent").format(slug=meeting.slug)
        )
    check_audience(session, meeting)
    require_audience(session, meeting)
    if not is_current(state.fingerprint, meeting):
        raise InputError(
            _(
                "meeting '{slug}': its time, place, link or title changed in {file} since the "
                "invitation went out; run inviter send --meeting {slug} first, so the reminder "
                "carries the current version"
            ).format(slug=meeting.slug, file=settings.config_path.name)
        )
    rows = _rows(session, state, settings.send.transport)
    invited, _uninvited = _invited(rows)
    current = {
        r.email
        for r in rows
        if r.kind == REQUEST and r.sequence == state.sequence and r.status in (SENT, DELAYED)
    }
    replies = current_answers(session, state)
    unanswered = {
        e for e in current & invited if e not in replies or replies[e].partstat == "NEEDS-ACTION"
    }
    reminders = [r for r in rows if r.kind == REMINDER]
    last_batch = reminders[-1].batch if reminders else ""
    unfinished = {
        r.email: r
        for r in reminders
        if r.batch == last_batch and r.status != SENT and not _permanent(r)
    }
    for email in to or []:
        if email not in current:
            raise InputError(
                _(
                    "--to {email}: was not sent the current invitation to '{slug}'; "
                    "nothing was sent"
                ).format(email=email, slug=meeting.slug)
            )
    plan = Plan("reminder", state.uid, state.sequence)
    if unfinished:
        # The last round was interrupted: finish it (same rows, same Message-IDs).
        plan.batch = last_batch
        emails = sorted(unfinished.keys() & unanswered)
    else:
        if reminders and not force:
            _refuse_second_round(meeting, max(r.created_at for r in reminders), now)
        plan.batch = f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
        emails = sorted(unanswered)
    wanted = set(to or current)
    emails = [e for e in emails if e in wanted]
    plan.skipped = sorted(((current & invited) - unanswered) & wanted)  # they answered already
    targets = Targets(session, settings, state, plan, mode)
    for email in emails:
        recipient, contact_id = _recipient(session, email, rows)
        targets.add(recipient, unfinished.get(email), contact_id)
    targets.flush()
    return plan


# A second round the same day is most often the same command typed twice (issue 16: 19
# reminders went out twice); a day later it is a decision.
REMINDER_GAP = timedelta(hours=24)


def _refuse_second_round(meeting: Meeting, last: datetime, now: datetime) -> None:
    """Raise InputError when the last reminder round is under 24 hours old."""
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    age = now - last
    if age >= REMINDER_GAP:
        return
    hours, minutes = divmod(int(age.total_seconds()) // 60, 60)
    raise InputError(
        _(
            "meeting '{slug}': a reminder round went out {hours} h {minutes} min ago; "
            "another within 24 hours needs --force; nothing was sent"
        ).format(slug=meeting.slug, hours=hours, minutes=minutes)
    )


def _recipient(session: Session, email: str, rows: list[Delivery]) -> tuple[Recipient, int | None]:
    """Return an address's recipient and contact id: the contact's, else the record's name."""
    contact = session.scalar(select(Contact).where(Contact.email == email))
    if contact is not None:
        return Recipient.from_contact(contact), contact.id
    name = next((r.name for r in reversed(rows) if r.email == email and r.name), "")
    return Recipient(email=email, name=name), None
