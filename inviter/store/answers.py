"""Which answer counts for each person of a meeting, and what else they said.

imip.md 18: an older reply never overrides a newer one (by SEQUENCE, then DTSTAMP; both capped
when stored, inviter.reply_store). SPEC, second edition: only verified answers count (the
attendee sent them, or staff recorded them); answers to a version before the last material
change are shown as earlier answers, not counted; a COUNTER proposes a time and answers nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from inviter.store.models import MeetingState, Reply
from inviter.store.versions import material_sequence, stored_versions


def latest_replies(
    session: Session, state: MeetingState, *, verified: bool = True, method: str | None = None
) -> dict[str, Reply]:
    """Return each attendee's newest answer by (SEQUENCE, DTSTAMP), verified or not.

    Without ``method``: the answers (REPLY and MANUAL); with ``method="COUNTER"``: proposals.
    """
    kind = Reply.method == method if method else Reply.method != "COUNTER"
    rows = session.scalars(
        select(Reply)
        .where(Reply.meeting_id == state.id, kind, Reply.verified.is_(verified))
        .order_by(Reply.sequence, Reply.dtstamp, Reply.id)
    )
    return {reply.email: reply for reply in rows}


def _newer(one: Reply, other: Reply | None) -> bool:
    return other is None or (one.sequence, one.dtstamp) > (other.sequence, other.dtstamp)


@dataclass(frozen=True)
class PersonAnswers:
    """What one person answered, as the lists show it."""

    counted: Reply | None = None  # their answer to the current version: the one that counts
    earlier: Reply | None = None  # their answer to a version before the last material change
    unverified: Reply | None = None  # newer than the counted one, sent by someone else
    counter: Reply | None = None  # their newest proposal of another time


def answers_of(session: Session, state: MeetingState) -> dict[str, PersonAnswers]:
    """Return, for everyone who answered anything, what counts and what is only shown."""
    first = max(
        material_sequence(stored_versions(session, state), state.sequence), state.answers_from
    )
    verified = latest_replies(session, state)
    doubtful = latest_replies(session, state, verified=False)
    counters = latest_replies(session, state, method="COUNTER")
    result = {}
    for email in verified.keys() | doubtful.keys() | counters.keys():
        answer = verified.get(email)
        counted = answer if answer and answer.sequence >= first else None
        earlier = answer if answer and answer.sequence < first else None
        other = doubtful.get(email)
        pending = other if other and other.sequence >= first and _newer(other, counted) else None
        proposal = counters.get(email)
        result[email] = PersonAnswers(
            counted=counted,
            earlier=earlier,
            unverified=pending,
            counter=proposal if proposal and proposal.sequence >= first else None,
        )
    return result


def current_answers(session: Session, state: MeetingState) -> dict[str, Reply]:
    """Return the answers that count now, by address (for reminders and the lists)."""
    return {e: a.counted for e, a in answers_of(session, state).items() if a.counted is not None}
