"""Record replies: from mail files, from the IMAP mailbox, and answers given by phone.

imip.md 18–19: only UIDs this tool issued count, matched on the ATTENDEE address (never From);
an older reply is kept in history but never overrides a newer one; the raw message of every
reply is kept; a message that cannot be read or matched is listed for review and the rest goes on.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from inviter.addresses import normalize_email
from inviter.audience import audience_query
from inviter.config import Settings
from inviter.db import Database
from inviter.errors import InputError
from inviter.mailbox import MailItem, MailReading, Unreadable, iter_mail, read_item
from inviter.meetings import ensure_state
from inviter.models import REQUEST, Contact, Delivery, MeetingState, RawMessage, Reply, utcnow
from inviter.replies import Answer

# Messages per transaction: few enough that a crash loses little and others can write between
# batches (sending.md: BEGIN IMMEDIATE holds the write lock), many enough to be fast.
BATCH_SIZE = 200
ANSWERS = {"yes": "ACCEPTED", "no": "DECLINED", "maybe": "TENTATIVE"}
# Subjects of answers typed by hand or sent automatically; used only to decide whether a message
# without a calendar is worth showing for review (imip.md 19: never to guess the answer).
_ANSWER_SUBJECT = re.compile(
    r"^\s*(accepted|declined|tentative|godtatt|avslått|avslatt|foreløpig|akseptert|"
    r"automatic reply|automatisk svar|autosvar|out of office|fravær)\b",
    re.IGNORECASE,
)

Outcome = Literal["reply", "review", "ignored"]


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
    review: list[ReviewItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    moved: int = 0


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def describe_import(report: ImportReport) -> str:
    """Say in one line what an import or fetch recorded."""
    first = f"{_plural(report.recorded, 'answer')} recorded"
    extra = []
    if report.forwarded:
        extra.append(f"{report.forwarded} from forwarded guests")
    if report.counters:
        extra.append(f"{report.counters} proposing a new time")
    if extra:
        first += f" ({', '.join(extra)})"
    parts = [first]
    if report.unchanged:
        parts.append(f"{report.unchanged} already recorded")
    if report.older:
        parts.append(f"{report.older} older than one recorded (kept in history, not counted)")
    if report.moved:
        parts.append(f"{report.moved} moved")
    return f"Read {_plural(report.messages, 'message')}: {', '.join(parts)}."


@dataclass(frozen=True)
class _Meeting:
    id: int
    slug: str


@dataclass
class _Known:
    """What is stored for one meeting, loaded once per import: no query per reply."""

    invited: set[str]
    keys: set[tuple[str, str, int, datetime]]
    newest: dict[str, tuple[int, datetime]]


@dataclass
class _Pending:
    """A message whose answers are to be stored, with where its raw bytes will be kept."""

    item: MailItem
    reading: MailReading
    where: str
    answers: list[tuple[Answer, _Meeting]]


class ReplyRecorder:
    """Record messages in batches, remembering meetings and stored answers between batches."""

    def __init__(self, db: Database, *, now: datetime | None = None, all_plain: bool = True):
        self.db = db
        self.now = now or utcnow()
        # all_plain: report every message without a calendar (files the user chose); False for
        # a mailbox, where only those that look like answers to us are worth a person's time.
        self.all_plain = all_plain
        self.report = ImportReport()
        self._known: dict[int, _Known] = {}
        with db.session() as session:
            self._meetings = {
                s.uid: _Meeting(s.id, s.slug) for s in session.scalars(select(MeetingState))
            }
            self._our_ids = set(session.scalars(select(Delivery.message_id)))

    def record(self, items: Sequence[MailItem | Unreadable]) -> list[Outcome]:
        """Record a batch of messages in one transaction; return each message's outcome."""
        outcomes: list[Outcome] = []
        pending: list[_Pending] = []
        for item in items:  # read before the transaction: the write lock is held briefly
            self.report.messages += 1
            outcome = self._read_one(item, pending)
            outcomes.append(outcome)
        if pending:
            with self.db.session() as session:
                self._store_batch(session, pending)
        return outcomes

    def _review(self, where: str, reason: str) -> Outcome:
        self.report.review.append(ReviewItem(where, reason))
        return "review"

    def _read_one(self, item: MailItem | Unreadable, pending: list[_Pending]) -> Outcome:
        if isinstance(item, Unreadable):
            return self._review(item.where, item.reason)
        reading = read_item(item, self.now)
        where = f"{item.where} {reading.message_id}".strip()
        if not reading.answers:
            if reading.problems:
                return self._review(where, "; ".join(reading.problems))
            if not self.all_plain and not self._looks_like_answer(reading):
                return "ignored"
            if reading.auto_reply:
                return self._review(where, "an automatic reply without a calendar part")
            return self._review(
                where,
                "no calendar part (an answer typed by hand?); record it with 'inviter rsvp set'",
            )
        known = [(a, self._meetings[a.uid]) for a in reading.answers if a.uid in self._meetings]
        if not known:
            uids = ", ".join(sorted({a.uid for a in reading.answers}))
            return self._review(where, f"UID {uids} matches no meeting of this inviter")
        pending.append(_Pending(item, reading, where, known))
        return "reply"

    def _looks_like_answer(self, reading: MailReading) -> bool:
        """True for a message without calendar that answers one of ours, by its headers."""
        return bool(
            _ANSWER_SUBJECT.match(reading.subject)
            or any(ref in self._our_ids for ref in reading.references)
        )

    def _store_batch(self, session: Session, pending: list[_Pending]) -> None:
        """Keep each raw message once (imip.md 19, by SHA-256), then store the new answers."""
        digests = {id(p): hashlib.sha256(p.item.raw).hexdigest() for p in pending}
        raws = {
            r.sha256: r
            for r in session.scalars(
                select(RawMessage).where(RawMessage.sha256.in_(set(digests.values())))
            )
        }
        for p in pending:
            digest = digests[id(p)]
            if digest not in raws:
                raws[digest] = RawMessage(
                    sha256=digest,
                    message_id=p.reading.message_id[:300],
                    source=p.item.where[:1000],
                    content=p.item.raw,
                )
                session.add(raws[digest])
        session.flush()
        for p in pending:
            for answer, meeting in p.answers:
                self._store(session, answer, meeting, raws[digests[id(p)]], p.where)

    def _stored(self, session: Session, meeting: _Meeting) -> _Known:
        if meeting.id not in self._known:
            invited = session.scalars(
                select(Delivery.email).where(
                    Delivery.meeting_id == meeting.id, Delivery.kind == REQUEST
                )
            )
            known = _Known(invited=set(invited), keys=set(), newest={})
            rows = session.execute(
                select(Reply.email, Reply.method, Reply.sequence, Reply.dtstamp).where(
                    Reply.meeting_id == meeting.id
                )
            )
            for email, method, sequence, stamp in rows:
                self._remember(known, email, method, sequence, stamp)
            self._known[meeting.id] = known
        return self._known[meeting.id]

    @staticmethod
    def _remember(known: _Known, email: str, method: str, sequence: int, stamp: datetime) -> None:
        known.keys.add((email, method, sequence, stamp))
        if method != "COUNTER" and (sequence, stamp) > known.newest.get(email, (-1, stamp)):
            known.newest[email] = (sequence, stamp)

    def _store(
        self, session: Session, answer: Answer, meeting: _Meeting, raw: RawMessage, where: str
    ) -> None:
        """Store one answer unless the same one is stored already."""
        known = self._stored(session, meeting)
        key = (answer.email, answer.method, answer.sequence, answer.dtstamp)
        if key in known.keys:
            self.report.unchanged += 1
            return
        newest = known.newest.get(answer.email)
        if answer.method != "COUNTER" and newest and (answer.sequence, answer.dtstamp) < newest:
            self.report.older += 1  # kept in history; status counts the newest (imip.md 18)
        self._remember(known, *key)
        forwarded = answer.email not in known.invited
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
                sequence=answer.sequence,
                dtstamp=answer.dtstamp,
                forwarded=forwarded,
                raw_message_id=raw.id,
                source=where[:1000],
            )
        )
        self.report.recorded += 1
        self.report.forwarded += forwarded
        self.report.counters += answer.method == "COUNTER"


def import_replies(
    settings: Settings, db: Database, paths: Iterable[Path], *, now: datetime | None = None
) -> ImportReport:
    """Record the replies in .eml, .msg, mbox files and Maildir folders."""
    recorder = ReplyRecorder(db, now=now)
    for path in paths:
        if not path.exists():
            recorder.report.review.append(ReviewItem(str(path), "no such file or folder"))
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
    """Record an answer given by phone or in person (method MANUAL, stamped now)."""
    meeting = settings.meeting(slug)
    if answer not in ANSWERS:
        raise InputError(f"answer '{answer}': give yes, no or maybe")
    try:
        address = normalize_email(email)
    except ValueError as exc:
        raise InputError(f"{exc}") from None
    note = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", note).strip()[:2000]
    with db.session() as session:
        state = ensure_state(session, meeting, settings.organizer)
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
                f"{address} is neither a contact nor invited to '{slug}'; "
                "add them with 'inviter contacts add' first"
            )
        in_audience = (
            session.scalar(audience_query(meeting.audience).where(Contact.email == address))
            is not None
        )
        forwarded = invited is None and not in_audience and bool(earlier and earlier.forwarded)
        name = contact.name if contact else (earlier.name if earlier else "")
        session.add(
            Reply(
                meeting_id=state.id,
                email=address,
                name=name,
                method="MANUAL",
                partstat=ANSWERS[answer],
                comment=note,
                sequence=state.sequence,
                dtstamp=now or utcnow(),
                forwarded=forwarded,
                source="rsvp set",
            )
        )
    return ManualAnswer(slug, address, name, ANSWERS[answer], forwarded)
