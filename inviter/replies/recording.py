"""Store the answers read from mail: one message at a time, never letting one stop the rest.

imip.md 18–19: only UIDs this tool issued count, matched on the ATTENDEE address; the raw
message of every reply is kept; a message that cannot be read or stored is listed for review
and the rest goes on. SPEC, second edition: a reply answers for one attendee and counts only
when that attendee sent it (inviter.attribution); its SEQUENCE and time are capped at the
highest version sent and at when it arrived, so no reply can pin an answer for good.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from inviter.replies.attribution import attribute
from inviter.replies.bounces import DeliveryReport
from inviter.replies.calendar_reply import Answer
from inviter.replies.delivery_reports import apply_report
from inviter.replies.mail_files import MailItem, Unreadable, read_mime
from inviter.replies.mail_reading import MailReading, read_calendar_bytes
from inviter.replies.outlook import read_msg
from inviter.store.database import Database
from inviter.store.models import REQUEST, Delivery, MeetingState, RawMessage, Reply, utcnow
from inviter.translation import _, ngettext

Outcome = Literal["reply", "review", "ignored"]
# What storing can raise for one message's content: the database refusing a row (a trigger, a
# constraint, a full disk), or a value the driver cannot convert.
_STORE_ERRORS = (SQLAlchemyError, ValueError, OverflowError)
# Subjects of answers typed by hand or sent automatically; used only to decide whether a message
# without a calendar is worth showing for review (imip.md 19: never to guess the answer).
_ANSWER_SUBJECT = re.compile(
    r"^\s*(accepted|declined|tentative|godtatt|avslått|avslatt|foreløpig|akseptert|"
    r"automatic reply|automatisk svar|autosvar|out of office|fravær)\b",
    re.IGNORECASE,
)

# How many other attendees a warning names before it says "and N more".
_NAMED = 5


@dataclass(frozen=True)
class ReviewItem:
    """A message that needs a person: where it is and why it was not recorded."""

    where: str
    reason: str


@dataclass
class ImportReport:
    """What an import or fetch did, for the command to print."""

    messages: int = 0
    recorded: int = 0  # new answers stored
    unchanged: int = 0  # the same answer was already stored
    older: int = 0  # stored in history; a newer answer counts
    forwarded: int = 0  # of the recorded, from guests never invited
    counters: int = 0  # of the recorded, proposals of a new time
    unverified: int = 0  # of the recorded, sent by someone other than the attendee
    bounced: int = 0  # invitations a delivery report said did not arrive
    delayed: int = 0  # invitations a delivery report said are still on their way
    review: list[ReviewItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    moved: int = 0


@dataclass(frozen=True)
class _Meeting:
    id: int
    slug: str


@dataclass
class _Known:
    """What is stored for one meeting, loaded once per import: no query per reply."""

    invited: set[str]
    cap: int  # the highest SEQUENCE sent: no reply may claim a later version
    keys: dict[tuple[str, str, int, datetime], bool]  # -> verified
    newest: dict[str, tuple[int, datetime]]


@dataclass(frozen=True)
class _Answer:
    """One answer to store: capped, attributed, with its meeting."""

    answer: Answer
    meeting: _Meeting
    verified: bool


@dataclass
class _Pending:
    """A message whose answers are to be stored, with where its raw bytes will be kept.

    ``where`` is stored (Reply.source) as it always was; ``shown`` is the same place in the
    language staff read, for the review list and the warnings.
    """

    item: MailItem
    reading: MailReading
    where: str
    answers: list[_Answer]
    received: datetime
    report: DeliveryReport | None = None
    shown: str = ""


@dataclass
class _Tally:
    """What storing one message did; added to the report only once it is committed."""

    recorded: int = 0
    unchanged: int = 0
    older: int = 0
    forwarded: int = 0
    counters: int = 0
    unverified: int = 0
    bounced: int = 0
    delayed: int = 0
    warnings: list[str] = field(default_factory=list)


class ReplyRecorder:
    """Record messages in batches, remembering meetings and stored answers between batches."""

    def __init__(
        self,
        db: Database,
        *,
        now: datetime | None = None,
        all_plain: bool = True,
        organizer: str = "",
    ):
        self.db = db
        self.now = now or utcnow()
        # all_plain: report every message without a calendar (files the user chose); False for
        # a mailbox, where only those that look like answers to us are worth a person's time.
        self.all_plain = all_plain
        # The organizer's own ATTENDEE line, echoed by CalDAV servers, is never an answer.
        self.organizer = organizer
        self.report = ImportReport()
        self._known: dict[int, _Known] = {}
        with db.reading() as session:
            self._meetings = {
                s.uid: _Meeting(s.id, s.slug) for s in session.scalars(select(MeetingState))
            }
            # Message-ID -> recipient of every message we sent: a reply referring to one was
            # written in answer to that person's invitation (or a forward of it).
            rows = session.execute(select(Delivery.message_id, Delivery.email))
            # iter(): a Result has keys(), which dict() would take for a mapping's.
            self._our_ids = dict(iter(rows))

    def record(self, items: Sequence[MailItem | Unreadable]) -> list[Outcome]:
        """Record a batch of messages in one transaction; return each message's outcome.

        The batch is stored in one savepoint; only if that fails is it stored again one
        message per savepoint, so that the failing message alone is listed for review.
        """
        outcomes: list[Outcome] = []
        pending: dict[int, _Pending] = {}
        for index, item in enumerate(items):  # read first: the write lock is held briefly
            self.report.messages += 1
            outcomes.append(self._read_safely(item, index, pending))
        if not pending:
            return outcomes
        with self.db.session() as session:
            try:
                with session.begin_nested():
                    tallies = self._store_messages(session, list(pending.values()))
            except _STORE_ERRORS:
                self._known.clear()  # the savepoint undid the batch: reload what is stored
                for index, message in pending.items():
                    outcomes[index] = self._store_one(session, message)
            else:
                for tally in tallies:
                    self._count(tally)
        return outcomes

    def _review(self, where: str, reason: str) -> Outcome:
        self.report.review.append(ReviewItem(where, reason))
        return "review"

    def _read_safely(
        self, item: MailItem | Unreadable, index: int, pending: dict[int, _Pending]
    ) -> Outcome:
        """Read one message; any failure puts it up for review and the batch goes on."""
        try:
            return self._read_one(item, index, pending)
        except Exception as exc:  # one hostile message must never stop the rest (SPEC)
            where = item.shown if isinstance(item, MailItem) else item.where
            error = f"{type(exc).__name__}: {exc}"
            return self._review(where, _("cannot be read: {error}").format(error=error)[:300])

    def _read_one(
        self, item: MailItem | Unreadable, index: int, pending: dict[int, _Pending]
    ) -> Outcome:
        if isinstance(item, Unreadable):
            return self._review(item.where, item.reason)
        reading = read_item(item, self.now)
        where = f"{item.where} {reading.message_id}".strip()  # stored: Reply.source
        shown = f"{item.shown} {reading.message_id}".strip()
        answers = [a for a in reading.answers if a.email != self.organizer]
        if not answers and reading.report is not None:
            received = min(item.received or reading.received or self.now, self.now)
            pending[index] = _Pending(item, reading, where, [], received, reading.report, shown)
            return "reply"
        if not answers:
            if reading.problems:
                return self._review(shown, "; ".join(reading.problems))
            if reading.answers:
                return self._review(shown, _("the only attendee answering is the organizer"))
            if not self.all_plain and not self._looks_like_answer(reading):
                return "ignored"
            if reading.auto_reply:
                return self._review(shown, _("an automatic reply without a calendar part"))
            return self._review(
                shown,
                _("no calendar part (an answer typed by hand?); record it with 'inviter rsvp set'"),
            )
        chosen: list[_Answer] = []
        unknown: list[str] = []
        for part in attribute(answers, reading.senders):
            meeting = self._meetings.get(part.uid)
            if meeting is None:
                unknown.append(part.uid)
                continue
            chosen += [_Answer(a, meeting, part.verified) for a in part.answers]
            if part.ignored:
                named = ", ".join(part.ignored[:_NAMED])
                more = len(part.ignored) - _NAMED
                if more > 0:
                    named = _("{names} and {count} more").format(names=named, count=more)
                count = len(part.ignored)
                self.report.warnings.append(
                    ngettext(
                        "{where}: a reply answers for one attendee; {count} other ATTENDEE "
                        "line ignored ({names})",
                        "{where}: a reply answers for one attendee; {count} other ATTENDEE "
                        "lines ignored ({names})",
                        count,
                    ).format(where=shown, count=count, names=named)
                )
        if not chosen:
            uids = ", ".join(sorted(set(unknown)))
            return self._review(
                shown, _("UID {uids} matches no meeting of this inviter").format(uids=uids)
            )
        # When the message reached the mailbox, never later than now: the cap on DTSTAMP.
        received = min(item.received or reading.received or self.now, self.now)
        pending[index] = _Pending(item, reading, where, chosen, received, shown=shown)
        return "reply"

    def _looks_like_answer(self, reading: MailReading) -> bool:
        """True for a message without calendar that answers one of ours, by its headers."""
        return bool(
            _ANSWER_SUBJECT.match(reading.subject)
            or any(ref in self._our_ids for ref in reading.references)
        )

    def _store_one(self, session: Session, message: _Pending) -> Outcome:
        """Store one message inside a savepoint: a failure undoes it alone, listed for review."""
        try:
            with session.begin_nested():
                [tally] = self._store_messages(session, [message])
        except _STORE_ERRORS as exc:
            # Forget what was cached for its meetings: the savepoint undid those rows.
            for chosen in message.answers:
                self._known.pop(chosen.meeting.id, None)
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
            return self._review(
                message.shown, _("cannot be stored: {reason}").format(reason=reason)
            )
        self._count(tally)
        return "reply"

    def _count(self, tally: _Tally) -> None:
        """Add what one stored message did to the report."""
        report = self.report
        report.recorded += tally.recorded
        report.unchanged += tally.unchanged
        report.older += tally.older
        report.forwarded += tally.forwarded
        report.counters += tally.counters
        report.unverified += tally.unverified
        report.bounced += tally.bounced
        report.delayed += tally.delayed
        report.warnings += tally.warnings

    def _store_messages(self, session: Session, messages: list[_Pending]) -> list[_Tally]:
        """Keep each raw message once (imip.md 19, by SHA-256), then store the answers."""
        digests = [hashlib.sha256(m.item.raw).hexdigest() for m in messages]
        raws = {
            r.sha256: r
            for r in session.scalars(select(RawMessage).where(RawMessage.sha256.in_(digests)))
        }
        for message, digest in zip(messages, digests, strict=True):
            if digest not in raws:
                raws[digest] = RawMessage(
                    sha256=digest,
                    message_id=message.reading.message_id[:300],
                    source=message.item.where[:1000],
                    content=message.item.raw,
                )
                session.add(raws[digest])
        session.flush()
        tallies = []
        for message, digest in zip(messages, digests, strict=True):
            tally = _Tally()
            for chosen in message.answers:
                self._store(session, chosen, message, raws[digest], tally)
            if message.report is not None:
                marked = apply_report(session, message.report)
                tally.bounced, tally.delayed = len(marked.bounced), len(marked.delayed)
                tally.warnings += [
                    _("{where}: a delivery report for {email}, to whom nothing was sent").format(
                        where=message.shown, email=email
                    )
                    for email in marked.unmatched
                ]
            tallies.append(tally)
        session.flush()  # a constraint failing here fails inside the caller's savepoint
        return tallies

    def _stored(self, session: Session, meeting: _Meeting) -> _Known:
        if meeting.id not in self._known:
            invited = session.scalars(
                select(Delivery.email).where(
                    Delivery.meeting_id == meeting.id, Delivery.kind == REQUEST
                )
            )
            sent = session.scalar(
                select(func.max(Delivery.sequence)).where(Delivery.meeting_id == meeting.id)
            )
            state = session.get(MeetingState, meeting.id)
            cap = max(sent or 0, state.sequence if state else 0)
            known = _Known(invited=set(invited), cap=cap, keys={}, newest={})
            rows = session.execute(
                select(Reply.email, Reply.method, Reply.sequence, Reply.dtstamp, Reply.verified)
                .where(Reply.meeting_id == meeting.id)
                .order_by(Reply.id)
            )
            for email, method, sequence, stamp, verified in rows:
                self._remember(known, (email, method, sequence, stamp), verified)
            self._known[meeting.id] = known
        return self._known[meeting.id]

    @staticmethod
    def _remember(known: _Known, key: tuple[str, str, int, datetime], verified: bool) -> None:
        known.keys[key] = known.keys.get(key, False) or verified
        email, method, sequence, stamp = key
        newest = known.newest.get(email, (-1, stamp))
        if verified and method != "COUNTER" and (sequence, stamp) > newest:
            known.newest[email] = (sequence, stamp)

    def _store(
        self,
        session: Session,
        chosen: _Answer,
        message: _Pending,
        raw: RawMessage,
        tally: _Tally,
    ) -> None:
        """Store one answer unless the same one is stored already."""
        answer, meeting = chosen.answer, chosen.meeting
        known = self._stored(session, meeting)
        sequence = min(answer.sequence, known.cap)
        stamp = min(answer.dtstamp, message.received)
        key = (answer.email, answer.method, sequence, stamp)
        sender = message.reading.sender[:320]
        if key in known.keys:
            if chosen.verified and not known.keys[key]:
                # The same answer came before through someone else (a forwarded copy): now
                # its attendee sent it, so it counts.
                session.execute(
                    update(Reply)
                    .where(
                        Reply.meeting_id == meeting.id,
                        Reply.email == answer.email,
                        Reply.method == answer.method,
                        Reply.sequence == sequence,
                        Reply.dtstamp == stamp,
                    )
                    .values(verified=True, sender=sender)
                )
                self._remember(known, key, True)
                tally.recorded += 1
            else:
                tally.unchanged += 1
            return
        newest = known.newest.get(answer.email)
        if answer.method != "COUNTER" and newest and (sequence, stamp) < newest:
            tally.older += 1  # kept in history; status counts the newest (imip.md 18)
        self._remember(known, key, chosen.verified)
        forwarded = answer.email not in known.invited
        via = ""
        if forwarded:
            via = next(
                (self._our_ids[r] for r in message.reading.references if r in self._our_ids), ""
            )
        session.add(
            Reply(
                meeting_id=meeting.id,
                email=answer.email,
                name=answer.name,
                method=answer.method,
                partstat=answer.partstat,
                delegated_to=answer.delegated_to,
                comment=answer.comment,
                guests=answer.guests,
                proposed_start=answer.proposed_start,
                proposed_end=answer.proposed_end,
                sequence=sequence,
                dtstamp=stamp,
                forwarded=forwarded,
                verified=chosen.verified,
                sender=sender,
                via=via,
                raw_message_id=raw.id,
                source=message.where[:1000],
            )
        )
        tally.recorded += 1
        tally.forwarded += forwarded
        tally.counters += answer.method == "COUNTER"
        if not chosen.verified:
            tally.unverified += 1
            if message.item.kind == "ics":
                came = _(
                    "{where}: the answer for {email} is a calendar file, with no sender to check"
                )
            elif sender:
                came = _("{where}: the answer for {email} was sent by {sender}")
            else:
                came = _("{where}: the answer for {email} was sent by an unknown sender")
            kept = _(
                "kept as unverified, not counted; confirm it with "
                "'inviter rsvp set --meeting {slug} {email} yes|no|maybe'"
            )
            tally.warnings.append(
                came.format(where=message.shown, email=answer.email, sender=sender)
                + ": "
                + kept.format(slug=meeting.slug, email=answer.email)
            )


def read_item(item: MailItem, now: datetime) -> MailReading:
    """Read one message of any kind."""
    if item.kind == "ics":
        reading = MailReading()
        read_calendar_bytes(
            item.raw, reading, label=_("calendar file"), charset=None, method=None, stamp=now
        )
        return reading
    if item.kind == "msg":
        return read_msg(item.raw, now)
    return read_mime(item.raw, now)
