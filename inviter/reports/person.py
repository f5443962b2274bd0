"""``contacts show EMAIL``: one person's history, meeting by meeting.

Every meeting whose audience they are in, or that sent them anything: what was sent to them and
when (invitations, updates, reminders, cancellations) with the server's answer, each answer they
gave (with its time, comment, whether it came from their own address), bounces, and the
forwarded guests who answered through their invitation. Read from the records, so a contact
removed from the list still has a history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from inviter.addresses import normalize_email
from inviter.config import Settings
from inviter.contacts.audience import audience_query
from inviter.contacts.fields import ContactFields
from inviter.errors import InputError
from inviter.reports.status import RSVP_WORDS
from inviter.reports.terminal import answer_word, delivery_word, response_text
from inviter.store.database import Database
from inviter.store.meetings import get_state
from inviter.store.models import Contact, Delivery, Reply
from inviter.translation import N_, _


@dataclass(frozen=True)
class Sent:
    """One message sent (or tried) to the person."""

    kind: str  # request, reminder, cancel
    sequence: int
    status: str  # sent, failed, bounced, delayed, uncertain, pending
    at: datetime
    code: int | None  # the server's reply code, where it gave one
    response: str


@dataclass(frozen=True)
class Answer:
    """One answer recorded for the person."""

    rsvp: str  # accepted, declined, tentative, delegated, needs-action
    at: datetime
    comment: str
    verified: bool  # from their own address (SPEC: From, Sender or Reply-To)
    sender: str
    method: str  # REPLY, or COUNTER for a proposal of another time


@dataclass
class MeetingHistory:
    """The person and one meeting."""

    slug: str
    title: str
    start: datetime
    in_audience: bool
    sent: list[Sent] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    guests: list[str] = field(default_factory=list)  # forwarded guests through their invitation


@dataclass
class PersonHistory:
    """Everything the records hold about one address."""

    email: str
    contact: dict[str, str] | None
    meetings: list[MeetingHistory]


def person_history(settings: Settings, db: Database, email: str) -> PersonHistory:
    """Return the history of ``email``; InputError when the address is malformed or unknown."""
    try:
        address = normalize_email(email)
    except ValueError as exc:
        raise InputError(_("contacts show: {error}").format(error=exc)) from None
    with db.reading() as session:
        contact = session.scalar(select(Contact).where(Contact.email == address))
        meetings = [_meeting(session, settings, m, address) for m in settings.meetings]
    found = [m for m in meetings if m.in_audience or m.sent or m.answers or m.guests]
    if contact is None and not found:
        raise InputError(
            _("contacts show: {email} is not a contact and was never sent anything").format(
                email=address
            )
        )
    fields = ContactFields.of(contact).as_dict() if contact else None
    return PersonHistory(address, fields, found)


def _meeting(session: Session, settings: Settings, meeting: Any, address: str) -> MeetingHistory:
    member = session.scalar(
        audience_query(meeting.audience)
        .where(Contact.email == address)
        .with_only_columns(Contact.id)
    )
    history = MeetingHistory(meeting.slug, meeting.title, meeting.start_at, member is not None)
    state = get_state(session, meeting)
    if state is None:
        return history
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.meeting_id == state.id, Delivery.email == address)
        .order_by(Delivery.id)
    )
    history.sent = [
        Sent(r.kind, r.sequence, r.status, r.updated_at, r.code, r.response)
        for r in rows
        if r.status != "pending" or r.attempts  # a row never tried was never sent
    ]
    replies = session.scalars(
        select(Reply)
        .where(Reply.meeting_id == state.id, or_(Reply.email == address, Reply.via == address))
        .order_by(Reply.dtstamp, Reply.id)
    )
    for reply in replies:
        if reply.email == address:
            history.answers.append(
                Answer(
                    RSVP_WORDS.get(reply.partstat, reply.partstat.lower()),
                    reply.dtstamp,
                    reply.comment,
                    reply.verified,
                    reply.sender,
                    reply.method,
                )
            )
        elif reply.email not in history.guests:
            history.guests.append(reply.email)
    return history


def history_document(history: PersonHistory) -> dict[str, Any]:
    """The JSON form of a history (``contacts show --json``)."""
    return {
        "email": history.email,
        "contact": history.contact,
        "meetings": [
            {
                "slug": m.slug,
                "title": m.title,
                "start": m.start.isoformat(),
                "in_audience": m.in_audience,
                "sent": [
                    {
                        "kind": s.kind,
                        "sequence": s.sequence,
                        "status": s.status,
                        "at": s.at.isoformat(),
                        "code": s.code,
                        "response": s.response,
                    }
                    for s in m.sent
                ],
                "answers": [
                    {
                        "rsvp": a.rsvp,
                        "at": a.at.isoformat(),
                        "comment": a.comment,
                        "verified": a.verified,
                        "sender": a.sender,
                        "counter": a.method == "COUNTER",
                    }
                    for a in m.answers
                ],
                "guests": m.guests,
            }
            for m in history.meetings
        ],
    }


# What each kind of message is called, translated where shown.
_KINDS = {
    "request": N_("invitation"),
    "reminder": N_("reminder"),
    "cancel": N_("cancellation"),
}


def history_text(history: PersonHistory, *, stamp: Any) -> str:
    """The history for a person at a terminal; ``stamp`` writes a time (Oslo's clock)."""
    who = history.contact or {}
    head = f"{who.get('name') or history.email} <{history.email}>"
    if who:
        head += f" ({who.get('role')}, {who.get('municipality')})"
    else:
        head += " " + _("(no longer in the contact list)")
    lines = [head]
    if not history.meetings:
        lines.append("  " + _("in no meeting's audience, and sent nothing"))
    for meeting in history.meetings:
        audience = "" if meeting.in_audience else " " + _("(not in its audience now)")
        lines.append(f"{meeting.slug}: {meeting.title}{audience}")
        for sent in meeting.sent:
            kind = _KINDS.get(sent.kind)
            response = response_text(sent.response) if sent.response else sent.response
            said = f"{sent.code} {response}" if sent.code else response
            why = f": {said}" if said and sent.status != "sent" else ""
            what = _("{message} (version {number}) {state}").format(
                message=_(kind) if kind else sent.kind,
                number=sent.sequence + 1,
                state=delivery_word(sent.status),
            )
            lines.append(f"  {stamp(sent.at)}  {what}{why}")
        for answer in meeting.answers:
            if answer.method == "COUNTER":
                said = _("proposed another time")
            elif answer.rsvp == "needs-action":
                said = _("undecided")
            else:
                said = answer_word(answer.rsvp)
            text = _("answered: {answer}").format(answer=said)
            if answer.comment:
                text += f" «{answer.comment}»"
            if not answer.verified:
                text += " " + _("(sent by {sender}: not confirmed)").format(sender=answer.sender)
            lines.append(f"  {stamp(answer.at)}  {text}")
        for guest in meeting.guests:
            lines.append("  " + _("forwarded to {email}, who answered").format(email=guest))
        if not meeting.sent and not meeting.answers:
            lines.append("  " + _("nothing sent yet"))
    return "\n".join(lines)
