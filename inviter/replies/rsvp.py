"""Record replies: from mail files, from the IMAP mailbox, and answers given by phone.

imip.md 18–19 and SPEC, second edition: the mail side is inviter.reply_store; an answer given
by phone and recorded here overrides earlier mail, and ``rsvp set`` says which answer now counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from inviter.addresses import normalize_email
from inviter.config import Settings
from inviter.contacts.audience import audience_query
from inviter.errors import InputError
from inviter.replies.mail_files import iter_mail
from inviter.replies.recording import ImportReport, ReplyRecorder, ReviewItem
from inviter.store.answers import answers_of
from inviter.store.database import Database
from inviter.store.meetings import ensure_state
from inviter.store.models import REQUEST, Contact, Delivery, Reply, utcnow
from inviter.text import with_lines
from inviter.translation import _, ngettext

# Messages per transaction: few enough that a crash loses little and others can write between
# batches (sending.md: BEGIN IMMEDIATE holds the write lock), many enough to be fast.
BATCH_SIZE = 200
# SPEC, second edition: the Norwegian words too, as staff say them on the phone.
ANSWERS = {
    "yes": "ACCEPTED",
    "no": "DECLINED",
    "maybe": "TENTATIVE",
    "ja": "ACCEPTED",
    "nei": "DECLINED",
    "kanskje": "TENTATIVE",
}


def describe_import(report: ImportReport) -> str:
    """Say in one line what an import or fetch recorded."""
    first = ngettext("{count} answer recorded", "{count} answers recorded", report.recorded)
    first = first.format(count=report.recorded)
    extra = []
    if report.forwarded:
        extra.append(
            ngettext(
                "{count} from forwarded guests", "{count} from forwarded guests", report.forwarded
            ).format(count=report.forwarded)
        )
    if report.counters:
        extra.append(
            ngettext(
                "{count} proposing a new time", "{count} proposing a new time", report.counters
            ).format(count=report.counters)
        )
    if report.unverified:
        extra.append(
            ngettext(
                "{count} unverified, not counted",
                "{count} unverified, not counted",
                report.unverified,
            ).format(count=report.unverified)
        )
    if extra:
        first += f" ({', '.join(extra)})"
    parts = [first]
    if report.unchanged:
        parts.append(
            ngettext(
                "{count} already recorded", "{count} already recorded", report.unchanged
            ).format(count=report.unchanged)
        )
    if report.bounced or report.delayed:
        reports = report.bounced + report.delayed
        parts.append(
            ngettext(
                "{count} delivery report ({bounced} bounced, {delayed} delayed)",
                "{count} delivery reports ({bounced} bounced, {delayed} delayed)",
                reports,
            ).format(count=reports, bounced=report.bounced, delayed=report.delayed)
        )
    if report.older:
        parts.append(
            ngettext(
                "{count} older than one recorded (kept in history, not counted)",
                "{count} older than one recorded (kept in history, not counted)",
                report.older,
            ).format(count=report.older)
        )
    if report.moved:
        parts.append(
            ngettext("{count} moved", "{count} moved", report.moved).format(count=report.moved)
        )
    return ngettext(
        "Read {count} message: {parts}.", "Read {count} messages: {parts}.", report.messages
    ).format(count=report.messages, parts=", ".join(parts))


def import_replies(
    settings: Settings, db: Database, paths: Iterable[Path], *, now: datetime | None = None
) -> ImportReport:
    """Record the replies in .eml, .msg, mbox files and Maildir folders."""
    recorder = ReplyRecorder(db, now=now, organizer=settings.organizer.email)
    for path in paths:
        if not path.exists():
            recorder.report.review.append(ReviewItem(str(path), _("no such file or folder")))
            continue
        items = iter_mail(path)
        while batch := list(itertools.islice(items, BATCH_SIZE)):
            recorder.record(batch)
    return recorder.report


@dataclass(frozen=True)
class ManualAnswer:
    """What ``rsvp set`` recorded."""

    slug: str
    email: str
    name: str
    partstat: str
    forwarded: bool
    counted: str  # the PARTSTAT that now counts for them (what was just recorded, normally)


def set_reply(
    settings: Settings,
    db: Database,
    slug: str,
    email: str,
    answer: str,
    note: str = "",
    *,
    now: datetime | None = None,
) -> ManualAnswer:
    """Record an answer given by phone or in person (method MANUAL, stamped now).

    It carries the highest version sent, the cap of every mail reply, and the time it was
    given, so it overrides every reply that arrived before it; a reply sent later counts.
    """
    meeting = settings.meeting(slug)
    if answer not in ANSWERS:
        raise InputError(
            _("answer '{answer}': give yes, no or maybe (ja, nei or kanskje)").format(answer=answer)
        )
    try:
        address = normalize_email(email)
    except ValueError as exc:
        raise InputError(f"{exc}") from None
    note = with_lines(note).strip()[:2000]
    with db.session() as session:
        state = ensure_state(session, meeting, settings)
        contact = session.scalar(select(Contact).where(Contact.email == address))
        invited = session.scalar(
            select(Delivery.id)
            .where(
                Delivery.meeting_id == state.id,
                Delivery.email == address,
                Delivery.kind == REQUEST,
            )
            .limit(1)
        )
        earlier = session.scalar(
            select(Reply).where(Reply.meeting_id == state.id, Reply.email == address).limit(1)
        )
        if contact is None and invited is None and earlier is None:
            raise InputError(
                _(
                    "{email} is neither a contact nor invited to '{slug}'; "
                    "add them with 'inviter contacts add' first"
                ).format(email=address, slug=slug)
            )
        in_audience = (
            session.scalar(audience_query(meeting.audience).where(Contact.email == address))
            is not None
        )
        forwarded = invited is None and not in_audience and bool(earlier and earlier.forwarded)
        name = contact.name if contact else (earlier.name if earlier else "")
        sent = session.scalar(
            select(func.max(Delivery.sequence)).where(Delivery.meeting_id == state.id)
        )
        session.add(
            Reply(
                meeting_id=state.id,
                email=address,
                name=name,
                method="MANUAL",
                partstat=ANSWERS[answer],
                comment=note,
                sequence=max(state.sequence, sent or 0),
                dtstamp=now or utcnow(),
                forwarded=forwarded,
                verified=True,
                source="rsvp set",
            )
        )
        session.flush()
        counted = answers_of(session, state)[address].counted
        partstat = counted.partstat if counted else ANSWERS[answer]
    return ManualAnswer(slug, address, name, ANSWERS[answer], forwarded, partstat)
